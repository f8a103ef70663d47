import { describe, expect, it } from 'vitest';
import { baseRequiredBindings } from '../../src/validation/profile/base-bindings.js';
import { packageSource } from '../../src/fhir/definitions/package-source.js';
import { validateBase, validateResourceParts } from '../../src/validation/profile/validate.js';
import { CC_PATIENT } from './careconnect-source.js';
import { careConnectCatalogue } from '../../src/validation/profile/catalogue.js';

/**
 * The required bindings of the STU3 base definitions that every write is held to
 * (https://hl7.org/fhir/STU3/terminologies.html#strength), and what an unknown
 * extension's content is checked for.
 */

/** The required bindings whose value sets the server cannot expand completely (docs/validation.md lists the same). */
const NOT_ENFORCED = [
  'Attachment.contentType',
  'Binary.contentType',
  'CapabilityStatement.format',
  'CapabilityStatement.patchFormat',
  'CapabilityStatement.rest.security.certificate.type',
  'ElementDefinition.mapping.language',
  'Endpoint.payloadMimeType',
  'ExpansionProfile.designation.exclude.designation.use',
  'ExpansionProfile.designation.include.designation.use',
  'ImplementationGuide.page.format',
  'Signature.contentType',
];

describe('which required bindings are enforced', () => {
  it('all but those bound to MIME types and to a value set with a SNOMED CT filter', () => {
    const all = baseRequiredBindings();
    expect(all.filter((b) => !b.enforced).map((b) => b.path).sort()).toEqual(NOT_ENFORCED);
    // The count docs/validation.md gives.
    expect(all.filter((b) => b.enforced)).toHaveLength(313);
    expect(all.find((b) => b.path === 'Patient.gender')).toEqual({ path: 'Patient.gender', valueSet: 'http://hl7.org/fhir/ValueSet/administrative-gender', enforced: true });
  });
});

