import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { type AuthTestServer, discover, register, startAuthServer } from '../auth/helpers.js';

/** Issue 15: at most CCRI_RATE_LIMIT requests a minute from one address; a 429 OperationOutcome with Retry-After above it; loopback exempt by default. */
describe('rate limiting', () => {
  let limited: TestServer;
  let loopbackFree: TestServer;
  beforeAll(async () => {
    limited = await startTestServer('sqlite', { rateLimit: 3, rateLimitLoopback: true, trustProxy: true });
    loopbackFree = await startTestServer('sqlite', { rateLimit: 3 });
  });
  afterAll(async () => {
    await limited?.cleanup();
    await loopbackFree?.cleanup();
  });

  it('answers 429 with an OperationOutcome and Retry-After past the limit, per address, and records it', async () => {
    for (let i = 0; i < 3; i++) expect((await limited.request('GET', '/STU3/metadata')).status).toBe(200);
    const refused = await limited.request('GET', '/STU3/Patient');
    expect(refused.status).toBe(429);
    expect(refused.json.resourceType).toBe('OperationOutcome');
    expect(refused.json.issue[0].code).toBe('throttled');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Outside the FHIR bases too.
    expect((await limited.request('GET', '/health/live')).status).toBe(429);
    // Another address (as a trusted proxy says) has its own allowance.
    expect((await limited.request('GET', '/STU3/metadata', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(200);
    // The refusal is in the audit trail, with its outcome.
    await limited.store.audit().index();
    const events = await limited.store.reader({ default: 'all', patients: [] }).search({ types: ['AuditEvent'], where: [], sort: [], count: 100, offset: 0, total: false });
    expect(events.rows.some((r) => r.json!.includes('"outcomeDesc":"429: Too many requests'))).toBe(true);
  });

  it('limits the explorer and the authorization server too, with a 429 and Retry-After', async () => {
    const s = await startTestServer('sqlite', { rateLimit: 2 });
    try {
      for (const url of ['/', '/auth/.well-known/openid-configuration']) {
        const at = (n: number) => s.app.inject({ method: 'GET', url, remoteAddress: `198.51.100.${n}` });
        expect((await at(url.length)).statusCode).toBeLessThan(400);
        expect((await at(url.length)).statusCode).toBeLessThan(400);
        const refused = await at(url.length);
        expect(refused.statusCode, url).toBe(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      }
    } finally {
      await s.cleanup();
    }
  });

  it('leaves loopback alone unless told otherwise', async () => {
    for (let i = 0; i < 10; i++) expect((await loopbackFree.request('GET', '/STU3/metadata')).status).toBe(200);
  });

  it('takes from X-Forwarded-For only the address the trusted proxy added, not one the client put in front of it', async () => {
    const proxied = await startTestServer('sqlite', { rateLimit: 2, trustProxy: true });
    try {
      // The proxy (on loopback) appends the address it saw; a client claiming to be loopback is still 203.0.113.50.
      const forged = { 'x-forwarded-for': '127.0.0.1, 203.0.113.50' };
      const asked = async () => (await proxied.app.inject({ method: 'GET', url: '/STU3/metadata', remoteAddress: '127.0.0.1', headers: forged })).statusCode;
      expect([await asked(), await asked(), await asked()]).toEqual([200, 200, 429]);
      // Another forged prefix is the same client.
      const other = await proxied.app.inject({ method: 'GET', url: '/STU3/metadata', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.99, 203.0.113.50' } });
      expect(other.statusCode).toBe(429);
      // A client on the internet claiming to be loopback is itself, and limited.
      const direct = async () => (await proxied.app.inject({ method: 'GET', url: '/STU3/metadata', remoteAddress: '198.51.100.20', headers: { 'x-forwarded-for': '127.0.0.1' } })).statusCode;
      expect([await direct(), await direct(), await direct()]).toEqual([200, 200, 429]);
    } finally {
      await proxied.cleanup();
    }
  });
});

/**
 * Issue 15: on the secure base, a request whose bearer token verifies is counted against the
 * client and the user the token was issued to, wherever it comes from; anything else (no token,
 * a forged or expired one, the open base) against its address.
 */
describe.each(await storeKinds())('rate limiting per token client (%s)', (kind) => {
  const SECURE = 'http://localhost:8080/secure/STU3';
  let s: TestServer;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await testIssuer(SECURE);
    s = await startTestServer(kind, { rateLimit: 3 }, undefined, undefined, issuer);
  });
  afterAll(async () => s?.cleanup());

  /** A backend service's token (its own subject), or a user's of an app with `sub`. */
  const token = (client: string, claims: Record<string, unknown> = {}) => issuer.token({ scope: 'system/*.read', sub: client, client_id: client, ...claims });
  const ask = async (from: string, bearer?: string, url = '/secure/STU3/Patient?_count=1') => {
    const res = await s.app.inject({ method: 'GET', url, remoteAddress: from, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    return { status: res.statusCode, text: res.body, retryAfter: res.headers['retry-after'] };
  };
  const statuses = async (n: number, from: string, bearer?: string, url?: string) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await ask(from, bearer, url)).status);
    return out;
  };

  it("gives two clients behind one address an allowance each, and the address's own requests a third", async () => {
    const [a, b] = [await token('client-a'), await token('client-b')];
    const nat = '198.51.100.10';
    expect(await statuses(3, nat, a)).toEqual([200, 200, 200]);
    const refused = await ask(nat, a);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain("Too many requests from this token's client and user");
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // Client B, from the same address, is untouched by A's use.
    expect(await statuses(3, nat, b)).toEqual([200, 200, 200]);
    expect((await ask(nat, b)).status).toBe(429);
    // The address's requests without a token have their own allowance.
    expect(await statuses(3, nat, undefined, '/STU3/metadata')).toEqual([200, 200, 200]);
    expect((await ask(nat, undefined, '/STU3/metadata')).status).toBe(429);
    // A's allowance follows the client to another address, and a new token of the same client shares it.
    expect((await ask('198.51.100.11', a)).status).toBe(429);
    expect((await ask('198.51.100.11', await token('client-a'))).status).toBe(429);
    expect((await ask('198.51.100.11')).status).toBe(401);
  });

  it('gives each user of one app an allowance of their own, kept across their tokens', async () => {
    const user = (sub: string) => issuer.token({ scope: 'user/*.read', sub, client_id: 'explorer-app' });
    const from = '198.51.100.50';
    expect(await statuses(3, from, await user('ann'))).toEqual([200, 200, 200]);
    // Ann's next token (a refresh, say) is still Ann's allowance.
    expect((await ask(from, await user('ann'))).status).toBe(429);
    // Bob, signed in to the same app, is not held back by Ann.
    expect(await statuses(3, from, await user('bob'))).toEqual([200, 200, 200]);
    expect((await ask(from, await user('bob'))).status).toBe(429);
    // The same user name at another app is another holder.
    expect((await ask(from, await issuer.token({ scope: 'user/*.read', sub: 'ann', client_id: 'other-app' }))).status).toBe(200);
  });

  it("counts a token that does not verify against the address, not against the client it names", async () => {
    const from = '198.51.100.20';
    const forged = await issuer.token({ scope: 'system/*.read', client_id: 'client-c' }, { key: issuer.stranger.privateKey });
    const expired = await token('client-c', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 });
    const otherAudience = await token('client-c', { aud: 'https://other.test/fhir' });
    expect(await statuses(1, from, forged)).toEqual([401]);
    expect(await statuses(1, from, expired)).toEqual([401]);
    expect(await statuses(1, from, otherAudience)).toEqual([401]);
    const refused = await ask(from, forged);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('Too many requests from this address');
    // client-c itself, whose name the forged token used, still has its whole allowance.
    expect(await statuses(3, '198.51.100.21', await token('client-c'))).toEqual([200, 200, 200]);
  });

  it('counts a token sent to the open base, which does not verify tokens, against the address', async () => {
    const d = await token('client-d');
    const from = '198.51.100.30';
    expect(await statuses(3, from, d, '/STU3/metadata')).toEqual([200, 200, 200]);
    expect((await ask(from, d, '/STU3/metadata')).status).toBe(429);
    // The same token on the secure base is client-d's own allowance.
    expect(await statuses(3, from, d)).toEqual([200, 200, 200]);
  });

  it("counts a revoked token's requests against its client: it was issued to that client", async () => {
    const revoked = await token('client-e', { jti: 'revoked-e' });
    issuer.revoked.add('revoked-e');
    expect(await statuses(3, '198.51.100.40', revoked)).toEqual([401, 401, 401]);
    expect((await ask('198.51.100.40', revoked)).text).toContain("token's client and user");
    expect((await ask('198.51.100.40', undefined, '/STU3/metadata')).status).toBe(200);
  });
});

/**
 * The same, as a user meets it: two backend clients of the embedded authorization server get
 * their tokens with openid-client and call the secure base over HTTP from one address (loopback,
 * limited here too), each with an allowance of its own.
 */
describe.each(await storeKinds())('rate limiting per token client, end to end (%s)', (kind) => {
  const LIMIT = 25;
  let t: AuthTestServer;
  beforeAll(async () => {
    t = await startAuthServer(kind, { rateLimit: LIMIT, rateLimitLoopback: true });
  });
  afterAll(async () => t?.stop());

  const backendToken = async (name: string) => {
    const { publicKey, privateKey } = await generateKeyPair('ES384');
    const client = await register(t, { name, grant: 'client_credentials', jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES384', kid: 'k1' }] }, scope: 'system/Patient.read' });
    const config = await discover(t, client.client_id, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' } as never));
    return (await oidc.clientCredentialsGrant(config, { scope: 'system/Patient.read' })).access_token;
  };
  const search = async (token: string) => {
    const res = await fetch(`${t.audience}/Patient?_count=1`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.text() };
  };

  it('gives each client its own allowance, whatever the address has used', async () => {
    const [a, b] = [await backendToken('Rate A'), await backendToken('Rate B')];
    const first = await search(a);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body).resourceType).toBe('Bundle');
    for (let i = 1; i < LIMIT; i++) expect((await search(a)).status).toBe(200);
    const refused = await search(a);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).issue[0].diagnostics).toMatch(/^Too many requests from this token's client and user: at most 25 a minute/);
    for (let i = 0; i < LIMIT; i++) expect((await search(b)).status).toBe(200);
    expect((await search(b)).status).toBe(429);
    // The address's own requests (the seeding and the token requests above were some of them) are counted apart.
    expect((await fetch(`${t.server.baseUrl}/metadata`)).status).toBe(200);
  });
});
