import type { JSONWebKeySet, JWTPayload } from 'jose';

/**
 * What the secure base needs of whoever issues its access tokens: the embedded
 * authorization server (src/auth/server/) or an external identity provider
 * (external.ts). The secure base verifies every token itself (verify.ts); the issuer
 * only says who it is, which keys sign its tokens, whether one of its tokens has been
 * revoked, and where its endpoints are. docs/security.md, "The access token".
 */
export interface TokenIssuer {
  /** The `iss` its tokens carry. */
  readonly issuer: string;
  /**
   * Its public signing keys. Asked again when a token names a key that is not among
   * them (a rotation on another node), at most once a minute.
   */
  keys(): Promise<JSONWebKeySet>;
  /**
   * Whether a token it issued, already verified, is still in force: false once its grant
   * was revoked (a code used twice, a revocation, a sign-out). Issuers that cannot say
   * leave it out, and their tokens stand until they expire.
   */
  inForce?(claims: JWTPayload): Promise<boolean>;
  /** Its endpoints, for discovery (smart-configuration, the CapabilityStatement's oauth-uris). */
  readonly endpoints: IssuerEndpoints;
  /** The SMART capabilities it offers besides what the secure base enforces (`launch-standalone`, `client-public`…). */
  readonly capabilities?: readonly string[];
  /** How its clients authenticate at its token endpoint. */
  readonly tokenEndpointAuthMethods?: readonly string[];
}

export interface IssuerEndpoints {
  authorization?: string;
  token?: string;
  registration?: string;
  introspection?: string;
  revocation?: string;
  /** Where a user manages the apps they have authorised. */
  management?: string;
  jwks?: string;
}
