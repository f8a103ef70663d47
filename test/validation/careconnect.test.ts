import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/fhir/outcome.js';
import { careConnectConformance } from '../../src/profiles/conformance.js';
import type { ConformanceSource } from '../../src/fhir/conformance.js';
import { validateResource } from '../../src/validation/profile/index.js';
import { CC, CC_PATIENT, ETHNIC_CATEGORY, goodPatient, officialCareConnect } from './careconnect-source.js';

/**
 * Care Connect specifics, against the official CareConnect-Patient-1 and its
 * extensions and value sets (../shared/careconnect-stu3), and again against the
 * project's own definitions (src/profiles), which must agree on these cases.
 */

type Change = (p: Record<string, any>) => void;
interface Case {
  name: string;
  change: Change;
  expect: { severity: Issue['severity']; code: Issue['code']; at: string; says: RegExp };
}

const cases: Case[] = [
  {
    name: 'an NHS number failing Modulus 11',
    change: (p) => (p.identifier[0].value = '9876543211'),
    expect: { severity: 'error', code: 'value', at: 'Patient.identifier[0].value', says: /not a valid NHS number: the Modulus 11 check digit is wrong/ },
  },
  {
    name: 'an NHS number without its verification status (1..1 in the nhsNumber slice)',
    change: (p) => delete p.identifier[0].extension,
    expect: { severity: 'error', code: 'required', at: 'Patient.identifier[0].extension', says: /slice 'nhsNumberVerificationStatus' .* at least 1 .*CareConnect-Patient-1/ },
  },
  {
    name: 'an NHS number verification status outside its value set',
    change: (p) => (p.identifier[0].extension[0].valueCodeableConcept.coding[0].code = '99'),
    expect: { severity: 'error', code: 'code-invalid', at: 'Patient.identifier[0].extension[0].valueCodeableConcept.coding[0].code', says: /NHS ?Number ?Verification ?Status/i },
  },
  {
    name: 'an ethnic category code outside the value set',
    change: (p) => (p.extension[0].valueCodeableConcept.coding[0].code = 'ZZ'),
    expect: { severity: 'error', code: 'code-invalid', at: 'Patient.extension[0].valueCodeableConcept.coding[0].code', says: /not in the value set .*Ethnic ?Category/i },
  },
  {
    name: 'an official name without a family name',
    change: (p) => delete p.name[0].family,
    expect: { severity: 'error', code: 'required', at: 'Patient.name[0].family', says: /at least 1 .*Patient.name:official.family/ },
  },
  {
    name: 'no official name at all',
    change: (p) => (p.name[0].use = 'usual'),
    expect: { severity: 'error', code: 'required', at: 'Patient.name', says: /slice 'official'/ },
  },
  {
    name: 'animal (0..0)',
    change: (p) => (p.animal = { species: { text: 'dog' } }),
    expect: { severity: 'error', code: 'structure', at: 'Patient.animal', says: /not allowed .*CareConnect-Patient-1/ },
  },
  {
    name: 'communication (0..0: Care Connect uses the NHSCommunication extension)',
    change: (p) => (p.communication = [{ language: { text: 'English' } }]),
    expect: { severity: 'error', code: 'structure', at: 'Patient.communication[0]', says: /not allowed/ },
  },
  {
    name: 'a reference of the wrong type (managingOrganization to a Practitioner)',
    change: (p) => (p.managingOrganization = { reference: 'Practitioner/1' }),
    expect: { severity: 'error', code: 'structure', at: 'Patient.managingOrganization.reference', says: /a reference to a Practitioner is not allowed/ },
  },
  {
    name: 'an unknown extension',
    change: (p) => p.extension.push({ url: 'http://example.org/fhir/StructureDefinition/favourite-colour', valueString: 'green' }),
    expect: { severity: 'warning', code: 'extension', at: 'Patient.extension[1]', says: /unknown extension/ },
  },
  {
    name: 'an ethnic category given twice (0..1)',
    change: (p) => p.extension.push(structuredClone(p.extension[0])),
    expect: { severity: 'error', code: 'structure', at: 'Patient.extension', says: /slice 'ethnicCategory' .* at most 1/ },
  },
  {
    name: 'a required binding in a CodeableConcept (maritalStatus)',
    change: (p) => (p.maritalStatus = { coding: [{ system: 'http://example.org/marital', code: 'X', display: 'X' }] }),
    expect: { severity: 'error', code: 'code-invalid', at: 'Patient.maritalStatus.coding[0].code', says: /not in the value set .*Marital/i },
  },
  {
    name: 'a gender outside CareConnect-AdministrativeGender-1',
    change: (p) => (p.gender = 'x'),
    expect: { severity: 'error', code: 'code-invalid', at: 'Patient.gender', says: /CareConnect-AdministrativeGender-1/ },
  },
  {
    name: 'a telecom without a value (1..1 in Care Connect)',
    change: (p) => delete p.telecom[0].value,
    expect: { severity: 'error', code: 'required', at: 'Patient.telecom[0].value', says: /at least 1/ },
  },
  {
    name: 'the NHS number verification status extension on the patient instead of the identifier',
    change: (p) => p.extension.push(p.identifier[0].extension[0]),
    expect: { severity: 'error', code: 'extension', at: 'Patient.extension[1]', says: /not allowed here/ },
  },
];

