import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Issue 14: links and Locations name the configured base URL whatever Host or
 * X-Forwarded-* header a request comes with, unless CCRI_TRUST_PROXY says a proxy in front
 * sets them; then they name the URL the client reached (a malformed header is ignored).
 */

const FORWARDED = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'fhir.example.nhs.uk', 'x-forwarded-for': '203.0.113.9', host: 'internal:8080' };

async function seed(s: TestServer): Promise<void> {
  for (let i = 0; i < 3; i++) await s.request('PUT', `/STU3/Patient/p${i}`, { body: { resourceType: 'Patient', id: `p${i}`, name: [{ family: 'Proxied' }] } });
}

const links = (json: { link?: Array<{ relation: string; url: string }> }) => Object.fromEntries((json.link ?? []).map((l) => [l.relation, l.url]));

describe('without CCRI_TRUST_PROXY', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { baseUrl: 'http://localhost:8080/STU3' });
    await seed(s);
  });
  afterAll(async () => s?.cleanup());

  it('names the configured base URL, whatever the request says', async () => {
    const res = await s.request('GET', '/STU3/Patient?family=proxied&_count=1', { headers: FORWARDED });
    const l = links(res.json);
    expect(l.self!.startsWith('http://localhost:8080/STU3/Patient?')).toBe(true);
    expect(l.next!.startsWith('http://localhost:8080/STU3/Patient?')).toBe(true);
    const created = await s.request('POST', '/STU3/Patient', { headers: FORWARDED, body: { resourceType: 'Patient', name: [{ family: 'Proxied' }] } });
    expect(String(created.headers.location)).toMatch(/^http:\/\/localhost:8080\/STU3\/Patient\//);
  });
});

describe('with CCRI_TRUST_PROXY', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { baseUrl: 'http://localhost:8080/fhir/STU3', trustProxy: true });
    await seed(s);
  });
  afterAll(async () => s?.cleanup());

  it('believes the forwarding headers only from a peer on this machine or a private network', async () => {
    const from = async (remoteAddress: string) => {
      const res = await s.app.inject({ method: 'GET', url: '/STU3/Patient?family=proxied&_count=1', remoteAddress, headers: FORWARDED });
      return links(JSON.parse(res.body)).self!;
    };
    expect(await from('10.1.2.3')).toMatch(/^https:\/\/fhir\.example\.nhs\.uk\/fhir\/STU3\/Patient\?/);
    expect(await from('::ffff:192.168.4.5')).toMatch(/^https:\/\/fhir\.example\.nhs\.uk\//);
    // A client on the internet sending the headers itself names nothing.
    expect(await from('203.0.113.7')).toMatch(/^http:\/\/localhost:8080\/fhir\/STU3\/Patient\?/);
    expect(await from('2001:db8::7')).toMatch(/^http:\/\/localhost:8080\//);
  });

  it('names the URL the client reached, with the configured path, and the next link works', async () => {
    const res = await s.request('GET', '/STU3/Patient?family=proxied&_count=1', { headers: FORWARDED });
    const l = links(res.json);
    expect(l.self!.startsWith('https://fhir.example.nhs.uk/fhir/STU3/Patient?')).toBe(true);
    expect(l.next!.startsWith('https://fhir.example.nhs.uk/fhir/STU3/Patient?')).toBe(true);
    expect(res.json.entry[0].fullUrl).toMatch(/^https:\/\/fhir\.example\.nhs\.uk\/fhir\/STU3\/Patient\/p\d$/);
    // The proxy strips its prefix: the next link's path and query, below the base, are followed as sent.
    const next = new URL(l.next!);
    const page2 = await s.request('GET', `/STU3${next.pathname.slice('/fhir/STU3'.length)}${next.search}`, { headers: FORWARDED });
    expect(page2.status).toBe(200);
    expect(page2.json.entry).toHaveLength(1);
    const created = await s.request('POST', '/STU3/Patient', { headers: FORWARDED, body: { resourceType: 'Patient', name: [{ family: 'Proxied' }] } });
    expect(String(created.headers.location)).toMatch(/^https:\/\/fhir\.example\.nhs\.uk\/fhir\/STU3\/Patient\/[^/]+\/_history\/1$/);
    // The client's address, as the proxy gave it, is the one recorded in the audit trail.
    const events = await s.store.audit().index().then(() => s.store.reader({ default: 'all', patients: [] }).search({ types: ['AuditEvent'], where: [], sort: [], count: 1000, offset: 0, total: false }));
    expect(events.rows.some((r) => r.json!.includes('"address":"203.0.113.9"'))).toBe(true);
  });

  it('takes one of the headers alone, and the first of a chain of proxies', async () => {
    const onlyProto = links((await s.request('GET', '/STU3/Patient?family=proxied&_count=1', { headers: { 'x-forwarded-proto': 'https' } })).json);
    expect(onlyProto.self!.startsWith('https://localhost:8080/fhir/STU3/')).toBe(true);
    const chain = links((await s.request('GET', '/STU3/Patient?family=proxied&_count=1', { headers: { 'x-forwarded-host': 'outer.example, inner.example:8443' } })).json);
    expect(chain.self!.startsWith('http://outer.example/fhir/STU3/')).toBe(true);
  });

  it('ignores a malformed header rather than put it in a link', async () => {
    for (const headers of <Array<Record<string, string>>>[
      { 'x-forwarded-host': 'evil.example/path?x=' },
      { 'x-forwarded-host': 'a b' },
      { 'x-forwarded-host': 'evil.example"><script>' },
      { 'x-forwarded-proto': 'javascript' },
      { 'x-forwarded-proto': 'https', 'x-forwarded-host': `${'a'.repeat(300)}.example` },
    ]) {
      const res = await s.request('GET', '/STU3/Patient?family=proxied&_count=1', { headers });
      expect(res.status).toBe(200);
      expect(links(res.json).self!.startsWith('http://localhost:8080/fhir/STU3/Patient?'), JSON.stringify(headers)).toBe(true);
    }
  });
});
