import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenIssuer } from '../../src/auth/issuer.js';
import { verifier } from '../../src/auth/verify.js';

/**
 * The secure base remembers the tokens it has verified (by their hash) until they expire,
 * so that a client's next request does not check the RSA signature again. What may change
 * while a token is valid must still be seen at once: a revocation, the token's expiry, a key
 * taken out of the issuer's JWKS; and a token changed by a single character is a new token.
 */
describe('remembered token verifications', () => {
  const ISSUER = 'https://issuer.test/auth';
  const AUD = 'https://fhir.test/secure/STU3';
  let clock = Date.parse('2026-12-05T10:00:00Z');
  const now = () => clock;
  let jwks: JSONWebKeySet;
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  const revoked = new Set<string>();
  let fetches = 0;
  const issuer: TokenIssuer = {
    issuer: ISSUER,
    endpoints: {},
    keys: async () => {
      fetches++;
      return jwks;
    },
    inForce: async (claims) => !revoked.has(String(claims.jti)),
  };

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
    sign = (claims) => {
      const t = Math.floor(clock / 1000);
      return new SignJWT({ iss: ISSUER, aud: AUD, iat: t, exp: t + 600, scope: 'user/*.read', ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    };
  });

  it('asks whether a remembered token was revoked at every use', async () => {
    const v = verifier(issuer, AUD, now);
    const token = await sign({ jti: 'to-revoke' });
    await expect(v.verify(token)).resolves.toMatchObject({ scope: 'user/*.read' });
    await expect(v.verify(token)).resolves.toMatchObject({ scope: 'user/*.read' });
    revoked.add('to-revoke');
    await expect(v.verify(token)).rejects.toThrow(/revoked/);
  });

  it('refuses a remembered token once it has expired', async () => {
    const v = verifier(issuer, AUD, now);
    const started = clock;
    const token = await sign({ jti: 'expiring' });
    await expect(v.verify(token)).resolves.toBeDefined();
    clock = started + 600_000 + 30_000; // past exp, within the minute of clock skew allowed
    await expect(v.verify(token)).resolves.toBeDefined();
    clock = started + 600_000 + 61_000;
    await expect(v.verify(token)).rejects.toThrow(/expired/);
    clock = started;
  });

  it('refuses a token whose signature was altered after the genuine one was remembered', async () => {
    const v = verifier(issuer, AUD, now);
    const token = await sign({ jti: 'genuine' });
    await expect(v.verify(token)).resolves.toBeDefined();
    const [h, p, s] = token.split('.') as [string, string, string];
    const altered = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'AB' : 'AA'}`;
    await expect(v.verify(altered)).rejects.toThrow(/signature|well-formed/);
    // A claim changed under the same signature is another token, and does not verify either.
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'user/*.*' })).toString('base64url');
    await expect(v.verify(`${h}.${widened}.${s}`)).rejects.toThrow(/signature/);
  });

  it('stops a remembered token when its key leaves the issuer’s JWKS (once the keys are fetched again)', async () => {
    const v = verifier(issuer, AUD, now);
    const started = clock;
    const token = await sign({ jti: 'key-goes', exp: Math.floor(clock / 1000) + 3600 });
    await expect(v.verify(token)).resolves.toBeDefined();
    const before = fetches;
    const kept = jwks;
    jwks = { keys: [] };
    try {
      clock = started + 11 * 60_000; // the keys are trusted for ten minutes
      await expect(v.verify(token)).rejects.toThrow(/key the issuer does not publish/);
      expect(fetches).toBeGreaterThan(before);
    } finally {
      jwks = kept;
      clock = started;
    }
  });

  it('has no holder for a remembered token past its expiry, while the keys are still fresh', async () => {
    const v = verifier(issuer, AUD, now);
    const started = clock;
    const token = await sign({ jti: 'short', sub: 'bob', client_id: 'app', exp: Math.floor(clock / 1000) + 120 });
    expect(await v.holderOf(token)).toEqual({ client: 'app', subject: 'bob' });
    try {
      clock = started + 120_000 + 61_000; // past exp and the minute of skew; the keys were fetched 3 minutes ago
      const expired = v.holderOf(token);
      expect(expired).toBeInstanceOf(Promise);
      await expect(expired).rejects.toThrow(/expired/);
    } finally {
      clock = started;
    }
  });

  it("answers whom a remembered token was issued to without waiting, and never for one past its expiry or its key's", async () => {
    const v = verifier(issuer, AUD, now);
    const started = clock;
    const token = await sign({ jti: 'holder', sub: 'ann', client_id: 'app', exp: Math.floor(clock / 1000) + 3600 });
    // The first time, the signature is checked (a promise); then the same answer at once.
    const first = v.holderOf(token);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toEqual({ client: 'app', subject: 'ann' });
    const again = v.holderOf(token);
    expect(again).toEqual({ client: 'app', subject: 'ann' });
    expect(v.holderOf(token)).toBe(again);
    // A token that does not verify has no holder, remembered or not.
    const [h, p, sig] = token.split('.') as [string, string, string];
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), client_id: 'victim' })).toString('base64url');
    await expect(v.holderOf(`${h}.${other}.${sig}`)).rejects.toThrow(/signature/);
    const kept = jwks;
    try {
      // Keys due to be asked for again: not answered from memory; gone from the JWKS, refused.
      jwks = { keys: [] };
      clock = started + 11 * 60_000;
      const stale = v.holderOf(token);
      expect(stale).toBeInstanceOf(Promise);
      await expect(stale).rejects.toThrow(/key the issuer does not publish/);
      // Back in the JWKS, it is answered again (a key not among those fetched is asked for after a minute).
      jwks = kept;
      clock = started + 13 * 60_000;
      expect(await v.holderOf(token)).toEqual({ client: 'app', subject: 'ann' });
      expect(v.holderOf(token)).toEqual({ client: 'app', subject: 'ann' });
    } finally {
      jwks = kept;
      clock = started;
    }
  });
});
