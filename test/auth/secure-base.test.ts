import { base64url, SignJWT } from 'jose';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ISSUER, type TestIssuer, testIssuer } from '../helpers/tokens.js';

/**
 * The secure base as a resource server (docs/security.md): every hostile token refused
 * with a 401 that says why, scopes that do not cover a request refused with a 403, and
 * the discovery documents. The tokens come from a test issuer with its own keys, as an
 * external identity provider's would.
 */

const SECURE = 'http://localhost:8080/secure/STU3';
let s: TestServer;
let issuer: TestIssuer;
let now = Date.now();

beforeAll(async () => {
  issuer = await testIssuer(SECURE, () => now);
  s = await startTestServer('sqlite', {}, () => now, undefined, issuer);
  for (const id of ['pa', 'pb']) await s.request('PUT', `/STU3/Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family: id }] } });
  await s.request('PUT', '/STU3/Observation/oa', { body: { resourceType: 'Observation', id: 'oa', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pa' } } });
});
afterAll(async () => s.cleanup());

const get = (url: string, token?: string, headers: Record<string, string> = {}) =>
  s.request('GET', `/secure/STU3/${url}`, { headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers } });

const unsigned = (claims: Record<string, unknown>, header: Record<string, unknown>) =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(claims))}.`;

describe('hostile tokens: 401 with WWW-Authenticate and an OperationOutcome (login)', () => {
  const good = () => ({ scope: 'user/*.read', sub: 'u1' });
  const cases: Array<[string, () => Promise<{ token?: string; headers?: Record<string, string>; url?: string }>, RegExp]> = [
    ['no token', async () => ({}), /none was sent/],
    ['a malformed token', async () => ({ token: 'not.a.jwt' }), /well-formed/],
    ['a scheme other than Bearer', async () => ({ headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), /Bearer/],
    ['a bad signature (another key under the published kid)', async () => ({ token: await issuer.token(good(), { key: issuer.stranger.privateKey }) }), /signature/],
    ['alg none', async () => ({ token: unsigned({ iss: ISSUER, aud: SECURE, exp: now / 1000 + 60, scope: 'user/*.read' }, { alg: 'none' }) }), /algorithm|well-formed/],
    [
      'an HMAC token keyed with the public key (key confusion)',
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: 'HS256', kid: 'rs-1' }));
        const payload = base64url.encode(JSON.stringify({ iss: ISSUER, aud: SECURE, exp: Math.floor(now / 1000) + 60, scope: 'user/*.read' }));
        const sig = createHmac('sha256', JSON.stringify(issuer.rsa.jwk)).update(`${header}.${payload}`).digest('base64url');
        return { token: `${header}.${payload}.${sig}` };
      },
      /algorithm/,
    ],
    [
      'an algorithm outside the pinned list (RS512)',
      async () => {
        const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return { token: await new SignJWT({ iss: ISSUER, aud: SECURE, exp: Math.floor(now / 1000) + 60, scope: 'user/*.read' }).setProtectedHeader({ alg: 'RS512', kid: 'rs-1' }).sign(privateKey) };
      },
      /algorithm/,
    ],
    ['the wrong issuer', async () => ({ token: await issuer.token({ ...good(), iss: 'https://evil.test' }) }), /another issuer/],
    ['the wrong audience', async () => ({ token: await issuer.token({ ...good(), aud: 'https://other.test/fhir' }) }), /aud/],
    ['an expired token', async () => ({ token: await issuer.token({ ...good(), exp: Math.floor(now / 1000) - 120 }) }), /expired/],
    ['nbf in the future', async () => ({ token: await issuer.token({ ...good(), nbf: Math.floor(now / 1000) + 600 }) }), /not valid yet/],
    ['iat in the future', async () => ({ token: await issuer.token({ ...good(), iat: Math.floor(now / 1000) + 600 }) }), /future/],
    ['no scope', async () => ({ token: await issuer.token({ sub: 'u1' }) }), /scope/],
    ['patient/ scopes without a patient', async () => ({ token: await issuer.token({ scope: 'patient/*.read' }) }), /patient/],
    ['a revoked token', async () => ({ token: await issuer.token({ ...good(), jti: 'revoked-1' }) }), /revoked/],
    ['a token in the query string', async () => ({ url: `Patient/pa?access_token=${await issuer.token(good())}` }), /Authorization header/],
    ['an Authorization header over 8 KB', async () => ({ headers: { authorization: `Bearer ${'a'.repeat(9000)}` } }), /too long/],
    ['a key the issuer does not publish', async () => ({ token: await issuer.token(good(), { header: { kid: 'nobody' } }) }), /key/],
  ];
  beforeAll(() => issuer.revoked.add('revoked-1'));

  it.each(cases)('%s', async (_name, make, why) => {
    const { token, headers, url } = await make();
    const res = await get(url ?? 'Patient/pa', token, headers);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="http:\/\/localhost:8080\/secure\/STU3", error="invalid_token"/);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(res.json.issue[0].code).toBe('login');
    expect(res.json.issue[0].diagnostics).toMatch(why);
    // Never echoed back.
    if (token) expect(res.text).not.toContain(token);
  });

  it('accepts a good token signed with either key', async () => {
    expect((await get('Patient/pa', await issuer.token(good()))).status).toBe(200);
    expect((await get('Patient/pa', await issuer.token(good(), { alg: 'ES384' }))).status).toBe(200);
  });

  it('asks the issuer for its keys again when a token names one it does not know, at most once a minute', async () => {
    const before = issuer.fetches;
    for (let i = 0; i < 5; i++) await get('Patient/pa', await issuer.token(good(), { header: { kid: `unknown-${i}` } }));
    expect(issuer.fetches - before).toBeLessThanOrEqual(1);
  });
});

