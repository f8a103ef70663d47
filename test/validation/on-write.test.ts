import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationSetting } from '../../src/config.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { CC_PATIENT, goodPatient } from './careconnect-source.js';

/**
 * Validation on write, on each store: the required bindings of the STU3 base definitions
 * are enforced whatever CCRI_VALIDATION says (400), and under the default setting
 * (`claimed`) data written to other national profiles is accepted, with warnings, while a
 * resource that claims a profile the server holds is held to it.
 * https://hl7.org/fhir/STU3/terminologies.html#strength, https://hl7.org/fhir/STU3/validation.html
 */

const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
const SHR_BODY_WEIGHT = 'http://standardhealthrecord.org/fhir/StructureDefinition/shr-vital-BodyWeight';

/** A patient as a US generator writes it: US Core, its extensions, `communication` (which Care Connect forbids), a v3 display that is not the code system's. */
function usCorePatient(id?: string): Record<string, unknown> {
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    meta: { profile: [US_CORE_PATIENT] },
    extension: [
      {
        url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
        extension: [
          { url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White' } },
          { url: 'text', valueString: 'White' },
        ],
      },
      { url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex', valueCode: 'F' },
      // An unknown extension holding a code of a code system the server holds, with a display that is not the system's.
      { url: 'http://example.org/fhir/StructureDefinition/next-of-kin-role', valueCoding: { system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Mom' } },
      { url: 'http://hl7.org/fhir/StructureDefinition/birthPlace', valueAddress: { city: 'Boston', state: 'MA', country: 'US' } },
    ],
    identifier: [{ system: 'https://github.com/synthetichealth/synthea', value: '7c2d2c1e-0b4d-4b5f-9a57-6c0d1f0c4b11' }],
    name: [{ use: 'official', family: 'Doe', given: ['Jane'], prefix: ['Mrs.'] }],
    telecom: [{ system: 'phone', value: '555-123-4567', use: 'home' }],
    gender: 'female',
    birthDate: '1970-01-01',
    address: [{ line: ['1 Main St'], city: 'Boston', state: 'MA', country: 'US' }],
    maritalStatus: { coding: [{ system: 'http://hl7.org/fhir/v3/MaritalStatus', code: 'M', display: 'M' }], text: 'M' },
    communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'en-US', display: 'English (United States)' }] } }],
  };
}