describe('validateBase', () => {
  it.each([
    ['a code', { resourceType: 'Patient', gender: 'banana' }, 'Patient.gender'],
    ['a code in a data type', { resourceType: 'Patient', telecom: [{ system: 'pigeon', value: 'x' }] }, 'Patient.telecom[0].system'],
    ['a code in a backbone element', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, referenceRange: [{ low: { value: 1, comparator: 'about' } }] }, 'Observation.referenceRange[0].low.comparator'],
    ['a CodeableConcept', { resourceType: 'Claim', status: 'active', type: { coding: [{ system: 'http://hl7.org/fhir/ex-claimtype', code: 'nope' }] } }, 'Claim.type.coding[0].code'],
    ['a CodeableConcept with text only', { resourceType: 'Claim', status: 'active', type: { text: 'oral' } }, 'Claim.type'],
    ['a contained resource', { resourceType: 'Patient', contained: [{ resourceType: 'Observation', id: 'o', status: 'bogus', code: { text: 'x' } }] }, 'Patient.contained[0].status'],
    ['a Bundle entry', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', gender: 'banana' } }] }, 'Bundle.entry[0].resource.gender'],
    ['inside an unknown extension', { resourceType: 'Patient', extension: [{ url: 'http://example.org/x', valueContactPoint: { system: 'pigeon', value: 'x' } }] }, 'Patient.extension[0].valueContactPoint.system'],
  ])('refuses %s outside its required binding', (_what, resource, at) => {
    const issues = validateBase(resource);
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: [at] }));
    expect(issues.every((i) => i.severity === 'error')).toBe(true);
  });

  it.each([
    ['codes in their value sets', { resourceType: 'Patient', gender: 'other', telecom: [{ system: 'phone', value: '1' }] }],
    ['a value set the server cannot expand (MIME types)', { resourceType: 'Patient', photo: [{ contentType: 'not/registered' }] }],
    ['extensible and preferred bindings', { resourceType: 'Patient', maritalStatus: { coding: [{ system: 'http://example.org', code: 'Z' }] }, communication: [{ language: { text: 'Klingon' } }] }],
    ['a wrong display (not a binding)', { resourceType: 'Patient', contact: [{ relationship: [{ coding: [{ system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Mom' }] }], name: { family: 'x' } }] }],
  ])('accepts %s', (_what, resource) => {
    expect(validateBase(resource)).toEqual([]);
  });

  it('reports structural errors too, and nothing else', () => {
    const issues = validateBase({ resourceType: 'Patient', gender: 'banana', birthDate: 'yesterday', managingOrganization: { reference: 'Practitioner/1' } });
    expect(issues.map((i) => i.expression?.[0]).sort()).toEqual(['Patient.birthDate', 'Patient.gender']);
  });
});

describe('validateResourceParts', () => {
  const catalogue = careConnectCatalogue();

  it('puts a base required binding with the structural issues; the profile\'s binding of the same element stays with the rest', () => {
    const parts = validateResourceParts({ resourceType: 'Patient', gender: 'banana' }, { source: catalogue.source, profiles: [CC_PATIENT] });
    expect(parts.structural).toEqual([expect.objectContaining({ code: 'code-invalid', expression: ['Patient.gender'], diagnostics: expect.stringContaining('required binding of Patient.gender') })]);
    expect(parts.other).toContainEqual(expect.objectContaining({ code: 'code-invalid', expression: ['Patient.gender'], diagnostics: expect.stringContaining('CareConnect-Patient-1') }));
    // Asked for, not claimed: its issues are the asked ones.
    expect(parts.heldClaims).toEqual([]);
    expect([...parts.asked].some((i) => /CareConnect-Patient-1/.test(i.diagnostics))).toBe(true);
  });

  it('names the claimed profiles the server holds', () => {
    const parts = validateResourceParts({ resourceType: 'Patient', meta: { profile: ['http://example.org/nope', CC_PATIENT] } }, { source: catalogue.source });
    expect(parts.heldClaims).toEqual([CC_PATIENT]);
    expect(parts.asked.size).toBe(0);
    expect(parts.other).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'not-found', diagnostics: expect.stringContaining('http://example.org/nope') }));
  });

  it('an unknown extension\'s codes are not checked against their code system; the same coding outside it is', () => {
    const coding = { system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Mom' };
    const unknownCode = { system: 'http://hl7.org/fhir/v3/RoleCode', code: 'NOPE' };
    const resource = {
      resourceType: 'Patient',
      extension: [
        { url: 'http://example.org/role', valueCoding: coding },
        { url: 'http://example.org/roles', extension: [{ url: 'first', valueCodeableConcept: { coding: [unknownCode] } }, { url: 'second', valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'not a unit' } }] },
      ],
      contact: [{ relationship: [{ coding: [coding, unknownCode] }], name: { family: 'x' } }],
    };
    const { structural, other } = validateResourceParts(resource, { source: packageSource() });
    expect(structural).toEqual([]);
    const inExtensions = other.filter((i) => i.expression?.[0]?.startsWith('Patient.extension'));
    expect(inExtensions.map((i) => [i.severity, i.expression?.[0]])).toEqual([
      ['warning', 'Patient.extension[0]'],
      ['warning', 'Patient.extension[1]'],
    ]);
    expect(inExtensions[0]!.diagnostics).toMatch(/unknown extension http:\/\/example.org\/role; its content was checked against the STU3 data types only/);
    expect(other).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['Patient.contact[0].relationship[0].coding[0].display'] }));
    expect(other).toContainEqual(expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: ['Patient.contact[0].relationship[0].coding[1].code'] }));
  });

  it('a known extension\'s codes are still checked', () => {
    const resource = {
      resourceType: 'Patient',
      birthDate: '2000-01-01',
      extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-congregation', valueString: 'x' }],
      contact: [{ name: { family: 'x' }, extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-relatedPerson', valueReference: { reference: 'RelatedPerson/1' } }] }],
      _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T12:00:00Z' }] },
      maritalStatus: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-SC-coding', valueCoding: { system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Mom' } }] },
    };
    const { other } = validateResourceParts(resource, { source: packageSource() });
    expect(other).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['Patient.maritalStatus.extension[0].valueCoding.display'] }));
  });
});
