import { createHash } from 'node:crypto';
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify, type JWTPayload } from 'jose';
import type { TokenIssuer } from './issuer.js';

/**
 * Verifies the access tokens the secure base accepts, whoever issued them
 * (docs/security.md, "The access token"): the signature with a key of the issuer's JWKS,
 * under one of the pinned algorithms; the issuer, the audience and the times; the scope;
 * the launch patient; and, for issuers that can say, that the token was not revoked.
 */

/** Asymmetric algorithms only: `none` and HMAC (key confusion) are never accepted. */
export const ALGORITHMS = ['RS256', 'RS384', 'ES256', 'ES384'] as const;

/** The claims a verified token carries, as the secure base uses them. */
export interface VerifiedToken {
  claims: JWTPayload;
  scope: string;
  patient?: string;
  subject?: string;
  client?: string;
  fhirUser?: string;
}

/** Why a token was refused: the text goes into the 401's OperationOutcome and `error_description`. */
export class TokenRefused extends Error {}

/** How long an issuer's keys are trusted before being asked for again, and the least time between two asks. */
const KEYS_TTL_MS = 10 * 60_000;
const REFETCH_MS = 60_000;
const CLOCK_SKEW_S = 60;
/** Verified tokens remembered per verifier (a bound on memory: the whole cache is dropped when it is full). */
const VERIFIED_SIZE = 10_000;

export interface Verifier {
  verify(token: string): Promise<VerifiedToken>;
  /**
   * Whom a token was issued to: the client (its `client_id`, else `azp`) and the user (`sub`),
   * when its signature, issuer, audience and times verify; whether it was revoked and what it
   * may do are not asked. Throws TokenRefused otherwise. Whose allowance the rate limit counts
   * a request against (http/app.ts).
   */
  holderOf(token: string): Holder | Promise<Holder>;
}

/** Whom a token was issued to (Verifier.holderOf). */
export interface Holder {
  client?: string;
  subject?: string;
}

export function verifier(issuer: TokenIssuer, audience: string, now: () => number = Date.now): Verifier {
  let keys: { set: ReturnType<typeof createLocalJWKSet>; kids: Set<string>; at: number } | undefined;
  let asking: Promise<void> | undefined;
  /**
   * Tokens whose signature and claims verified, by the SHA-256 of the token (never the
   * token itself), until they expire: a client sends the same token with every request,
   * and checking an RSA signature costs more than the rest of a read by id. Whatever can
   * change while a token is valid is still asked for each request: whether it was revoked
   * (inForce) and what it may see. Dropped whenever the issuer's keys are fetched again,
   * so that a key taken out of the issuer's JWKS stops its tokens within KEYS_TTL_MS.
   */
  const verified = new Map<string, { claims: JWTPayload; until: number; holder?: Holder }>();
  const load = async () => {
    const jwks: JSONWebKeySet = await issuer.keys();
    verified.clear();
    keys = { set: createLocalJWKSet(jwks), kids: new Set(jwks.keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string')), at: now() };
  };
  /** The issuer's keys; asked for again when stale, or when a token names a key not among them (at most once a minute). */
  const keysFor = async (kid: string | undefined) => {
    const stale = !keys || now() - keys.at > KEYS_TTL_MS || (kid !== undefined && !keys.kids.has(kid) && now() - keys.at > REFETCH_MS);
    if (stale) {
      asking ??= load().finally(() => (asking = undefined));
      try {
        await asking;
      } catch {
        if (!keys) throw new TokenRefused("the issuer's keys could not be fetched");
      }
    }
    return keys!.set;
  };

  /** The token's claims once its signature, issuer, audience and times verify (remembered, as above). */
  /**
   * Whom a token verified before and still good was issued to, found without waiting (each
   * await of a request's path costs it) and worked out once; undefined when it must go
   * through claimsOf. The same object each time, for as long as the token is remembered.
   */
  const knownHolder = (token: string): Holder | undefined => {
    if (!keys || now() - keys.at > KEYS_TTL_MS) return undefined;
    const known = verified.get(hashOf(token));
    if (!known || now() >= known.until) return undefined;
    return (known.holder ??= holderIn(known.claims));
  };
  const claimsOf = async (token: string): Promise<JWTPayload> => {
    const key = hashOf(token);
    const known = verified.get(key);
    // The keys are looked at first: when they are stale, fetching them again empties the cache.
    const set = await keysFor(known ? undefined : kidOf(token)).catch((err: unknown) => {
      throw new TokenRefused(reason(err));
    });
    let claims: JWTPayload;
    if (known && verified.get(key) === known && now() < known.until) claims = known.claims;
    else {
      verified.delete(key);
      try {
        ({ payload: claims } = await jwtVerify(token, set, {
          algorithms: [...ALGORITHMS],
          issuer: issuer.issuer,
          audience,
          clockTolerance: CLOCK_SKEW_S,
          currentDate: new Date(now()),
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw new TokenRefused(reason(err));
      }
      if (typeof claims.iat === 'number' && claims.iat > now() / 1000 + CLOCK_SKEW_S) throw new TokenRefused('the token was issued in the future (iat)');
      // Past `exp` (with the same tolerance jwtVerify allows) it is verified again, and refused.
      if (verified.size >= VERIFIED_SIZE) verified.clear();
      verified.set(key, { claims, until: (claims.exp as number) * 1000 + CLOCK_SKEW_S * 1000 });
    }
    return claims;
  };

  return {
    holderOf(token) {
      return knownHolder(token) ?? claimsOf(token).then(holderIn);
    },
    async verify(token) {
      const claims = await claimsOf(token);
      const scope = claims.scope;
      if (typeof scope !== 'string') throw new TokenRefused('the token has no scope (a space-separated string)');
      const patient = stringClaim(claims, 'patient');
      if (/(^| )patient\//.test(scope) && !patient) throw new TokenRefused('the token has patient/ scopes but no patient');
      if (issuer.inForce && !(await issuer.inForce(claims))) throw new TokenRefused('the token was revoked');
      const out: VerifiedToken = { claims, scope };
      if (patient) out.patient = patient;
      const subject = stringClaim(claims, 'sub');
      if (subject) out.subject = subject;
      const client = clientClaim(claims);
      if (client) out.client = client;
      const fhirUser = stringClaim(claims, 'fhirUser');
      if (fhirUser) out.fhirUser = fhirUser;
      return out;
    },
  };
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function holderIn(claims: JWTPayload): Holder {
  const client = clientClaim(claims);
  const subject = stringClaim(claims, 'sub');
  return { ...(client ? { client } : {}), ...(subject ? { subject } : {}) };
}

function clientClaim(claims: JWTPayload): string | undefined {
  return stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp');
}

function stringClaim(claims: JWTPayload, name: string): string | undefined {
  const v = claims[name];
  return typeof v === 'string' && v.length ? v : undefined;
}

/** The `kid` a token names, if its header can be read (a malformed one fails verification anyway). */
function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** What went wrong, in words a client developer can act on (never the token itself). */
function reason(err: unknown): string {
  if (err instanceof TokenRefused) return err.message;
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (err.claim === 'iss') return 'the token was issued by another issuer';
    if (err.claim === 'aud') return 'the token is not for this server (aud)';
    return `the token's ${err.claim} claim is not valid`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept (RS256, RS384, ES256, ES384 only)';
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (err instanceof errors.JWKSNoMatchingKey) return 'the token is signed with a key the issuer does not publish';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'the token is not a well-formed JWT';
  return 'the token could not be verified';
}
