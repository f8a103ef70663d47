import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/** Patient/$everything (https://hl7.org/fhir/STU3/patient-operations.html#everything) on each store. */

const SECURE = 'http://localhost:8080/secure/STU3';
const T0 = Date.parse('2026-01-01T00:00:00Z');

for (const kind of await storeKinds()) {
  describe(`$everything (${kind})`, () => {
    let s: TestServer;
    let issuer: TestIssuer;
    let now = T0;
    const put = async (resource: Record<string, unknown>) => {
      const res = await s.request('PUT', `/STU3/${resource.resourceType}/${resource.id}`, { body: resource });
      expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
    };
    const get = async (url: string, token?: string) => s.request('GET', url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const ids = (bundle: any, mode?: string) =>
      (bundle.entry ?? [])
        .filter((e: any) => !mode || e.search?.mode === mode)
        .map((e: any) => `${e.resource.resourceType}/${e.resource.id}`)
        .sort();
    /** Every page, following next links (made absolute on the open base). */
    const all = async (url: string, token?: string) => {
      const out: any[] = [];
      let next: string | undefined = url;
      for (let i = 0; next && i < 50; i++) {
        const res = await get(next, token);
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        out.push(res.json);
        const link = res.json.link.find((l: any) => l.relation === 'next')?.url as string | undefined;
        next = link ? link.replace(/^http:\/\/localhost:8080/, '') : undefined;
      }
      return out;
    };

    beforeAll(async () => {
      issuer = await testIssuer(SECURE, () => now);
      s = await startTestServer(kind, {}, () => now, undefined, issuer);
      await put({ resourceType: 'Organization', id: 'gp1', name: 'Elm Tree Surgery' });
      await put({ resourceType: 'Organization', id: 'gp2', name: 'Oak Surgery' });
      await put({ resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Swift' }] });
      await put({ resourceType: 'Practitioner', id: 'dr2', name: [{ family: 'Unseen' }] });
      await put({ resourceType: 'Location', id: 'loc1', name: 'Ward 1' });
      await put({ resourceType: 'Medication', id: 'med1', code: { text: 'Aspirin' } });
      await put({ resourceType: 'Patient', id: 'pa', generalPractitioner: [{ reference: 'Practitioner/dr1' }], managingOrganization: { reference: 'Organization/gp1' } });
      await put({ resourceType: 'Patient', id: 'pb', managingOrganization: { reference: 'Organization/gp2' } });
      await put({ resourceType: 'Encounter', id: 'e2019', status: 'finished', subject: { reference: 'Patient/pa' }, period: { start: '2019-05-01', end: '2019-05-02' }, location: [{ location: { reference: 'Location/loc1' } }] });
      await put({ resourceType: 'Encounter', id: 'e2024', status: 'finished', subject: { reference: 'Patient/pa' }, period: { start: '2024-05-01', end: '2024-05-02' } });
      await put({ resourceType: 'Condition', id: 'c-onset2020', subject: { reference: 'Patient/pa' }, onsetDateTime: '2020-03-01', verificationStatus: 'confirmed', code: { text: 'x' } });
      await put({ resourceType: 'Condition', id: 'c-undated', subject: { reference: 'Patient/pa' }, verificationStatus: 'confirmed', code: { text: 'y' } });
      await put({ resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject: { reference: 'Patient/pa' }, medicationReference: { reference: 'Medication/med1' }, authoredOn: '2024-06-01' });
      for (let i = 0; i < 7; i++) await put({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'bp' }, subject: { reference: 'Patient/pa' }, effectiveDateTime: `202${i % 5}-01-01` });
      await put({ resourceType: 'Observation', id: 'ob', status: 'final', code: { text: 'bp' }, subject: { reference: 'Patient/pb' }, performer: [{ reference: 'Practitioner/dr2' }] });
    });
    afterAll(async () => s?.cleanup());

    it('returns the patient, the compartment and the resources referred to, nothing of another patient', async () => {
      const res = await get('/STU3/Patient/pa/$everything?_count=100');
      expect(res.status).toBe(200);
      expect(res.json.type).toBe('searchset');
      expect(res.json.total).toBe(13);
      expect(ids(res.json, 'match')).toEqual(
        ['Patient/pa', 'Encounter/e2019', 'Encounter/e2024', 'Condition/c-onset2020', 'Condition/c-undated', 'MedicationRequest/mr1', ...[0, 1, 2, 3, 4, 5, 6].map((i) => `Observation/o${i}`)].sort(),
      );
      expect(ids(res.json, 'include')).toEqual(['Location/loc1', 'Medication/med1', 'Organization/gp1', 'Practitioner/dr1']);
    });

    it('pages through signed next links, each resource once', async () => {
      const pages = await all('/STU3/Patient/pa/$everything?_count=4');
      expect(pages.length).toBe(4);
      const matches = pages.flatMap((p) => ids(p, 'match'));
      expect(matches.length).toBe(13);
      expect(new Set(matches).size).toBe(13);
      // A page's cursor cannot be moved to another patient's operation.
      const next = pages[0].link.find((l: any) => l.relation === 'next').url.replace(/^http:\/\/localhost:8080/, '').replace('Patient/pa/', 'Patient/pb/');
      expect((await get(next)).status).toBe(400);
    });

    it('start and end keep what overlaps the care dates, and what has none', async () => {
      const res = await get('/STU3/Patient/pa/$everything?start=2020-01-01&end=2022-12-31&_count=100');
      expect(res.status).toBe(200);
      expect(ids(res.json, 'match')).toEqual(['Condition/c-onset2020', 'Condition/c-undated', 'Observation/o0', 'Observation/o1', 'Observation/o2', 'Observation/o5', 'Observation/o6', 'Patient/pa'].sort());
      // Nothing in range refers to the location or the medication.
      expect(ids(res.json, 'include')).toEqual(['Organization/gp1', 'Practitioner/dr1']);
    });

    it('_type narrows the types, references included', async () => {
      const res = await get('/STU3/Patient/pa/$everything?_type=Encounter,Location');
      expect(ids(res.json)).toEqual(['Encounter/e2019', 'Encounter/e2024', 'Location/loc1']);
      expect((await get('/STU3/Patient/pa/$everything?_type=Nonsense')).status).toBe(400);
    });

    it('_since keeps what changed since', async () => {
      now = T0 + 86_400_000;
      await put({ resourceType: 'Observation', id: 'o-late', status: 'final', code: { text: 'late' }, subject: { reference: 'Patient/pa' } });
      const res = await get(`/STU3/Patient/pa/$everything?_since=${new Date(T0 + 3_600_000).toISOString()}`);
      expect(ids(res.json, 'match')).toEqual(['Observation/o-late']);
      await s.request('DELETE', '/STU3/Observation/o-late');
      now = T0;
    });

    it('refuses bad input with a 4xx OperationOutcome', async () => {
      for (const [url, status] of [
        ['/STU3/Patient/nobody/$everything', 404],
        ['/STU3/Patient/pa/$everything?start=yesterday', 400],
        ['/STU3/Patient/pa/$everything?_count=-1', 400],
        ['/STU3/Patient/pa/$everything?bogus=1', 400],
        ['/STU3/Patient/pa/$everything?_cursor=abc.def', 400],
        ['/STU3/Observation/o1/$everything', 404],
      ] as const) {
        const res = await get(url);
        expect(res.status, url).toBe(status);
        expect(res.json.resourceType).toBe('OperationOutcome');
      }
    });

    it('Patient/$everything covers every patient', async () => {
      const pages = await all('/STU3/Patient/$everything?_count=5');
      const matches = pages.flatMap((p) => ids(p, 'match'));
      expect(matches).toContain('Patient/pb');
      expect(matches).toContain('Observation/ob');
      expect(matches).toContain('Observation/o3');
      expect(pages.flatMap((p) => ids(p, 'include'))).toContain('Practitioner/dr2');
    });

    it('under a patient/ token: only that patient, whatever is asked', async () => {
      const token = await issuer.token({ scope: 'patient/*.read', patient: 'pa', sub: 'u-pa' });
      const own = (await all('/secure/STU3/Patient/$everything?_count=100', token)).flatMap((p) => ids(p, 'match'));
      expect(own).toContain('Patient/pa');
      expect(own).not.toContain('Patient/pb');
      expect(own).not.toContain('Observation/ob');
      expect((await get('/secure/STU3/Patient/pb/$everything', token)).status).toBe(404);
      const mine = await get('/secure/STU3/Patient/pa/$everything?_count=100', token);
      expect(mine.status).toBe(200);
      expect(ids(mine.json, 'match')).toContain('Observation/o1');
    });

    it('is declared in the CapabilityStatement, with its OperationDefinition served', async () => {
      const cs = (await get('/STU3/metadata')).json;
      const op = cs.rest[0].operation.find((o: any) => o.name === 'everything');
      expect(op.definition.reference).toBe('http://localhost:8080/STU3/OperationDefinition/Patient-everything');
      const def = await get('/STU3/OperationDefinition/Patient-everything');
      expect(def.status).toBe(200);
      expect(def.json.url).toBe(op.definition.reference);
      expect(def.json.parameter.map((p: any) => p.name)).toEqual(expect.arrayContaining(['start', 'end', '_since', '_type', '_count']));
      const list = await get('/STU3/OperationDefinition');
      expect(list.json.entry.map((e: any) => e.resource.id)).toEqual(expect.arrayContaining(['Patient-everything', 'Resource-validate']));
      expect((await s.request('PUT', '/STU3/OperationDefinition/Patient-everything', { body: def.json })).status).toBe(405);
    });
  });
}
