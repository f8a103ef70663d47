import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/** The terminology operations (https://hl7.org/fhir/STU3/terminology-service.html) on each store. */

const GENDER_VS = 'http://hl7.org/fhir/ValueSet/administrative-gender';
const GENDER = 'http://hl7.org/fhir/administrative-gender';
const CC_GENDER_VS = 'https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-AdministrativeGender-1';
const ETHNIC = 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1';
const CLINICAL = 'http://hl7.org/fhir/condition-clinical';
const PUB = 'http://hl7.org/fhir/publication-status';
const SCT = 'http://snomed.info/sct';

for (const kind of await storeKinds()) {
  describe(`terminology operations (${kind})`, () => {
    let s: TestServer;
    const get = (url: string) => s.request('GET', `/STU3/${url}`);
    const post = (url: string, parameter: unknown[]) => s.request('POST', `/STU3/${url}`, { body: { resourceType: 'Parameters', parameter } });
    const out = (res: { json: any }, name: string) => res.json.parameter?.find((p: any) => p.name === name);
    const codes = (res: { json: any }) => (res.json.expansion.contains ?? []).map((c: any) => c.code);

    beforeAll(async () => {
      s = await startTestServer(kind);
      const map = {
        resourceType: 'ConceptMap',
        id: 'gender-to-v2',
        url: 'urn:test:ConceptMap/gender-to-v2',
        status: 'active',
        sourceUri: GENDER_VS,
        targetUri: 'http://hl7.org/fhir/ValueSet/v2-0001',
        group: [
          {
            source: GENDER,
            target: 'http://hl7.org/fhir/v2/0001',
            element: [
              { code: 'male', target: [{ code: 'M', display: 'Male', equivalence: 'equal' }] },
              { code: 'other', target: [{ code: 'A', equivalence: 'wider' }, { code: 'O', equivalence: 'wider' }] },
            ],
          },
        ],
      };
      const res = await s.request('PUT', '/STU3/ConceptMap/gender-to-v2', { body: map });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    });
    afterAll(async () => s?.cleanup());

    describe('ValueSet/$expand', () => {
      it('expands a core value set by url, with displays', async () => {
        const res = await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}`);
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(res.json.resourceType).toBe('ValueSet');
        expect(res.json.expansion.total).toBe(4);
        expect(res.json.expansion.contains).toContainEqual({ system: GENDER, code: 'female', display: 'Female' });
      });

      it('expands a stored Care Connect value set at instance level', async () => {
        const res = await get('ValueSet/CareConnect-AdministrativeGender-1/$expand');
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(res.json.url).toBe(CC_GENDER_VS);
        expect(codes(res).sort()).toEqual(['female', 'male', 'other', 'unknown']);
      });

      it('filters, pages with count and offset, and includes designations on request', async () => {
        const filtered = await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&filter=fem`);
        expect(codes(filtered)).toEqual(['female']);
        const all = codes(await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}`));
        const page = await get(`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&offset=1&count=2`);
        expect(page.json.expansion.total).toBe(4);
        expect(page.json.expansion.offset).toBe(1);
        expect(codes(page)).toEqual(all.slice(1, 3));
        const plain = await get(`ValueSet/$expand?url=${encodeURIComponent(`http://hl7.org/fhir/ValueSet/publication-status`)}`);
        expect(plain.json.expansion.contains[0].designation).toBeUndefined();
        const withNames = await get(`ValueSet/$expand?url=${encodeURIComponent(`http://hl7.org/fhir/ValueSet/publication-status`)}&includeDesignations=true`);
        const draft = withNames.json.expansion.contains.find((c: any) => c.code === 'draft');
        expect(draft.designation).toContainEqual({ language: 'nl', value: 'ontwerp' });
        // A designation is matched by the filter too.
        expect(codes(await get(`ValueSet/$expand?url=${encodeURIComponent(`http://hl7.org/fhir/ValueSet/publication-status`)}&filter=ontwerp`))).toEqual(['draft']);
      });

      it('expands a value set sent in the body', async () => {
        const res = await post('ValueSet/$expand', [
          { name: 'valueSet', resource: { resourceType: 'ValueSet', url: 'urn:test:vs', status: 'draft', compose: { include: [{ system: CLINICAL, filter: [{ property: 'concept', op: 'is-a', value: 'inactive' }] }] } } },
        ]);
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(codes(res).sort()).toEqual(['inactive', 'remission', 'resolved']);
      });

      it('says why a SNOMED CT value set cannot be expanded, and refuses bad input', async () => {
        const snomed = await post('ValueSet/$expand', [{ name: 'valueSet', resource: { resourceType: 'ValueSet', url: 'urn:test:sct', status: 'draft', compose: { include: [{ system: SCT }] } } }]);
        expect(snomed.status).toBe(422);
        expect(snomed.json.issue[0].diagnostics).toContain(SCT);
        for (const [url, status] of [
          ['ValueSet/$expand', 400],
          ['ValueSet/$expand?url=urn:nothing', 404],
          [`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&count=x`, 400],
          [`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&includeDesignations=maybe`, 400],
          [`ValueSet/$expand?url=${encodeURIComponent(GENDER_VS)}&bogus=1`, 400],
          ['ValueSet/nothing/$expand', 404],
          ['CodeSystem/$expand', 404],
        ] as const) {
          const res = await get(url);
          expect(res.status, url).toBe(status);
          expect(res.json.resourceType).toBe('OperationOutcome');
        }
        // A code system held whole says the code is not in it; one held in part (SNOMED CT) says only that it does not hold the code.
        expect((await get(`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}&code=nope`)).json.issue[0].diagnostics).toBe(`The code nope is not in the code system ${CLINICAL}`);
        const partial = await get('CodeSystem/$lookup?system=http://snomed.info/sct&code=999999999');
        expect(partial.status).toBe(404);
        expect(partial.json.issue[0].diagnostics).toBe('The code 999999999 is not among the concepts of http://snomed.info/sct that this server holds: it holds only part of that code system');
      });
    });

    describe('$validate-code', () => {
      it('ValueSet: in, not in, wrong display, a coding, a codeableConcept, and what cannot be checked', async () => {
        const vs = encodeURIComponent(GENDER_VS);
        const yes = await get(`ValueSet/$validate-code?url=${vs}&system=${encodeURIComponent(GENDER)}&code=male`);
        expect(out(yes, 'result').valueBoolean).toBe(true);
        expect(out(yes, 'display').valueString).toBe('Male');
        const no = await get(`ValueSet/$validate-code?url=${vs}&system=${encodeURIComponent(GENDER)}&code=man`);
        expect(out(no, 'result').valueBoolean).toBe(false);
        expect(out(no, 'message').valueString).toContain('not in');
        const display = await get(`ValueSet/$validate-code?url=${vs}&system=${encodeURIComponent(GENDER)}&code=male&display=Woman`);
        expect(out(display, 'result').valueBoolean).toBe(false);
        expect(out(display, 'message').valueString).toContain("'Male'");
        const instance = await get(`ValueSet/CareConnect-AdministrativeGender-1/$validate-code?system=${encodeURIComponent(GENDER)}&code=female`);
        expect(out(instance, 'result').valueBoolean).toBe(true);
        const coding = await post('ValueSet/$validate-code', [{ name: 'url', valueUri: GENDER_VS }, { name: 'coding', valueCoding: { system: GENDER, code: 'other' } }]);
        expect(out(coding, 'result').valueBoolean).toBe(true);
        const concept = await post('ValueSet/$validate-code', [
          { name: 'url', valueUri: GENDER_VS },
          { name: 'codeableConcept', valueCodeableConcept: { coding: [{ system: 'urn:x', code: 'x' }, { system: GENDER, code: 'unknown' }] } },
        ]);
        expect(out(concept, 'result').valueBoolean).toBe(true);
        const sct = await post('ValueSet/$validate-code', [
          { name: 'valueSet', resource: { resourceType: 'ValueSet', url: 'urn:test:sct', status: 'draft', compose: { include: [{ system: SCT }] } } },
          { name: 'coding', valueCoding: { system: SCT, code: '22298006' } },
        ]);
        // Not decided here (the server holds no SNOMED CT): a 422 saying so, not result=false.
        expect(sct.status).toBe(422);
        expect(JSON.stringify(sct.json)).toMatch(/could not be checked/);
        expect((await get(`ValueSet/$validate-code?url=${vs}`)).status).toBe(400);
      });

      it('CodeSystem: at type level by system or url, and at instance level', async () => {
        const yes = await get(`CodeSystem/$validate-code?url=${encodeURIComponent(ETHNIC)}&code=CK`);
        expect(out(yes, 'result').valueBoolean).toBe(true);
        expect(out(yes, 'display').valueString).toBe('Italian');
        const bySystem = await get(`CodeSystem/$validate-code?system=${encodeURIComponent(CLINICAL)}&code=resolved`);
        expect(out(bySystem, 'result').valueBoolean).toBe(true);
        const no = await get(`CodeSystem/CareConnect-EthnicCategory-1/$validate-code?code=ZZZ`);
        expect(no.status, JSON.stringify(no.json)).toBe(200);
        expect(out(no, 'result').valueBoolean).toBe(false);
        const wrong = await get(`CodeSystem/CareConnect-EthnicCategory-1/$validate-code?code=CK&display=Greek`);
        expect(out(wrong, 'result').valueBoolean).toBe(false);
        expect((await get(`CodeSystem/$validate-code?system=urn:unknown&code=x`)).status).toBe(404);
      });
    });

    describe('CodeSystem/$lookup', () => {
      it('returns the name, display, designations, parent and children', async () => {
        const res = await get(`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}&code=inactive`);
        expect(res.status, JSON.stringify(res.json)).toBe(200);
        expect(out(res, 'display').valueString).toBe('Inactive');
        const props = res.json.parameter.filter((p: any) => p.name === 'property').map((p: any) => `${p.part[0].valueCode}=${p.part[1].valueCode}`);
        expect(props.sort()).toEqual(['child=remission', 'child=resolved']);
        const child = await get(`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}&code=resolved&property=parent`);
        expect(child.json.parameter.filter((p: any) => p.name === 'property').map((p: any) => p.part[1].valueCode)).toEqual(['inactive']);
        const names = await get(`CodeSystem/$lookup?system=${encodeURIComponent(PUB)}&code=draft`);
        expect(names.json.parameter.filter((p: any) => p.name === 'designation').map((p: any) => p.part.find((x: any) => x.name === 'value').valueString)).toContain('ontwerp');
        const instance = await get('CodeSystem/CareConnect-EthnicCategory-1/$lookup?code=CB');
        expect(out(instance, 'display').valueString).toBe('Scottish');
        const coding = await post('CodeSystem/$lookup', [{ name: 'coding', valueCoding: { system: ETHNIC, code: 'CC' } }]);
        expect(out(coding, 'display').valueString).toBe('Welsh');
      });

      it('refuses what it cannot answer', async () => {
        for (const [url, status] of [
          [`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}&code=nope`, 404],
          [`CodeSystem/$lookup?system=urn:unknown&code=x`, 404],
          ['CodeSystem/$lookup?code=x', 400],
          [`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}`, 400],
          [`CodeSystem/CareConnect-EthnicCategory-1/$lookup?code=A&system=${encodeURIComponent(CLINICAL)}`, 400],
        ] as const) {
          const res = await get(url);
          expect(res.status, url).toBe(status);
          expect(res.json.resourceType).toBe('OperationOutcome');
        }
        // A code system held whole says the code is not in it; one held in part (SNOMED CT) says only that it does not hold the code.
        expect((await get(`CodeSystem/$lookup?system=${encodeURIComponent(CLINICAL)}&code=nope`)).json.issue[0].diagnostics).toBe(`The code nope is not in the code system ${CLINICAL}`);
        const partial = await get('CodeSystem/$lookup?system=http://snomed.info/sct&code=999999999');
        expect(partial.status).toBe(404);
        expect(partial.json.issue[0].diagnostics).toBe('The code 999999999 is not among the concepts of http://snomed.info/sct that this server holds: it holds only part of that code system');
      });
    });

    describe('ConceptMap/$translate', () => {
      it('translates with the ConceptMaps in the store: found by code, by url, at instance level, and reversed', async () => {
        const byCode = await get(`ConceptMap/$translate?system=${encodeURIComponent(GENDER)}&code=male`);
        expect(byCode.status, JSON.stringify(byCode.json)).toBe(200);
        expect(out(byCode, 'result').valueBoolean).toBe(true);
        const match = out(byCode, 'match');
        expect(match.part).toEqual([
          { name: 'equivalence', valueCode: 'equal' },
          { name: 'concept', valueCoding: { system: 'http://hl7.org/fhir/v2/0001', code: 'M', display: 'Male' } },
          { name: 'source', valueUri: 'urn:test:ConceptMap/gender-to-v2' },
        ]);
        const two = await get(`ConceptMap/gender-to-v2/$translate?system=${encodeURIComponent(GENDER)}&code=other`);
        expect(two.json.parameter.filter((p: any) => p.name === 'match').length).toBe(2);
        const byUrl = await get(`ConceptMap/$translate?url=${encodeURIComponent('urn:test:ConceptMap/gender-to-v2')}&code=male&system=${encodeURIComponent(GENDER)}`);
        expect(out(byUrl, 'result').valueBoolean).toBe(true);
        const reverse = await get(`ConceptMap/$translate?system=${encodeURIComponent('http://hl7.org/fhir/v2/0001')}&code=M&reverse=true`);
        expect(out(reverse, 'match').part[1].valueCoding).toEqual({ system: GENDER, code: 'male' });
        const none = await get(`ConceptMap/$translate?system=${encodeURIComponent(GENDER)}&code=unknown`);
        expect(out(none, 'result').valueBoolean).toBe(false);
        expect(out(none, 'message').valueString).toBeTruthy();
        expect((await get(`ConceptMap/$translate?system=${encodeURIComponent(GENDER)}&code=male&targetsystem=urn:other`)).json.parameter[0].valueBoolean).toBe(false);
        expect((await get('ConceptMap/$translate?url=urn:none&code=male')).status).toBe(404);
        expect((await get('ConceptMap/$translate')).status).toBe(400);
      });
    });

    it('declares each operation with its OperationDefinition', async () => {
      const cs = (await get('metadata')).json;
      const declared = cs.rest[0].operation.map((o: any) => o.definition.reference.split('/').pop());
      for (const id of ['ValueSet-expand', 'ValueSet-validate-code', 'CodeSystem-validate-code', 'CodeSystem-lookup', 'ConceptMap-translate']) {
        expect(declared).toContain(id);
        const def = await get(`OperationDefinition/${id}`);
        expect(def.status).toBe(200);
        expect(def.json.resourceType).toBe('OperationDefinition');
      }
    });
  });
}
