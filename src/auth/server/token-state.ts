import { createLocalJWKSet, type JSONWebKeySet, jwtVerify, type JWTPayload } from 'jose';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuthStore } from '../../store/store.js';
import { findContext } from './launch-context.js';
import { SIGNING_ALG } from './keys.js';

/**
 * Whether the server's JWT access tokens are still in force, and what oidc-provider does
 * not do for them: it stores no JWT access token, so it can neither introspect nor
 * revoke one. A token is in force while its grant exists (a code used twice, a
 * revocation or a sign-out removes the grant with everything issued under it) and its
 * `jti` has not been revoked (client-credentials tokens, which have no grant).
 */
export class TokenState {
  private readonly cache = new Map<string, { at: number; value: boolean }>();

  constructor(
    private readonly auth: AuthStore,
    /** How long an answer is reused on this node (another node's revocation is seen within it). */
    private readonly cacheMs = 1000,
  ) {}

  async inForce(claims: JWTPayload): Promise<boolean> {
    const grant = typeof claims.grant === 'string' ? claims.grant : undefined;
    const jti = typeof claims.jti === 'string' ? claims.jti : undefined;
    // Only a client's own token (backend services) stands without a grant.
    if (!grant && (claims.sub === undefined || claims.sub !== claims.client_id)) return false;
    const key = `${grant ?? ''} ${jti ?? ''}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.cacheMs) return hit.value;
    const [grantFound, revoked] = await Promise.all([grant ? this.auth.get('Grant', grant) : Promise.resolve(true), jti ? this.auth.get('RevokedToken', jti) : Promise.resolve(undefined)]);
    const value = !!grantFound && !revoked;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: now, value });
    return value;
  }

  /** Forgets cached answers (this node revoked something). */
  forget(): void {
    this.cache.clear();
  }

  /** Revokes a token: its grant, or (having none) the token itself until it expires. */
  async revoke(claims: JWTPayload): Promise<void> {
    if (typeof claims.grant === 'string') await this.auth.revokeGrant(claims.grant);
    else if (typeof claims.jti === 'string') await this.auth.put('RevokedToken', claims.jti, { payload: {}, expiresAt: (claims.exp ?? 0) * 1000 });
    this.forget();
  }
}

/** Koa middleware run around oidc-provider's own (Provider.use), seeing its context. */
export type ProviderMiddleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

export interface StructuredTokenOptions {
  issuer: string;
  audience: string;
  state: TokenState;
  auth: AuthStore;
  keys: () => Promise<JSONWebKeySet>;
}

/**
 * oidc-provider answers `unsupported_token_type` when a JWT is introspected or revoked,
 * after it has authenticated the client. This middleware, running around its routes,
 * answers instead (RFC 7662, RFC 7009): a valid token of ours, in force, and the caller
 * may see it (its own, or any for a confidential client) is active; anything else is not.
 */
export function structuredTokens(o: StructuredTokenOptions): ProviderMiddleware {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const route = ctx.oidc?.route;
    if ((route !== 'introspection' && route !== 'revocation') || (ctx.body as { error?: string } | undefined)?.error !== 'unsupported_token_type') return;
    const client = ctx.oidc.client;
    if (!client) return;
    const claims = await verified(o, String(ctx.oidc.params?.token ?? ''));
    ctx.status = 200;
    if (route === 'revocation') {
      // RFC 7009: a token that is not the client's, or not valid, is answered 200 all the same.
      if (claims && claims.client_id === client.clientId) await o.state.revoke(claims);
      ctx.body = '';
      return;
    }
    const maySee = !!claims && (claims.client_id === client.clientId || client.clientAuthMethod !== 'none');
    if (!claims || !maySee || !(await o.state.inForce(claims))) {
      ctx.body = { active: false };
      return;
    }
    const context = typeof claims.grant === 'string' ? await findContext(o.auth, claims.grant) : undefined;
    ctx.body = { ...claims, active: true, token_type: 'Bearer', ...(context?.patient && !claims.patient ? { patient: context.patient } : {}) };
  };
}

/** The claims of a JWT access token this server signed, for its audience, not expired; undefined otherwise. */
async function verified(o: StructuredTokenOptions, token: string): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(await o.keys()), { issuer: o.issuer, audience: o.audience, algorithms: [SIGNING_ALG], typ: 'at+jwt' });
    return payload;
  } catch {
    return undefined;
  }
}