const sources: Array<[string, () => ConformanceSource | undefined]> = [
  ['official definitions (../shared/careconnect-stu3)', officialCareConnect],
  ['the project\'s definitions (src/profiles)', careConnectConformance],
];

describe.each(sources)('CareConnect-Patient-1, %s', (_label, sourceOf) => {
  const source = sourceOf();
  const run = (p: Record<string, unknown>) => (source ? validateResource(p, { source }) : []);

  it.skipIf(!source)('a conforming patient has no errors', () => {
    const issues = run(goodPatient());
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it.skipIf(!source).each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const p = goodPatient() as Record<string, any>;
    c.change(p);
    const issues = run(p);
    const e = c.expect;
    const found = issues.find((i) => i.severity === e.severity && i.code === e.code && i.expression?.[0] === e.at && e.says.test(i.diagnostics));
    expect(found, `expected ${e.severity} ${e.code} at ${e.at} saying ${e.says}; got ${JSON.stringify(issues, null, 1)}`).toBeDefined();
  });

  it.skipIf(!source)('the same patient without meta.profile is checked against the profile when asked', () => {
    const p = goodPatient() as Record<string, any>;
    delete p.meta;
    p.identifier[0].value = '9876543211';
    delete p.identifier[0].extension;
    const plain = run(p);
    expect(plain.some((i) => i.code === 'required')).toBe(false);
    const asked = source ? validateResource(p, { source, profiles: [CC_PATIENT] }) : [];
    expect(asked.some((i) => i.code === 'required' && /nhsNumberVerificationStatus/.test(i.diagnostics))).toBe(true);
  });
});

describe('Care Connect extensions', () => {
  const source = officialCareConnect();
  it.skipIf(!source)('NHSCommunication (a complex extension) needs its language sub-extension', () => {
    const p = goodPatient() as Record<string, any>;
    p.extension.push({ url: `${CC}/StructureDefinition/Extension-CareConnect-NHSCommunication-1`, extension: [{ url: 'preferred', valueBoolean: true }] });
    const issues = validateResource(p, { source: source! });
    expect(issues.find((i) => i.severity === 'error' && i.expression?.[0] === 'Patient.extension[1].extension' && /slice 'language'/.test(i.diagnostics)), JSON.stringify(issues)).toBeDefined();
  });

  it.skipIf(!source)('an ethnic category with a value of the wrong type', () => {
    const p = goodPatient() as Record<string, any>;
    p.extension[0] = { url: ETHNIC_CATEGORY, valueString: 'A' };
    const issues = validateResource(p, { source: source! });
    expect(issues.find((i) => i.severity === 'error' && i.expression?.[0] === 'Patient.extension[0].valueString'), JSON.stringify(issues)).toBeDefined();
  });
});
