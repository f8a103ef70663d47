import { Readable } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

const MB = 1024 * 1024;

/**
 * A gzip bomb: `members` gzip members of 16 MB of zeros each, one after the other (a gzip
 * stream may hold several; each inflates in turn). About 16 KB per member compressed.
 */
function gzipBomb(members: number): Buffer {
  const member = gzipSync(Buffer.alloc(16 * MB));
  return Buffer.concat(Array.from({ length: members }, () => member));
}

/**
 * Issue 15, big requests: the body limit holds for every content type, chunked or not, and for
 * the inflated size of a compressed body; gzip and deflate bodies are accepted, other
 * encodings refused (415).
 */
for (const kind of await storeKinds()) {
  describe(`request bodies (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, { bodyLimit: MB });
    });
    afterAll(async () => s?.cleanup());

    it('accepts a gzip or deflate body and reads it inflated', async () => {
      const patient = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Squeezed' }] });
      const zipped = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' }, payload: gzipSync(patient) });
      expect(zipped.statusCode).toBe(201);
      const deflated = await s.app.inject({ method: 'PUT', url: '/STU3/Patient/d1', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'deflate' }, payload: deflateSync(JSON.stringify({ resourceType: 'Patient', id: 'd1', name: [{ family: 'Deflated' }] })) });
      expect(deflated.statusCode).toBe(201);
      const found = await s.request('GET', '/STU3/Patient?family=Squeezed,Deflated');
      expect(found.json.total).toBe(2);
      // XML, and a form-encoded _search, the same way.
      const xml = '<Patient xmlns="http://hl7.org/fhir"><name><family value="Squeezed"/></name></Patient>';
      expect((await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+xml', 'content-encoding': 'gzip' }, payload: gzipSync(xml) })).statusCode).toBe(201);
      const form = await s.app.inject({ method: 'POST', url: '/STU3/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, payload: gzipSync('family=Squeezed') });
      expect(form.statusCode).toBe(200);
      expect(form.json().total).toBe(2);
    });

    it('answers a gzip bomb 413, inflating no more than the limit', async () => {
      // 1 GB inflated, 1 MB sent (under the limit as sent).
      const bomb = gzipBomb(64);
      expect(bomb.length).toBeLessThan(MB + 1);
      const before = process.memoryUsage();
      const res = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' }, payload: bomb });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'too-costly' }] });
      const after = process.memoryUsage();
      // Nothing near the inflated gigabyte was held.
      expect(after.rss - before.rss).toBeLessThan(256 * MB);
      expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(256 * MB);
      // Sent chunked (no Content-Length), the same.
      const chunked = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' }, payload: Readable.from([bomb.subarray(0, 4096), bomb.subarray(4096)]) });
      expect(chunked.statusCode).toBe(413);
      // The server goes on.
      expect((await s.request('GET', '/STU3/Patient?_count=1')).status).toBe(200);
    });

    it('refuses another encoding with 415 naming the accepted ones, and a body that does not inflate with 400', async () => {
      for (const encoding of ['br', 'compress', 'gzip, gzip', 'zstd']) {
        const res = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': encoding }, payload: gzipSync('{}') });
        expect(res.statusCode, encoding).toBe(415);
        expect(res.headers['accept-encoding']).toBe('gzip, deflate');
        expect(res.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] });
      }
      const corrupt = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' }, payload: Buffer.from('this is not gzip at all') });
      expect(corrupt.statusCode).toBe(400);
      expect(corrupt.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'invalid' }] });
      expect(corrupt.json().issue[0].diagnostics).toMatch(/not valid gzip/);
      // `identity` is no encoding at all.
      const plain = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'identity' }, payload: JSON.stringify({ resourceType: 'Patient' }) });
      expect(plain.statusCode).toBe(201);
    });

    it('holds every content type to the body limit, chunked or not', async () => {
      const big = 'x'.repeat(MB + 1);
      for (const type of ['application/fhir+json', 'application/json', 'application/fhir+xml', 'application/x-www-form-urlencoded', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', undefined]) {
        const headers: Record<string, string> = type ? { 'content-type': type } : {};
        const sized = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers, payload: big });
        expect(sized.statusCode, `${type}`).toBe(413);
        expect(sized.json().resourceType).toBe('OperationOutcome');
        const chunked = await s.app.inject({ method: 'POST', url: '/STU3/Patient', headers: { ...headers, 'transfer-encoding': 'chunked' }, payload: Readable.from([big.slice(0, 1000), big.slice(1000)]) });
        expect(chunked.statusCode, `${type}, chunked`).toBe(413);
      }
      // Outside the FHIR bases too: the sign-in forms (16 KB), compressed or not.
      for (const [payload, headers] of [
        ['a='.padEnd(32 * 1024, 'x'), {}],
        [gzipSync('a='.padEnd(32 * 1024, 'x')), { 'content-encoding': 'gzip' }],
      ] as const) {
        const outside = await s.app.inject({ method: 'POST', url: '/auth/interaction/nope/login', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload });
        expect(outside.statusCode).toBe(413);
        expect(outside.json().resourceType).toBe('OperationOutcome');
      }
    });
  });
}
