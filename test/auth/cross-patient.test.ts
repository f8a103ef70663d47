import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePopulation } from '../../src/data/generate/population.js';
import { writeResources } from '../../src/data/write.js';
import { EVERYTHING } from '../../src/search/access.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/**
 * The cross-patient matrix of issue 10: with a `patient/*.read` token for patient A and
 * records for A and B (the 14 Care Connect types of version 3, generated), nothing of
 * B's is returned by any read, search, include, chain, `_has`, history, paging link or
 * transaction entry, and every total counts only A's. Types that have no Patient
 * compartment are readable in full. On both stores.
 */

const SECURE = 'http://localhost:8080/secure/STU3';
/** The 14 of version 3 that lie in a patient's compartment; the other five have none. */
const COMPARTMENT_TYPES = ['Patient', 'Observation', 'Encounter', 'Condition', 'Procedure', 'AllergyIntolerance', 'Immunization', 'MedicationRequest', 'MedicationStatement'];
const SHARED_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'];

interface Entry {
  resource?: { resourceType: string; id: string };
  response?: { status: string };
  search?: { mode: string };
}

for (const kind of await storeKinds()) {
  describe(`a patient/*.read token for patient A sees nothing of patient B (${kind})`, () => {
    let s: TestServer;
    let issuer: TestIssuer;
    let a: string;
    let b: string;
    /** `Type/id` of everything in B's compartment, and how many of each type are A's. */
    const ofB = new Set<string>();
    const countOfA = new Map<string, number>();
    let token: string;

    beforeAll(async () => {
      issuer = await testIssuer(SECURE);
      s = await startTestServer(kind, {}, undefined, undefined, issuer);
      await writeResources(s.store, generatePopulation({ patients: 2, seed: 11, idPrefix: 'x-' }));
      const patients = (await s.store.reader(EVERYTHING).search({ types: ['Patient'], where: [], sort: [], count: 10, offset: 0, total: false })).rows.map((r) => r.id);
      [a, b] = patients as [string, string];
      // Every compartment type gets a resource of each patient's, whatever the generator drew.
      const extra = (type: string, id: string, patient: string): Record<string, unknown> => {
        const ref = { reference: `Patient/${patient}` };
        const code = { coding: [{ system: 'http://snomed.info/sct', code: '38341003' }] };
        const bodies: Record<string, Record<string, unknown>> = {
          Observation: { status: 'final', code, subject: ref },
          Encounter: { status: 'finished', subject: ref },
          Condition: { code, subject: ref },
          Procedure: { status: 'completed', code, subject: ref },
          AllergyIntolerance: { patient: ref, code },
          Immunization: { status: 'completed', notGiven: false, vaccineCode: code, patient: ref, primarySource: true },
          MedicationRequest: { intent: 'order', subject: ref, medicationCodeableConcept: code },
          MedicationStatement: { status: 'active', subject: ref, taking: 'y', medicationCodeableConcept: code },
        };
        return { resourceType: type, id, ...bodies[type] };
      };
      await writeResources(s.store, COMPARTMENT_TYPES.filter((t) => t !== 'Patient').flatMap((t) => [extra(t, `extra-a-${t}`, a), extra(t, `extra-b-${t}`, b)]) as never);
      const reader = s.store.reader(EVERYTHING);
      for (const [patient, out] of [[b, 'b'], [a, 'a']] as const) {
        const page = await reader.search({ types: COMPARTMENT_TYPES, where: [{ kind: 'compartment', patient }], sort: [], count: 10_000, offset: 0, total: false });
        for (const r of page.rows) {
          if (out === 'b') ofB.add(`${r.type}/${r.id}`);
          else countOfA.set(r.type, (countOfA.get(r.type) ?? 0) + 1);
        }
      }
      token = await issuer.token({ scope: 'patient/*.read', patient: a, sub: 'user-a' });
    });
    afterAll(async () => s.cleanup());

    const get = async (url: string) => {
      const res = await s.request('GET', url.startsWith('http') ? url.replace('http://localhost:8080', '') : `/secure/STU3/${url}`, { headers: { authorization: `Bearer ${token}` } });
      return res;
    };
    /** The entries' resources, none of them B's. */
    const nothingOfB = (entries: Entry[] | undefined, where: string) => {
      const keys = (entries ?? []).filter((e) => e.resource).map((e) => `${e.resource!.resourceType}/${e.resource!.id}`);
      expect(keys.filter((k) => ofB.has(k)), where).toEqual([]);
      return keys;
    };

    it('has records for both patients of every compartment type', () => {
      for (const t of COMPARTMENT_TYPES) {
        expect(countOfA.get(t), t).toBeGreaterThan(0);
        expect([...ofB].some((k) => k.startsWith(`${t}/`)), t).toBe(true);
      }
    });

    it("reads, vreads and instance histories of B's resources answer 404", async () => {
      for (const key of ofB) {
        const [type, id] = key.split('/') as [string, string];
        expect((await get(`${type}/${id}`)).status, key).toBe(404);
        expect((await get(`${type}/${id}/_history/1`)).status, key).toBe(404);
        expect((await get(`${type}/${id}/_history`)).status, key).toBe(404);
      }
      expect((await get(`Patient/${a}`)).status).toBe(200);
    });

    it('searches of every type, with and without a patient parameter, count only A’s', async () => {
      for (const type of COMPARTMENT_TYPES) {
        const all = await get(`${type}?_count=100`);
        expect(all.status, type).toBe(200);
        nothingOfB(all.json.entry, type);
        expect(all.json.total, type).toBe(countOfA.get(type));
        if (type === 'Patient') {
          expect((await get(`Patient?_id=${b}`)).json.total).toBe(0);
          continue;
        }
        // Every compartment type of the 14 has a `patient` search parameter.
        const param = 'patient';
        const theirs = await get(`${type}?${param}=${b}`);
        expect(theirs.status, type).toBe(200);
        expect(theirs.json.total, `${type}?${param}=B`).toBe(0);
        expect((await get(`${type}?${param}=${a}`)).json.total, `${type}?${param}=A`).toBe(countOfA.get(type));
        expect((await get(`Patient/${b}/${type}`)).json.total, `Patient/B/${type}`).toBe(0);
      }
      for (const type of SHARED_TYPES) expect((await get(type)).json.total, type).toBeGreaterThan(0);
    });

    it('includes, revincludes (with :iterate), chains and _has never reach B', async () => {
      const urls = [
        `Patient?_revinclude=*&_count=100`,
        `Patient?_revinclude:iterate=*&_include:iterate=*&_count=100`,
        `Observation?_include=*&_count=100`,
        `Encounter?_include=Encounter:patient&_revinclude=Observation:encounter&_count=100`,
        `Practitioner?_revinclude=Observation:performer&_revinclude=Encounter:participant&_count=100`,
        `Organization?_revinclude=Patient:organization&_revinclude=Patient:general-practitioner&_count=100`,
        `Observation?subject:Patient._id=${b}`,
        `Observation?patient._id=${b}`,
        `Patient?_has:Observation:patient:_id=extra-b-Observation`,
        `Patient?_has:Condition:patient:code=38341003`,
        `Practitioner?_has:Observation:performer:patient=${b}`,
        `?_type=${COMPARTMENT_TYPES.join(',')}&_count=100`,
        `Patient/${a}/*?_count=100`,
      ];
      for (const url of urls) {
        const res = await get(url);
        expect(res.status, url).toBe(200);
        nothingOfB(res.json.entry, url);
      }
      expect((await get(`Observation?subject:Patient._id=${b}`)).json.total).toBe(0);
      expect((await get(`Patient?_has:Observation:patient:_id=extra-b-Observation`)).json.total).toBe(0);
      expect((await get(`Patient?_has:Condition:patient:code=38341003`)).json.total).toBe(1);
    });

    it('history at type and system level, and every page of a paged search', async () => {
      for (const url of ['_history?_count=100', ...COMPARTMENT_TYPES.map((t) => `${t}/_history?_count=100`)]) {
        let res = await get(url);
        const seen: string[] = [];
        for (;;) {
          expect(res.status, url).toBe(200);
          seen.push(...nothingOfB(res.json.entry, url));
          const next = res.json.link?.find((l: { relation: string }) => l.relation === 'next');
          if (!next) break;
          res = await get(next.url);
        }
        if (url.startsWith('Observation')) expect(new Set(seen).size).toBe(countOfA.get('Observation'));
      }
      let page = await get('Observation?_count=3');
      let n = 0;
      for (;;) {
        n += nothingOfB(page.json.entry, 'paging').length;
        const next = page.json.link.find((l: { relation: string }) => l.relation === 'next');
        if (!next) break;
        page = await get(next.url);
      }
      expect(n).toBe(countOfA.get('Observation'));
    });

    it("a transaction that GETs B's resources gets 404s, and its searches see only A's", async () => {
      const bs = [...ofB].slice(0, 5);
      const res = await s.request('POST', '/secure/STU3', {
        body: { resourceType: 'Bundle', type: 'transaction', entry: [...bs.map((k) => ({ request: { method: 'GET', url: k } })), { request: { method: 'GET', url: 'Observation?_count=100' } }] },
        headers: { authorization: `Bearer ${token}` },
      });
      // A transaction fails as a whole when an entry fails: nothing of B's comes back either way.
      expect([200, 404]).toContain(res.status);
      expect(res.text).not.toMatch(new RegExp(bs.map((k) => `"id":"${k.split('/')[1]}"`).join('|')));
      const batch = await s.request('POST', '/secure/STU3', {
        body: { resourceType: 'Bundle', type: 'batch', entry: [...bs.map((k) => ({ request: { method: 'GET', url: k } })), { request: { method: 'GET', url: 'Observation?_count=100' } }] },
        headers: { authorization: `Bearer ${token}` },
      });
      const entries = batch.json.entry as Array<Entry & { resource?: { total?: number; entry?: Entry[] } }>;
      expect(entries.slice(0, bs.length).map((e) => e.response!.status.slice(0, 3))).toEqual(bs.map(() => '404'));
      const search = entries[bs.length]!.resource!;
      nothingOfB(search.entry, 'batch search');
      expect(search.total).toBe(countOfA.get('Observation'));
    });

    it("conditional writes cannot find or touch B's resources", async () => {
      const writer = await issuer.token({ scope: 'patient/*.*', patient: a, sub: 'user-a' });
      const headers = { authorization: `Bearer ${writer}` };
      const del = await s.request('DELETE', `/secure/STU3/Observation?_id=extra-b-Observation`, { headers });
      expect(del.status).toBe(204);
      expect((await s.store.reader(EVERYTHING).read('Observation', 'extra-b-Observation'))?.deleted).toBe(false);
      const update = await s.request('PUT', `/secure/STU3/Observation/extra-b-Observation`, { headers, body: { resourceType: 'Observation', id: 'extra-b-Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${a}` } } });
      expect(update.status).toBe(403);
      const moved = await s.request('POST', `/secure/STU3/Observation`, { headers, body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${b}` } } });
      expect(moved.status).toBe(403);
      const ours = await s.request('POST', `/secure/STU3/Observation`, { headers, body: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${a}` } } });
      expect(ours.status).toBe(201);
    });
  });
}
