import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * A transaction's entries of one method run together and their writes reach the store as
 * one batch (src/interactions/write-gather.ts). Each entry must still be answered as if it
 * ran alone, in its place, and a failure must name the entry it belongs to.
 */
for (const kind of await storeKinds()) {
  describe(`transaction entries written together (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => s.cleanup());

    const patient = (id: string, family: string) => ({ resourceType: 'Patient', id, name: [{ family }] });
    const put = (id: string, family: string, extra: Record<string, unknown> = {}) => ({ resource: patient(id, family), request: { method: 'PUT', url: `Patient/${id}`, ...extra } });
    const post = (uuid: string, family: string) => ({ fullUrl: `urn:uuid:${uuid}`, resource: { resourceType: 'Patient', name: [{ family }] }, request: { method: 'POST', url: 'Patient' } });
    const tx = (entry: unknown[]) => s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry } });

    it('answers each of 250 entries (three waves) with its own resource and version, in the Bundle order', async () => {
      const entry = Array.from({ length: 250 }, (_, i) => (i % 2 ? put(`w${i}`, `Put${i}`) : post(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `Post${i}`)));
      const res = await tx(entry);
      expect(res.status).toBe(200);
      expect(res.json.entry).toHaveLength(250);
      for (const [i, e] of (res.json.entry as Array<{ response: { status: string; location: string } }>).entries()) {
        expect(e.response.status).toBe('201 Created');
        if (i % 2) expect(e.response.location).toMatch(new RegExp(`/Patient/w${i}/_history/1$`));
        const read = await s.request('GET', e.response.location.replace(/^http:\/\/localhost:8080/, '').replace(/\/_history\/1$/, ''));
        expect(read.json.name[0].family).toBe(i % 2 ? `Put${i}` : `Post${i}`);
      }
    });

    it('names the entry whose If-Match fails among entries written together, and writes none of them', async () => {
      for (const id of ['m1', 'm2', 'm3']) expect((await s.request('PUT', `/STU3/Patient/${id}`, { body: patient(id, 'Before') })).status).toBe(201);
      const res = await tx([put('m1', 'After', { ifMatch: 'W/"1"' }), put('m2', 'After', { ifMatch: 'W/"1"' }), put('m3', 'After', { ifMatch: 'W/"7"' }), put('m4', 'After')]);
      expect(res.status).toBe(412);
      expect(res.json.issue[0].diagnostics).toMatch(/^Transaction failed on Bundle\.entry\[2\] \(PUT Patient\/m3\)/);
      for (const id of ['m1', 'm2', 'm3']) expect((await s.request('GET', `/STU3/Patient/${id}`)).json.name[0].family).toBe('Before');
      expect((await s.request('GET', '/STU3/Patient/m4')).status).toBe(404);
    });

    it('names the first entry that fails when one fails before writing and another at its write', async () => {
      expect((await s.request('PUT', '/STU3/Patient/f1', { body: patient('f1', 'Before') })).status).toBe(201);
      const res = await tx([put('f0', 'Fine'), { resource: { resourceType: 'Patient', id: 'f2', gender: 'banana' }, request: { method: 'PUT', url: 'Patient/f2' } }, put('f1', 'After', { ifMatch: 'W/"5"' })]);
      expect(res.status).toBe(400);
      expect(res.json.issue[0].diagnostics).toMatch(/^Transaction failed on Bundle\.entry\[1\] \(PUT Patient\/f2\)/);
      expect((await s.request('GET', '/STU3/Patient/f0')).status).toBe(404);
    });

    it('lets a GET entry read what the entries before it wrote', async () => {
      const res = await tx([{ request: { method: 'GET', url: 'Patient?family=Waves' } }, put('g1', 'Waves'), put('g2', 'Waves')]);
      expect(res.status).toBe(200);
      expect(res.json.entry[0].resource.total).toBe(2);
    });
  });
}
