import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../src/search/access.js';
import { parseSearch } from '../../src/search/parse/query.js';
import { searchRegistry } from '../../src/search/registry.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Issue 15, "queries cannot run away": the inner search of a chain or `_has` may match at
 * most CCRI_INNER_SEARCH_MAX resources (docs/limits.md); past it the search is a 400
 * too-costly naming the parameter, at or under it the search answers as before. The bound
 * is 4 here. The inner search sees only what the caller may see, so a caller confined to
 * compartments is answered from its own rows whatever lies outside them.
 */

const BOUND = 4;
const males = ['m1', 'm2', 'm3', 'm4', 'm5'];
const females = ['f1', 'f2', 'f3', 'f4'];

const put = (resource: Record<string, unknown>) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType as string}/${resource.id as string}` } });
/** Patients of one gender, each with a general practitioner of the given name and one Observation of the given status. */
const patients = (ids: string[], gender: string, gp: string, status: string) =>
  ids.flatMap((id) => [
    put({ resourceType: 'Practitioner', id: `gp-${id}`, name: [{ family: gp }] }),
    put({ resourceType: 'Patient', id, gender, generalPractitioner: [{ reference: `Practitioner/gp-${id}` }] }),
    put({ resourceType: 'Observation', id: `o-${id}`, status, code: { text: 'x' }, subject: { reference: `Patient/${id}` } }),
  ]);
const transaction = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });

const registry = searchRegistry();
const plan = (type: string, query: string) => parseSearch([type], [...new URLSearchParams(query)], registry, { defaultCount: 50, maxCount: 100, strict: true }).plan;
const ids = (bundle: { entry?: Array<{ resource: { id: string } }> }) => (bundle.entry ?? []).map((e) => e.resource.id).sort();

for (const kind of await storeKinds()) {
  describe(`the bound on the inner search of a chain or _has (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, { audit: false, innerSearchMax: BOUND });
      // Five men (one more than the bound), four women (the bound); five cancelled Observations, one of them of a man; a Group of the five men.
      const cancelled = [1, 2, 3, 4, 5].map((i) => put({ resourceType: 'Observation', id: `c${i}`, status: 'cancelled', code: { text: 'x' }, ...(i === 1 ? { subject: { reference: 'Patient/m2' } } : {}) }));
      const group = put({ resourceType: 'Group', id: 'g', type: 'person', actual: true, member: males.map((id) => ({ entity: { reference: `Patient/${id}` } })) });
      const res = await s.request('POST', '/STU3', { body: transaction([...patients(males, 'male', 'Smith', 'amended'), ...patients(females, 'female', 'Jones', 'final'), ...cancelled, group]) });
      expect(res.status).toBe(200);
    });
    afterAll(async () => s?.cleanup());

    const refused = async (url: string, param: string) => {
      const res = await s.request('GET', url);
      expect(res.status, res.text).toBe(400);
      expect(res.json.resourceType).toBe('OperationOutcome');
      expect(res.json.issue[0]).toMatchObject({ severity: 'error', code: 'too-costly', expression: [param] });
      expect(res.json.issue[0].diagnostics).toContain(`more than ${BOUND}`);
      return res.json.issue[0].diagnostics as string;
    };
    const answered = async (url: string) => {
      const res = await s.request('GET', url);
      expect(res.status, res.text).toBe(200);
      return ids(res.json);
    };

    it('refuses a chain whose inner search matches more than the bound, and answers one that matches the bound', async () => {
      const text = await refused('/STU3/Observation?subject:Patient.gender=male&_count=10', 'subject:Patient.gender');
      expect(text).toContain('Patient?gender=…');
      expect(await answered('/STU3/Observation?subject:Patient.gender=female')).toEqual(females.map((id) => `o-${id}`));
    });

    it('refuses a _has whose inner search matches more than the bound, and answers one that matches the bound', async () => {
      // Five Observations, one of them of a patient: it is the inner search that is bounded, not only what it refers to.
      const text = await refused('/STU3/Patient?_has:Observation:subject:status=cancelled', '_has:Observation:subject:status');
      expect(text).toContain(`more than ${BOUND} Observation resources match the _has's inner search (Observation?status=…)`);
      expect(await answered('/STU3/Patient?_has:Observation:subject:status=final')).toEqual(females);
    });

    it('refuses a _has whose matches hold more references than the bound', async () => {
      // One Group, five members.
      const text = await refused('/STU3/Patient?_has:Group:member:_id=g', '_has:Group:member:_id');
      expect(text).toContain(`hold more than ${BOUND} references to Patient by member`);
      expect(await answered('/STU3/Patient?_has:Group:member:_id=nothing')).toEqual([]);
    });

    it('bounds each level of a nested chain, and names the level that passed it', async () => {
      const text = await refused('/STU3/Observation?subject:Patient.general-practitioner:Practitioner.name=smith', 'subject:Patient.general-practitioner:Practitioner.name');
      expect(text).toContain('general-practitioner:Practitioner.name chain');
      expect(await answered('/STU3/Observation?subject:Patient.general-practitioner:Practitioner.name=jones')).toEqual(females.map((id) => `o-${id}`));
    });

    it('answers a caller confined to compartments from what it may see, whatever lies outside them', async () => {
      const observations: Access = { default: 'compartment', types: { Observation: 'all' }, patients: ['m1'] };
      const own: Access = { default: 'compartment', patients: ['m1'] };
      const chain = plan('Observation', 'subject:Patient.gender=male');
      const has = plan('Patient', '_has:Observation:subject:status=amended');
      const seen = async () => ({
        chain: (await s.store.reader(observations).search(chain)).rows.map((r) => r.id),
        has: (await s.store.reader(own).search(has)).rows.map((r) => r.id),
      });
      // The caller sees one man of five, and his one Observation of five amended ones.
      expect(await seen()).toEqual({ chain: ['o-m1'], has: ['m1'] });
      // Twice as many men outside the compartment change nothing the caller is told: no refusal, the same answer.
      const more = ['m6', 'm7', 'm8', 'm9', 'm10'];
      expect((await s.request('POST', '/STU3', { body: transaction(patients(more, 'male', 'Smith', 'amended')) })).status).toBe(200);
      expect(await seen()).toEqual({ chain: ['o-m1'], has: ['m1'] });
      // Where the caller sees every Patient, the same chain is refused.
      await expect(s.store.reader({ ...observations, types: { Observation: 'all', Patient: 'all' } }).search(chain)).rejects.toMatchObject({ status: 400 });
    });
  });
}
