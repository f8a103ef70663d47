import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Issue 15's races (H2, H4, L7), on both stores: concurrent conditional creates and
 * updates with the same criteria make one resource; transactions that change the same
 * resources in opposite orders all succeed; concurrent create-by-update of one new id
 * never answers 409.
 */
for (const kind of await storeKinds()) describe(`concurrent writes (${kind})`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind);
  });
  afterAll(async () => s.cleanup());

  const count = async (query: string) => (await s.request('GET', `/STU3/${query}&_total=accurate&_count=0`)).json.total as number;
  const patient = (value: string) => ({ resourceType: 'Patient', identifier: [{ system: 'urn:test', value }] });

  it('H2: 50 concurrent conditional creates with one If-None-Exist make one Patient', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => s.request('POST', '/STU3/Patient', { body: patient('h2-create'), headers: { 'if-none-exist': 'identifier=urn:test|h2-create' } })),
    );
    expect(responses.map((r) => r.status).filter((st) => st !== 200 && st !== 201)).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(await count('Patient?identifier=urn:test|h2-create')).toBe(1);
    // And the next one finds it, rather than a 412 for several.
    const again = await s.request('POST', '/STU3/Patient', { body: patient('h2-create'), headers: { 'if-none-exist': 'identifier=urn:test|h2-create' } });
    expect(again.status).toBe(200);
  });

  it('H2: 50 concurrent conditional updates that match nothing make one Patient', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => s.request('PUT', '/STU3/Patient?identifier=urn:test|h2-update', { body: patient('h2-update') })));
    expect(responses.map((r) => r.status).filter((st) => st !== 200 && st !== 201)).toEqual([]);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(await count('Patient?identifier=urn:test|h2-update')).toBe(1);
  });

  it('H2: 30 concurrent transactions with an ifNoneExist entry make one Patient', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ fullUrl: 'urn:uuid:6b3c5e0a-3c1f-4a59-9f43-0d3a1e7c2b11', resource: patient('h2-tx'), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=urn:test|h2-tx' } }],
    };
    const responses = await Promise.all(Array.from({ length: 30 }, () => s.request('POST', '/STU3', { body: bundle })));
    expect(responses.map((r) => r.status).filter((st) => st !== 200)).toEqual([]);
    expect(await count('Patient?identifier=urn:test|h2-tx')).toBe(1);
  });

  it('H4: 40 concurrent transactions updating two resources in opposite orders all succeed', async () => {
    for (const id of ['h4-a', 'h4-b']) expect((await s.request('PUT', `/STU3/Patient/${id}`, { body: { resourceType: 'Patient', id } })).status).toBe(201);
    const tx = (first: string, second: string, n: number) => ({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [first, second].map((id) => ({ resource: { resourceType: 'Patient', id, gender: n % 2 ? 'male' : 'female' }, request: { method: 'PUT', url: `Patient/${id}` } })),
    });
    const responses = await Promise.all(Array.from({ length: 40 }, (_, n) => s.request('POST', '/STU3', { body: n % 2 ? tx('h4-a', 'h4-b', n) : tx('h4-b', 'h4-a', n) })));
    expect(responses.map((r) => r.status).filter((st) => st !== 200)).toEqual([]);
    const a = await s.request('GET', '/STU3/Patient/h4-a');
    expect(a.json.meta.versionId).toBe('41');
  });

  it('L7: 20 concurrent create-by-updates of one new id: one 201, the rest 200, no 409', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => s.request('PUT', '/STU3/Patient/l7-new', { body: { resourceType: 'Patient', id: 'l7-new' } })));
    expect(responses.map((r) => r.status).sort()).toEqual([200, ...Array(19).fill(200)].map((x, i) => (i === 0 ? 201 : x)).sort());
    expect((await s.request('GET', '/STU3/Patient/l7-new')).json.meta.versionId).toBe('20');
  });
});
