import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CursorState, signCursor } from '../../src/interactions/cursor.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/** Every request is hostile until proven otherwise: bad input gets a clear 4xx, never a 500. */
for (const kind of await storeKinds()) describe(`hostile and malformed input (${kind})`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s.cleanup());

  const xml = { 'content-type': 'application/fhir+xml' };

  it.each([
    ['malformed JSON', '{"resourceType":"Patient",', {}],
    ['JSON that is not an object', '[1,2,3]', {}],
    ['JSON null', 'null', {}],
    ['malformed XML', '<Patient xmlns="http://hl7.org/fhir"><name>', xml],
    ['XML with an internal entity', '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "boom">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>', xml],
    ['XML with an external entity', '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>', xml],
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Patient xmlns="http://hl7.org/fhir"><id value="&lol3;"/></Patient>',
      xml,
    ],
    ['XML in the wrong namespace', '<Patient xmlns="http://example.org"/>', xml],
    ['an unknown resource type', '{"resourceType":"Spaceship"}', {}],
    ['a prototype-pollution key', '{"resourceType":"Patient","__proto__":{"admin":true}}', {}],
    ['a NUL character in a string', '{"resourceType":"Patient","name":[{"family":"a\\u0000b"}]}', {}],
    ['an unpaired surrogate in a string', '{"resourceType":"Patient","name":[{"family":"\\ud800"}]}', {}],
    ['a deeply nested body', `{"resourceType":"Patient","extension":${'[{"url":"x","extension":'.repeat(2000)}[]${'}]'.repeat(2000)}}`, {}],
  ])('%s -> 400 OperationOutcome', async (_name, body, headers) => {
    const res = await s.request('POST', '/STU3/Patient', { body, headers: headers as Record<string, string> });
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
    expect(res.text).not.toContain('root:');
    expect(res.text).not.toContain('lollollol');
  });

  it.each([
    ['Accept', '/nowhere', { accept: 'application/fhir+xml' }, 'xml'],
    ['_format', '/!STU3/Patient?_format=xml', {}, 'xml'],
    ['no preference', '/nowhere', {}, 'json'],
  ])('a 404 outside the FHIR API honours the format asked for (%s)', async (_name, url, headers, format) => {
    const res = await s.request('GET', url, { headers: headers as Record<string, string> });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain(`application/fhir+${format}`);
    if (format === 'xml') expect(res.text).toMatch(/^(<\?xml[^>]*\?>\s*)?<OperationOutcome xmlns="http:\/\/hl7\.org\/fhir">/);
    else expect(res.json.resourceType).toBe('OperationOutcome');
  });

  it.each([
    ['If-Match', 'POST', '/STU3/Patient', { 'if-match': '*' }],
    ['If-None-Match', 'GET', '/STU3/Patient/x', { 'if-none-match': 'nonsense' }],
    ['a path that is not percent-encoding', 'GET', '/STU3/Patient/%E0%A4%A', {}],
  ])('a bad %s is refused in the format asked for', async (_name, method, url, headers) => {
    const res = await s.request(method, url, { headers: { ...headers, accept: 'application/fhir+xml' }, ...(method === 'POST' ? { body: { resourceType: 'Patient' } } : {}) });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/fhir+xml');
    expect(res.text).toMatch(/^(<\?xml[^>]*\?>\s*)?<OperationOutcome xmlns="http:\/\/hl7\.org\/fhir">/);
  });

  it('a paging cursor whose signature has a character outside ASCII is a 400, not a 500', async () => {
    for (let i = 0; i < 3; i++) expect((await s.request('PUT', `/STU3/Basic/cur${i}`, { body: { resourceType: 'Basic', id: `cur${i}`, code: { text: 'c' } } })).status).toBeLessThan(300);
    const page = await s.request('GET', '/STU3/Basic?_count=1');
    const next = (page.json.link as { relation: string; url: string }[]).find((l) => l.relation === 'next')!.url.replace(/^https?:\/\/[^/]+/, '');
    expect((await s.request('GET', next)).status).toBe(200);
    // The same number of characters as the MAC, but more bytes (found by the fuzzer).
    const altered = next.replace(/(_cursor=[^.&]*\.)./, '$1%C2%80');
    expect(altered).not.toBe(next);
    const res = await s.request('GET', altered);
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
  });

  it('nothing was stored by any of them', async () => {
    const res = await s.request('GET', '/STU3/Patient');
    expect(res.json.total).toBe(0);
  });

  it('refuses a resourceType that disagrees with the URL, and an id that disagrees', async () => {
    const wrongType = await s.request('PUT', '/STU3/Patient/a', { body: { resourceType: 'Organization', id: 'a' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.issue[0].expression).toEqual(['resourceType']);
    const wrongId = await s.request('PUT', '/STU3/Patient/a', { body: { resourceType: 'Patient', id: 'b' } });
    expect(wrongId.status).toBe(400);
    expect(wrongId.json.issue[0].expression).toEqual(['Patient.id']);
  });

  it.each([
    ['/STU3/Patient/%E0%A4%A'],
    ['/STU3/Patient?_count=1e9'],
    ['/STU3/Patient?birthdate=gt2020-02-30'],
    ['/STU3/Patient?birthdate=zz2020'],
    ['/STU3/Patient?_cursor=forged.signature'],
    ['/STU3/Patient?_sort=family&_summary=maybe'],
    ['/STU3/Observation?value-quantity=abc'],
    ['/STU3/Patient?_has:Observation=x'],
    [`/STU3/Patient?family=${Array.from({ length: 2000 }, (_, i) => `a${i}`).join(',')}`],
    ['/STU3/Patient?family=%00'],
    ['/STU3/Patient?identifier=a%00b'],
    [`/STU3/Patient?_id=${Array.from({ length: 2000 }, (_, i) => `a${i}`).join(',')}`],
    // Patient.link refers to a Patient, so these chain and nest as deep as they are written.
    [`/STU3/Patient?${'link.'.repeat(300)}name=x`],
    [`/STU3/Patient?${'_has:Patient:link:'.repeat(300)}name=x`],
  ])('GET %s -> 400', async (url) => {
    const res = await s.request('GET', url);
    expect(res.status).toBe(400);
    expect(res.json.resourceType).toBe('OperationOutcome');
  });

  it('answers many ORed values, long chains and deep _has nesting without failing', async () => {
    const many = Array.from({ length: 200 }, (_, i) => `a${i}`).join(',');
    for (const url of [
      `/STU3/Patient?family=${many}`,
      `/STU3/Patient?identifier=${many}`,
      `/STU3/Patient?${'_has:Patient:link:'.repeat(10)}name=x`,
      `/STU3/Patient?${'link.'.repeat(10)}name=x`,
      `/STU3/Patient?_sort=${Array(100).fill('family').join(',')}`,
      `/STU3/Patient?name=${'x'.repeat(5000)}`,
    ]) {
      const res = await s.request('GET', url);
      expect(res.status, url.slice(0, 80)).toBe(200);
    }
  });

  it('rejects a tampered paging cursor', async () => {
    for (let i = 0; i < 3; i++) await s.request('POST', '/STU3/Organization', { body: { resourceType: 'Organization', name: `Org ${i}` } });
    const page = await s.request('GET', '/STU3/Organization?_count=1');
    const next: string = page.json.link.find((l: { relation: string }) => l.relation === 'next').url;
    const path = next.replace('http://localhost:8080', '');
    expect((await s.request('GET', path)).status).toBe(200);
    const [payload, sig] = new URL(next).searchParams.get('_cursor')!.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ o: 0 })).toString('base64url');
    expect((await s.request('GET', `/STU3/Organization?_count=1&_cursor=${forged}.${sig}`)).status).toBe(400);
    // The same cursor on another query is refused too.
    expect((await s.request('GET', `/STU3/Organization?_count=2&_cursor=${payload}.${sig}`)).status).toBe(400);
  });

  it('refuses a signed cursor whose position does not fit its query: a 400, never a 500', async () => {
    // Signed with the test server's secret, as only a server (or one of another release) could.
    const context = { config: { cursorSecret: 'test-secret' }, caller: { kind: 'anonymous' } } as unknown as Parameters<typeof signCursor>[0];
    const query: Array<[string, string]> = [['_count', '1'], ['_sort', '-name']];
    const url = (state: object) => `/STU3/Organization?_count=1&_sort=-name&_cursor=${signCursor(context, 'search Organization', query, state as CursorState)}`;
    expect((await s.request('GET', url({ o: 1, a: 1, k: ['org 1'] }))).status).toBe(200);
    for (const state of [
      { o: 1, a: 1 }, // a sorted search's position without its key
      { o: 1, a: 1, k: ['org 1', 'extra'] },
      { o: 1, a: 1, k: [{ x: 1 }] },
      { o: 1, a: 1.5, k: ['org 1'] },
      { o: 1, k: ['org 1'], p: 1 }, // backwards from no row
      { o: 1, a: 1, k: ['org 1'], p: 2 },
    ]) {
      const res = await s.request('GET', url(state));
      expect(res.status, JSON.stringify(state)).toBe(400);
      expect(res.json.issue[0].expression).toEqual(['_cursor']);
    }
    // An offset cursor of an earlier release still pages.
    expect((await s.request('GET', url({ o: 1 }))).status).toBe(200);
  });
});