describe('scopes: 403 with insufficient_scope when they do not cover the request', () => {
  const token = (scope: string, extra: Record<string, unknown> = {}) => issuer.token({ scope, sub: 'u1', ...extra });

  it('read and write are separate; a type needs its own scope or *', async () => {
    const obsOnly = await token('user/Observation.read');
    expect((await get('Observation/oa', obsOnly)).status).toBe(200);
    const denied = await get('Patient/pa', obsOnly);
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toMatch(/error="insufficient_scope", scope="user\/Patient.read"/);
    expect(denied.json.issue[0].code).toBe('forbidden');
    const writeOnly = await token('user/Patient.write');
    expect((await get('Patient/pa', writeOnly)).status).toBe(403);
    const created = await s.request('POST', '/secure/STU3/Patient', { body: { resourceType: 'Patient' }, headers: { authorization: `Bearer ${writeOnly}` } });
    expect(created.status).toBe(201);
    const readOnly = await token('user/Patient.read');
    expect((await s.request('POST', '/secure/STU3/Patient', { body: { resourceType: 'Patient' }, headers: { authorization: `Bearer ${readOnly}` } })).status).toBe(403);
    expect((await s.request('DELETE', '/secure/STU3/Patient/pb', { headers: { authorization: `Bearer ${readOnly}` } })).status).toBe(403);
    const both = await token('user/Patient.*');
    expect((await get('Patient/pa', both)).status).toBe(200);
  });

  it('checks each entry of a batch on its own', async () => {
    const res = await s.request('POST', '/secure/STU3', {
      body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/pa' } }, { request: { method: 'GET', url: 'Observation/oa' } }, { request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } }] },
      headers: { authorization: `Bearer ${await token('user/Patient.read')}` },
    });
    expect(res.status).toBe(200);
    expect(res.json.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual(['200 OK', '403', '403']);
  });

  it('a system search needs scopes for the types it names, and is narrowed to the types the scopes allow', async () => {
    const obsOnly = await token('user/Observation.read');
    expect((await get('?_type=Patient', obsOnly)).status).toBe(403);
    const all = await get('?_type=Observation', obsOnly);
    expect(all.status).toBe(200);
    const everything = await get('', obsOnly);
    expect(everything.status).toBe(200);
    expect(new Set(everything.json.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType))).toEqual(new Set(['Observation']));
    expect((await get('_history', obsOnly)).json.entry.every((e: { resource?: { resourceType: string } }) => !e.resource || e.resource.resourceType === 'Observation')).toBe(true);
  });

  it('a paging link made for one token is refused (403) under another', async () => {
    const a = await token('user/*.read', { sub: 'alice' });
    const b = await token('user/*.read', { sub: 'bob' });
    const page = await get('Patient?_count=1', a);
    const next = page.json.link.find((l: { relation: string }) => l.relation === 'next').url.replace('http://localhost:8080', '');
    expect((await s.request('GET', next, { headers: { authorization: `Bearer ${a}` } })).status).toBe(200);
    const replayed = await s.request('GET', next, { headers: { authorization: `Bearer ${b}` } });
    expect(replayed.status).toBe(403);
    expect(replayed.json.issue[0].diagnostics).toMatch(/another caller/);
    // And on the open base, where there is no token, a secure base's link is no good either.
    expect((await s.request('GET', next.replace('/secure/STU3', '/STU3'))).status).toBe(403);
  });
});

