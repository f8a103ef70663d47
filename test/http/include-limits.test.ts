import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Issue 15, "queries cannot run away": a page's _include and _revinclude are bounded
 * (docs/limits.md), and a page whose included resources were cut short says so in an
 * OperationOutcome entry (search mode `outcome`) rather than silently.
 */

interface Entry {
  resource: { resourceType: string; issue?: Array<{ severity: string; code: string; diagnostics: string }> };
  search?: { mode: string };
}

const observations = (from: number, n: number, patient: string) => ({
  resourceType: 'Bundle',
  type: 'transaction',
  entry: Array.from({ length: n }, (_, i) => ({
    resource: { resourceType: 'Observation', id: `o${from + i}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${patient}` } },
    request: { method: 'PUT', url: `Observation/o${from + i}` },
  })),
});

for (const kind of await storeKinds()) {
  describe(`the bounds of _include and _revinclude (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, { audit: false });
      for (const id of ['many', 'few']) expect((await s.request('PUT', `/STU3/Patient/${id}`, { body: { resourceType: 'Patient', id } })).status).toBe(201);
      expect((await s.request('POST', '/STU3', { body: observations(0, 600, 'many') })).status).toBe(200);
      expect((await s.request('POST', '/STU3', { body: observations(600, 401, 'many') })).status).toBe(200);
      expect((await s.request('POST', '/STU3', { body: observations(2000, 3, 'few') })).status).toBe(200);
    });
    afterAll(async () => s?.cleanup());

    it('includes at most 1,000 resources a page, and says the rest were left out', async () => {
      const res = await s.request('GET', '/STU3/Patient?_id=many&_revinclude=Observation:subject');
      expect(res.status).toBe(200);
      const entries = res.json.entry as Entry[];
      expect(entries.filter((e) => e.search?.mode === 'match')).toHaveLength(1);
      expect(entries.filter((e) => e.search?.mode === 'include')).toHaveLength(1000);
      const outcome = entries.find((e) => e.search?.mode === 'outcome')?.resource;
      expect(outcome?.resourceType).toBe('OperationOutcome');
      expect(outcome?.issue?.[0]).toMatchObject({ severity: 'warning', code: 'too-costly' });
      expect(outcome?.issue?.[0]?.diagnostics).toMatch(/cut at 1000/);
    });

    it('says nothing when every included resource is there', async () => {
      const res = await s.request('GET', '/STU3/Patient?_id=few&_revinclude=Observation:subject');
      const entries = res.json.entry as Entry[];
      expect(entries.filter((e) => e.search?.mode === 'include')).toHaveLength(3);
      expect(entries.some((e) => e.search?.mode === 'outcome')).toBe(false);
    });
  });
}
