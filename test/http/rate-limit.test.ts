import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

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