describe('discovery', () => {
  it('serves the CapabilityStatement without a token, with rest.security', async () => {
    const res = await get('metadata');
    expect(res.status).toBe(200);
    const security = res.json.rest[0].security;
    expect(security.service[0].coding[0].code).toBe('SMART-on-FHIR');
    const uris = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
    expect(uris.extension).toEqual(expect.arrayContaining([{ url: 'authorize', valueUri: `${ISSUER}/authorize` }, { url: 'token', valueUri: `${ISSUER}/token` }]));
    expect(res.json.implementation.url).toBe(SECURE);
    // The open base declares no security.
    expect((await s.request('GET', '/STU3/metadata')).json.rest[0].security).toBeUndefined();
  });

  it('serves .well-known/smart-configuration without a token', async () => {
    const res = await get('.well-known/smart-configuration', undefined, { accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({ authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, code_challenge_methods_supported: ['S256'] });
    expect(res.json.capabilities).toEqual(expect.arrayContaining(['permission-patient', 'permission-user']));
    expect(res.json.scopes_supported).toEqual(expect.arrayContaining(['patient/*.read', 'launch/patient', 'offline_access']));
    expect((await s.request('GET', '/STU3/.well-known/smart-configuration')).status).toBe(404);
  });

  it('answers CORS preflights on the secure base, for browser apps', async () => {
    const pre = await s.request('OPTIONS', '/secure/STU3/Patient', { headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe('the open base in read mode', () => {
  let ro: TestServer;
  beforeAll(async () => {
    ro = await startTestServer('sqlite', { openApi: 'read' });
  });
  afterAll(async () => ro.cleanup());

  it('refuses every kind of write with a 405 that points to the secure base', async () => {
    const writes: Array<[string, string, unknown?, Record<string, string>?]> = [
      ['POST', '/STU3/Patient', { resourceType: 'Patient' }],
      ['POST', '/STU3/Patient', { resourceType: 'Patient' }, { 'if-none-exist': 'identifier=x|1' }],
      ['PUT', '/STU3/Patient/p1', { resourceType: 'Patient', id: 'p1' }],
      ['PUT', '/STU3/Patient?identifier=x|1', { resourceType: 'Patient' }],
      ['DELETE', '/STU3/Patient/p1'],
      ['DELETE', '/STU3/Patient?identifier=x|1'],
      ['POST', '/STU3', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Patient' }, resource: { resourceType: 'Patient' } }] }],
    ];
    for (const [method, url, body, headers] of writes) {
      const res = await ro.request(method, url, { ...(body ? { body } : {}), ...(headers ? { headers } : {}) });
      expect(res.status, `${method} ${url}`).toBe(405);
      expect(res.json.issue[0].diagnostics, `${method} ${url}`).toMatch(/read-only.*secure/);
    }
    const batch = await ro.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'PUT', url: 'Patient/p2' }, resource: { resourceType: 'Patient', id: 'p2' } }, { request: { method: 'GET', url: 'metadata' } }] } });
    expect(batch.json.entry.map((e: { response: { status: string } }) => e.response.status.slice(0, 3))).toEqual(['405', '200']);
    expect((await ro.request('GET', '/STU3/Patient')).json.total).toBe(0);
    // Reads and read-only operations still work.
    expect((await ro.request('POST', '/STU3/Patient/$validate', { body: { resourceType: 'Patient' } })).status).toBe(200);
  });

  it('off: the open base is not served at all', async () => {
    const off = await startTestServer('sqlite', { openApi: 'off' });
    try {
      expect((await off.request('GET', '/STU3/metadata')).status).toBe(404);
    } finally {
      await off.cleanup();
    }
  });
});
