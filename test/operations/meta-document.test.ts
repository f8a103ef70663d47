import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/** $meta, $meta-add, $meta-delete (https://hl7.org/fhir/STU3/resource-operations.html#meta) and Composition/$document, on each store. */

const SECURE = 'http://localhost:8080/secure/STU3';
const TAG = { system: 'urn:test:tags', code: 'research' };
const OTHER_TAG = { system: 'urn:test:tags', code: 'audit' };
const SEC = { system: 'http://hl7.org/fhir/v3/Confidentiality', code: 'R' };
const PROFILE = 'https://example.org/fhir/StructureDefinition/not-held';

for (const kind of await storeKinds()) {
  describe(`$meta and $document (${kind})`, () => {
    let s: TestServer;
    let issuer: TestIssuer;
    const now = Date.parse('2026-01-01T00:00:00Z');
    const put = async (resource: Record<string, unknown>) => {
      const res = await s.request('PUT', `/STU3/${resource.resourceType}/${resource.id}`, { body: resource });
      expect(res.status, JSON.stringify(res.json)).toBeLessThan(300);
    };
    const metaOf = (res: { json: any }) => res.json.parameter.find((p: any) => p.name === 'return').valueMeta;
    const params = (meta: unknown) => ({ resourceType: 'Parameters', parameter: [{ name: 'meta', valueMeta: meta }] });

    beforeAll(async () => {
      issuer = await testIssuer(SECURE, () => now);
      s = await startTestServer(kind, {}, () => now, undefined, issuer);
      await put({ resourceType: 'Patient', id: 'pa', meta: { tag: [TAG] }, name: [{ family: 'A' }] });
      await put({ resourceType: 'Patient', id: 'pb', meta: { security: [SEC] }, name: [{ family: 'B' }] });
      await put({ resourceType: 'Observation', id: 'oa', meta: { tag: [OTHER_TAG] }, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/pa' } });
      await put({ resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Swift' }] });
      await put({ resourceType: 'Organization', id: 'org', name: 'Trust' });
      await put({ resourceType: 'Encounter', id: 'enc', status: 'finished', subject: { reference: 'Patient/pa' }, serviceProvider: { reference: 'Organization/org' } });
      await put({
        resourceType: 'Composition',
        id: 'letter',
        status: 'final',
        type: { text: 'Discharge letter' },
        date: '2025-12-01',
        title: 'Discharge',
        subject: { reference: 'Patient/pa' },
        encounter: { reference: 'Encounter/enc' },
        author: [{ reference: 'Practitioner/dr' }],
        section: [{ title: 'Results', entry: [{ reference: 'Observation/oa' }, { reference: 'Observation/absent' }] }],
      });
    });
    afterAll(async () => s?.cleanup());

    it('$meta at instance, type and system level', async () => {
      const one = await s.request('GET', '/STU3/Patient/pa/$meta');
      expect(one.status).toBe(200);
      expect(metaOf(one)).toEqual({ tag: [TAG] });
      const type = metaOf(await s.request('GET', '/STU3/Patient/$meta'));
      expect(type.tag).toEqual([TAG]);
      expect(type.security).toEqual([SEC]);
      const system = metaOf(await s.request('GET', '/STU3/$meta'));
      expect(system.tag).toEqual(expect.arrayContaining([TAG, OTHER_TAG]));
      expect(system.tag.length).toBe(2);
    });

    it('$meta-add adds once, as a new version; $meta-delete removes', async () => {
      const added = await s.request('POST', '/STU3/Patient/pa/$meta-add', { body: params({ tag: [OTHER_TAG, TAG], security: [SEC], profile: [PROFILE] }) });
      expect(added.status, JSON.stringify(added.json)).toBe(200);
      expect(metaOf(added)).toEqual({ profile: [PROFILE], security: [SEC], tag: [TAG, OTHER_TAG] });
      const read = await s.request('GET', '/STU3/Patient/pa');
      expect(read.json.meta.versionId).toBe('2');
      expect(read.json.meta.tag).toEqual([TAG, OTHER_TAG]);
      // Searchable at once.
      const found = await s.request('GET', `/STU3/Patient?_tag=${OTHER_TAG.system}|${OTHER_TAG.code}`);
      expect(found.json.entry.map((e: any) => e.resource.id)).toEqual(['pa']);
      // Adding what is there already changes nothing.
      await s.request('POST', '/STU3/Patient/pa/$meta-add', { body: params({ tag: [TAG] }) });
      expect((await s.request('GET', '/STU3/Patient/pa')).json.meta.versionId).toBe('2');

      const removed = await s.request('POST', '/STU3/Patient/pa/$meta-delete', { body: params({ tag: [{ system: TAG.system, code: TAG.code }], profile: [PROFILE], security: [SEC] }) });
      expect(removed.status).toBe(200);
      expect(metaOf(removed)).toEqual({ tag: [OTHER_TAG] });
      expect((await s.request('GET', '/STU3/Patient/pa/$meta')).json.parameter[0].valueMeta).toEqual({ tag: [OTHER_TAG] });
    });

    it('refuses bad input with a 4xx OperationOutcome', async () => {
      const cases: Array<[string, string, unknown, number]> = [
        ['POST', '/STU3/Patient/pa/$meta-add', undefined, 400],
        ['POST', '/STU3/Patient/pa/$meta-add', params({}), 400],
        ['POST', '/STU3/Patient/pa/$meta-add', params({ tag: [{ system: 'x' }] }), 400],
        ['POST', '/STU3/Patient/pa/$meta-add', { resourceType: 'Patient' }, 400],
        ['POST', '/STU3/Patient/nobody/$meta-add', params({ tag: [TAG] }), 404],
        ['GET', '/STU3/Patient/pa/$meta-add', undefined, 405],
        ['POST', '/STU3/Patient/$meta-add', params({ tag: [TAG] }), 404],
        ['GET', '/STU3/Patient/nobody/$meta', undefined, 404],
        ['GET', '/STU3/Patient/pa/$meta?x=1', undefined, 400],
        ['POST', '/STU3/StructureDefinition/CareConnect-Patient-1/$meta-add', params({ tag: [TAG] }), 405],
        ['GET', '/STU3/Composition/nothing/$document', undefined, 404],
        ['GET', '/STU3/Composition/letter/$document?persist=true', undefined, 400],
        ['GET', '/STU3/Composition/letter/$document?persist=maybe', undefined, 400],
        ['GET', '/STU3/Patient/pa/$document', undefined, 404],
      ];
      for (const [method, url, body, status] of cases) {
        const res = await s.request(method, url, body !== undefined ? { body } : {});
        expect(res.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);
        expect(res.json.resourceType).toBe('OperationOutcome');
      }
    });

    it('$document: the Composition first, then what it refers to, and what they refer to', async () => {
      const res = await s.request('GET', '/STU3/Composition/letter/$document');
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.json.type).toBe('document');
      expect(res.json.identifier.value).toMatch(/^urn:uuid:/);
      const refs = res.json.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`);
      expect(refs[0]).toBe('Composition/letter');
      expect(refs.slice(1).sort()).toEqual(['Encounter/enc', 'Observation/oa', 'Organization/org', 'Patient/pa', 'Practitioner/dr']);
      for (const e of res.json.entry) expect(e.fullUrl).toBe(`http://localhost:8080/STU3/${e.resource.resourceType}/${e.resource.id}`);
      const xml = await s.request('GET', '/STU3/Composition/letter/$document?_format=xml');
      expect(xml.status).toBe(200);
      expect(xml.text).toContain('<type value="document"/>');
    });

    it('on the secure base: $meta-add needs a write scope, $document sees what the token sees', async () => {
      const reader = await issuer.token({ scope: 'user/*.read', sub: 'u1' });
      const res = await s.request('POST', '/secure/STU3/Patient/pb/$meta-add', { body: params({ tag: [TAG] }), headers: { authorization: `Bearer ${reader}` } });
      expect(res.status).toBe(403);
      const narrow = await issuer.token({ scope: 'user/Composition.read user/Patient.read', sub: 'u1' });
      const doc = await s.request('GET', '/secure/STU3/Composition/letter/$document', { headers: { authorization: `Bearer ${narrow}` } });
      expect(doc.status).toBe(200);
      expect(doc.json.entry.map((e: any) => e.resource.resourceType).sort()).toEqual(['Composition', 'Patient']);
    });

    it('all four are declared, with their OperationDefinitions', async () => {
      const cs = (await s.request('GET', '/STU3/metadata')).json;
      const names = cs.rest[0].operation.map((o: any) => o.name);
      expect(names).toEqual(expect.arrayContaining(['meta', 'meta-add', 'meta-delete', 'document']));
      for (const id of ['Resource-meta', 'Resource-meta-add', 'Resource-meta-delete', 'Composition-document']) {
        expect((await s.request('GET', `/STU3/OperationDefinition/${id}`)).status, id).toBe(200);
      }
    });
  });
}