/** An Observation written to a Standard Health Record profile, with an SHR extension. */
function shrObservation(subject: string): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    meta: { profile: [SHR_BODY_WEIGHT] },
    extension: [
      {
        url: 'http://standardhealthrecord.org/fhir/StructureDefinition/shr-base-ActionCode-extension',
        valueCodeableConcept: { coding: [{ system: 'http://snomed.info/sct', code: '261665006', display: 'Unknown' }] },
      },
    ],
    status: 'final',
    category: [{ coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body Weight' }] },
    subject: { reference: subject },
    effectiveDateTime: '2020-01-01T10:00:00Z',
    valueQuantity: { value: 70.1, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  };
}

const errorsOf = (issues: any[]) => issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');

for (const kind of await storeKinds()) {
  describe(`foreign profiles and extensions under the default configuration (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(() => s.cleanup());

    it('the default setting is claimed', () => {
      expect(s.server.config.validation).toBe('claimed');
    });

    it('create: accepted, with warnings for the unknown profile, the unknown extensions and the unclaimed Care Connect profile', async () => {
      const r = await s.request('POST', '/STU3/Patient', { body: usCorePatient(), headers: { prefer: 'return=OperationOutcome' } });
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      const issues = r.json.issue as any[];
      expect(errorsOf(issues)).toEqual([]);
      expect(issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'not-found', expression: ['Patient'], diagnostics: expect.stringContaining(US_CORE_PATIENT) }));
      expect(issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'extension', expression: ['Patient.extension[0]'], diagnostics: expect.stringMatching(/unknown extension .*us-core-race/) }));
      // Care Connect forbids communication: said, as a warning, since the resource does not claim Care Connect.
      expect(issues).toContainEqual(expect.objectContaining({ severity: 'warning', expression: ['Patient.communication[0]'], diagnostics: expect.stringContaining('CareConnect-Patient-1') }));
      // The unknown extension's content is not checked against the code system; the same coding elsewhere would be.
      expect(issues.filter((i) => i.expression?.[0]?.startsWith('Patient.extension[2]'))).toEqual([
        expect.objectContaining({ severity: 'warning', code: 'extension', diagnostics: expect.stringMatching(/unknown extension .*checked against the STU3 data types only/) }),
      ]);
      expect(issues).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'invalid', expression: ['Patient.maritalStatus.coding[0].display'] }));
      const read = await s.request('GET', new URL(String(r.headers.location)).pathname.replace(/\/_history\/\d+$/, ''));
      expect(read.status).toBe(200);
      expect(read.json.communication).toHaveLength(1);
    });

    it('update: create-by-update and a second version are accepted', async () => {
      const first = await s.request('PUT', '/STU3/Patient/us-core-1', { body: usCorePatient('us-core-1') });
      expect(first.status, JSON.stringify(first.json)).toBe(201);
      const second = await s.request('PUT', '/STU3/Patient/us-core-1', { body: { ...usCorePatient('us-core-1'), birthDate: '1971-02-02' } });
      expect(second.status, JSON.stringify(second.json)).toBe(200);
      expect(second.json.birthDate).toBe('1971-02-02');
    });

    for (const type of ['transaction', 'batch'] as const) {
      it(`a ${type} Bundle of them is accepted`, async () => {
        const bundle = {
          resourceType: 'Bundle',
          type,
          entry: [
            { fullUrl: 'urn:uuid:7a1d4a9e-1111-4c8e-9d7e-000000000001', resource: usCorePatient(), request: { method: 'POST', url: 'Patient' } },
            { resource: usCorePatient(`us-core-${type}`), request: { method: 'PUT', url: `Patient/us-core-${type}` } },
            { resource: shrObservation(`Patient/us-core-${type}`), request: { method: 'POST', url: 'Observation' } },
          ],
        };
        if (type === 'transaction') (bundle.entry[2]!.resource as any).subject.reference = 'urn:uuid:7a1d4a9e-1111-4c8e-9d7e-000000000001';
        const r = await s.request('POST', '/STU3', { body: bundle });
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        expect(r.json.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created', '201 Created']);
        const obs = await s.request('GET', `/STU3/Observation?subject=${type === 'transaction' ? r.json.entry[0].response.location.split('/')[1] : `us-core-${type}`}`);
        expect(obs.json.total).toBe(1);
      });
    }

    it('a resource that claims a profile the server holds is held to it', async () => {
      const claimed = { ...usCorePatient(), meta: { profile: [CC_PATIENT] } };
      const r = await s.request('POST', '/STU3/Patient', { body: claimed });
      expect(r.status).toBe(422);
      expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', expression: ['Patient.communication[0]'] }));
      // Claiming it beside an unknown profile changes nothing.
      const both = await s.request('POST', '/STU3/Patient', { body: { ...usCorePatient(), meta: { profile: [US_CORE_PATIENT, CC_PATIENT] } } });
      expect(both.status).toBe(422);
      // In a transaction, the whole transaction fails.
      const tx = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: claimed, request: { method: 'POST', url: 'Patient' } }] } });
      expect(tx.status).toBe(422);
      // A conforming one is written.
      const good = goodPatient();
      delete good.id;
      expect((await s.request('POST', '/STU3/Patient', { body: good })).status).toBe(201);
    });

    it('a held profile of another type cannot be claimed', async () => {
      const r = await s.request('POST', '/STU3/Observation', { body: { ...shrObservation('Patient/us-core-1'), meta: { profile: [CC_PATIENT] } } });
      expect(r.status).toBe(422);
      expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid', diagnostics: expect.stringMatching(/constrains Patient, so a Observation cannot conform/) }));
    });

    it('a 422 names only the claimed profile\'s failures as errors: the unclaimed Care Connect profile stays a warning', async () => {
      // Claims the base Observation definition's vital signs profile (held: it is in the STU3 package), without what it requires.
      const vitals = { ...shrObservation('Patient/us-core-1'), meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] }, valueQuantity: { value: 70.1, unit: 'kg' } };
      const r = await s.request('POST', '/STU3/Observation', { body: vitals });
      expect(r.status, JSON.stringify(r.json)).toBe(422);
      const issues = r.json.issue as any[];
      expect(errorsOf(issues).length).toBeGreaterThan(0);
      expect(errorsOf(issues).filter((i) => /CareConnect-Observation-1/.test(i.diagnostics))).toEqual([]);
    });
  });

  describe(`required bindings of the base definitions, in every validation setting (${kind})`, () => {
    const settings: ValidationSetting[] = ['off', 'warn', 'enforce', 'claimed'];
    const servers = new Map<ValidationSetting, TestServer>();
    beforeAll(async () => {
      for (const v of settings) servers.set(v, await startTestServer(kind, { validation: v }));
    });
    afterAll(async () => {
      for (const s of servers.values()) await s.cleanup();
    });

    it.each(settings)('%s: a code outside a required binding is a 400 naming the element', async (setting) => {
      const s = servers.get(setting)!;
      const cases: Array<[string, string, Record<string, unknown>, string]> = [
        ['POST', '/STU3/Patient', { resourceType: 'Patient', gender: 'banana' }, 'Patient.gender'],
        ['POST', '/STU3/Observation', { resourceType: 'Observation', status: 'bogus', code: { text: 'weight' } }, 'Observation.status'],
        ['PUT', '/STU3/Patient/b1', { resourceType: 'Patient', id: 'b1', name: [{ use: 'nickname-ish', family: 'X' }] }, 'Patient.name[0].use'],
        ['POST', '/STU3/Media', { resourceType: 'Media', type: 'hologram', content: { contentType: 'image/png' } }, 'Media.type'],
        ['POST', '/STU3/Patient', { resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', telecom: [{ system: 'pigeon', value: 'x' }] }], managingOrganization: { reference: '#o' } }, 'Patient.contained[0].telecom[0].system'],
      ];
      for (const [method, url, body, at] of cases) {
        const r = await s.request(method, url, { body });
        expect(r.status, `${method} ${url} ${JSON.stringify(r.json)}`).toBe(400);
        expect(r.json.resourceType).toBe('OperationOutcome');
        expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: [at], diagnostics: expect.stringMatching(/is not in the value set .*required binding/) }));
      }
    });

    it.each(settings)('%s: in a transaction the whole Bundle fails; in a batch only the entry', async (setting) => {
      const s = servers.get(setting)!;
      const entry = { resource: { resourceType: 'Observation', status: 'bogus', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } };
      const fine = { resource: { resourceType: 'Media', type: 'photo', content: { contentType: 'image/png' } }, request: { method: 'POST', url: 'Media' } };
      const tx = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry: [fine, entry] } });
      expect(tx.status).toBe(400);
      expect(tx.json.issue[0].diagnostics).toMatch(/Transaction failed on Bundle.entry\[1\].*Observation.status/);
      const batch = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry: [fine, entry] } });
      expect(batch.status).toBe(200);
      expect(batch.json.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '400']);
      expect(batch.json.entry[1].response.outcome.issue[0].expression).toEqual(['Observation.status']);
      // The Bundle's own elements too.
      const method = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry: [{ ...fine, request: { method: 'POST', url: 'Media' }, search: { mode: 'nonsense' } }] } });
      expect(method.status).toBe(400);
      expect(method.json.issue).toContainEqual(expect.objectContaining({ code: 'code-invalid', expression: ['Bundle.entry[0].search.mode'] }));
    });

    it.each(settings)('%s: codes in the value set, and bindings the server cannot expand completely, are accepted', async (setting) => {
      const s = servers.get(setting)!;
      // Attachment.contentType is bound to all MIME types (BCP 13), which the server cannot list: not checked.
      const media = await s.request('POST', '/STU3/Media', { body: { resourceType: 'Media', type: 'video', content: { contentType: 'not/a-registered-type' } } });
      expect(media.status, JSON.stringify(media.json)).toBe(201);
      const obs = await s.request('POST', '/STU3/Observation', { body: { resourceType: 'Observation', status: 'amended', code: { text: 'x' } } });
      expect(obs.status, JSON.stringify(obs.json)).toBe(201);
    });
  });
}
