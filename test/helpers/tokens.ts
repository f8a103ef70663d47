import { type CryptoKey, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { TokenIssuer } from '../../src/auth/issuer.js';

/**
 * A token issuer for tests: its own keys (RS256 and ES384), a JWKS the secure base
 * fetches, and tokens minted with whatever claims, keys and algorithms a test needs,
 * good or hostile.
 */
export interface TestIssuer extends TokenIssuer {
  /** A token for the secure base at `audience`: `scope`, an hour long, signed with the RS256 key, unless `claims` say otherwise. */
  token(claims: JWTPayload, options?: { alg?: 'RS256' | 'ES384'; header?: Record<string, unknown>; key?: CryptoKey }): Promise<string>;
  /** How often the secure base asked for the keys. */
  fetches: number;
  /** Public keys of a key pair the issuer does not publish (to sign with). */
  stranger: { privateKey: CryptoKey; jwk: JWK };
  rsa: { privateKey: CryptoKey; jwk: JWK };
  revoked: Set<string>;
}

export const ISSUER = 'https://issuer.test/auth';

export async function testIssuer(audience: string, now: () => number = Date.now): Promise<TestIssuer> {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const es = await generateKeyPair('ES384', { extractable: true });
  const other = await generateKeyPair('RS256', { extractable: true });
  const rsJwk = { ...(await exportJWK(rs.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
  const esJwk = { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES384', use: 'sig' };
  const jwks: JSONWebKeySet = { keys: [rsJwk, esJwk] };
  const issuer: TestIssuer = {
    issuer: ISSUER,
    endpoints: { authorization: `${ISSUER}/authorize`, token: `${ISSUER}/token`, jwks: `${ISSUER}/jwks` },
    fetches: 0,
    revoked: new Set(),
    stranger: { privateKey: other.privateKey, jwk: { ...(await exportJWK(other.publicKey)), kid: 'rs-1' } },
    rsa: { privateKey: rs.privateKey, jwk: rsJwk },
    keys: async () => {
      issuer.fetches++;
      return jwks;
    },
    inForce: async (claims) => !issuer.revoked.has(String(claims.jti)),
    async token(claims, options = {}) {
      const alg = options.alg ?? 'RS256';
      const key = options.key ?? (alg === 'RS256' ? rs.privateKey : es.privateKey);
      const t = Math.floor(now() / 1000);
      return new SignJWT({ iss: ISSUER, aud: audience, iat: t, exp: t + 3600, jti: `j${Math.random()}`, ...claims })
        .setProtectedHeader({ alg, kid: alg === 'RS256' ? 'rs-1' : 'es-1', ...options.header })
        .sign(key);
    },
  };
  return issuer;
}
