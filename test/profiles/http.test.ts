import { EVERYTHING } from '../../src/search/access.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { careConnectResources } from '../../src/profiles/conformance.js';
import { loadConformance } from '../../src/profiles/load.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

const PATIENT = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1';
const ETHNIC_VS = 'https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-EthnicCategory-1';

/** The Care Connect conformance resources over HTTP: loaded at start-up, read-only, declared in the CapabilityStatement. */
for (const kind of await storeKinds()) {
  describe(`Care Connect conformance resources (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => s.cleanup());

    it('reads a profile by its id, with its differential and snapshot', async () => {
      const res = await s.request('GET', '/STU3/StructureDefinition/CareConnect-Patient-1');
      expect(res.status).toBe(200);
      expect(res.json.url).toBe(PATIENT);
      expect(res.json.meta.versionId).toBe('1');
      const ids = res.json.snapshot.element.map((e: { id: string }) => e.id);
      expect(ids).toContain('Patient.identifier:nhsNumber.extension:nhsNumberVerificationStatus');
      expect(res.json.differential.element.length).toBeLessThan(ids.length);
      const xml = await s.request('GET', '/STU3/StructureDefinition/CareConnect-Patient-1?_format=xml');
      expect(xml.status).toBe(200);
      expect(xml.text).toContain(`<url value="${PATIENT}"/>`);
    });

    it('reads extensions, value sets and code systems', async () => {
      const ext = await s.request('GET', '/STU3/StructureDefinition/Extension-CareConnect-NHSCommunication-1');
      expect(ext.json.context).toEqual(['Patient', 'Practitioner']);
      expect((await s.request('GET', '/STU3/ValueSet/CareConnect-EthnicCategory-1')).json.url).toBe(ETHNIC_VS);
      const cs = await s.request('GET', '/STU3/CodeSystem/CareConnect-EthnicCategory-1');
      expect(cs.json.concept).toHaveLength(68);
      expect(cs.json.valueSet).toBe(ETHNIC_VS);
    });

    it('searches by url, name and type', async () => {
      const byUrl = await s.request('GET', `/STU3/StructureDefinition?url=${encodeURIComponent(PATIENT)}`);
      expect(byUrl.json.total).toBe(1);
      expect(byUrl.json.entry[0].resource.id).toBe('CareConnect-Patient-1');
      const byName = await s.request('GET', '/STU3/StructureDefinition?name=CareConnect-Patient-1');
      expect(byName.json.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['CareConnect-Patient-1']);
      const byType = await s.request('GET', '/STU3/StructureDefinition?type=Extension&_count=100&_total=accurate');
      expect(byType.json.total).toBe(38);
      const vs = await s.request('GET', `/STU3/ValueSet?url=${encodeURIComponent(ETHNIC_VS)}`);
      expect(vs.json.total).toBe(1);
      const cs = await s.request('GET', '/STU3/CodeSystem?name=CareConnect-SDSJobRoleName');
      expect(cs.json.entry[0].resource.count).toBe(392);
      const all = await s.request('GET', '/STU3/StructureDefinition?_summary=count');
      expect(all.json.total).toBe(careConnectResources().structureDefinitions.length);
    });

    it('answers 405 with an OperationOutcome to every write, direct or in a Bundle', async () => {
      const sd = (await s.request('GET', '/STU3/StructureDefinition/CareConnect-Patient-1')).json;
      const attempts: Array<[string, string, unknown?]> = [
        ['POST', '/STU3/StructureDefinition', { ...sd, id: undefined }],
        ['PUT', '/STU3/StructureDefinition/CareConnect-Patient-1', sd],
        ['PUT', `/STU3/StructureDefinition?url=${encodeURIComponent(PATIENT)}`, sd],
        ['DELETE', '/STU3/StructureDefinition/CareConnect-Patient-1'],
        ['DELETE', '/STU3/ValueSet?name=CareConnect-EthnicCategory-1'],
        ['POST', '/STU3/ValueSet', { resourceType: 'ValueSet', status: 'draft' }],
        ['PUT', '/STU3/CodeSystem/mine', { resourceType: 'CodeSystem', id: 'mine', status: 'draft', content: 'complete' }],
      ];
      for (const [method, url, body] of attempts) {
        const res = await s.request(method, url, body === undefined ? {} : { body });
        expect(res.status, `${method} ${url}`).toBe(405);
        expect(res.json.resourceType).toBe('OperationOutcome');
        expect(res.json.issue[0].code).toBe('not-supported');
      }
      const bundle = {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [{ resource: { resourceType: 'ValueSet', id: 'x', status: 'draft' }, request: { method: 'PUT', url: 'ValueSet/x' } }],
      };
      const batch = await s.request('POST', '/STU3', { body: bundle });
      expect(batch.json.entry[0].response.status).toMatch(/^405/);
      const transaction = await s.request('POST', '/STU3', { body: { ...bundle, type: 'transaction' } });
      expect(transaction.status).toBe(405);
      expect((await s.request('GET', '/STU3/StructureDefinition/CareConnect-Patient-1')).json.meta.versionId).toBe('1');
      // Searching by POST is not a write.
      const post = await s.request('POST', '/STU3/StructureDefinition/_search', {
        body: 'name=CareConnect-Patient-1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(post.status).toBe(200);
    });

    it('declares the Care Connect profile of each resource type, and the conformance types read-only', async () => {
      const res = await s.request('GET', '/STU3/metadata');
      const resources = new Map<string, any>(res.json.rest[0].resource.map((r: { type: string }) => [r.type, r]));
      expect(resources.get('Patient').profile).toEqual({ reference: PATIENT });
      expect(resources.get('MedicationRequest').profile.reference).toBe('https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-MedicationRequest-1');
      expect([...resources.values()].filter((r) => r.profile).length).toBe(23);
      expect(resources.get('EpisodeOfCare').profile).toBeUndefined();
      const sdCodes = resources.get('StructureDefinition').interaction.map((i: { code: string }) => i.code);
      expect(sdCodes).toEqual(['read', 'vread', 'history-instance', 'history-type', 'search-type']);
      expect(resources.get('Patient').interaction.map((i: { code: string }) => i.code)).toContain('create');
    });

    it('writes nothing at a restart with unchanged definitions, and repairs what differs', async () => {
      const again = await loadConformance(s.store);
      expect(again.written).toBe(0);
      expect(again.unchanged).toBe(careConnectResources().structureDefinitions.length + careConnectResources().valueSets.length + careConnectResources().codeSystems.length);
      await s.store.transaction(EVERYTHING, (tx) => tx.write({ type: 'ValueSet', id: 'CareConnect-EthnicCategory-1', resource: { resourceType: 'ValueSet', status: 'retired' } }));
      await s.store.transaction(EVERYTHING, (tx) => tx.write({ type: 'CodeSystem', id: 'CareConnect-EthnicCategory-1', resource: null }));
      const repaired = await loadConformance(s.store);
      expect(repaired.written).toBe(2);
      const vs = await s.request('GET', '/STU3/ValueSet/CareConnect-EthnicCategory-1');
      expect(vs.json.meta.versionId).toBe('3');
      expect(vs.json.url).toBe(ETHNIC_VS);
      expect((await s.request('GET', '/STU3/CodeSystem/CareConnect-EthnicCategory-1')).status).toBe(200);
    });

    it('survives two nodes loading an empty store at the same moment', async () => {
      await s.store.clear();
      const total = careConnectResources().structureDefinitions.length + careConnectResources().valueSets.length + careConnectResources().codeSystems.length;
      const [a, b] = await Promise.all([loadConformance(s.store), loadConformance(s.store)]);
      expect(a.written + b.written).toBeGreaterThanOrEqual(total);
      expect((await loadConformance(s.store)).written).toBe(0);
      expect((await s.request('GET', '/STU3/StructureDefinition?_summary=count')).json.total).toBe(careConnectResources().structureDefinitions.length);
    });
  });
}
