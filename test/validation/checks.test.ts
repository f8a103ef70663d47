import { describe, expect, it } from 'vitest';
import type { Issue } from '../../src/fhir/outcome.js';
import { ConformanceIndex, layered } from '../../src/fhir/conformance.js';
import { nhsNumberProblem, packageSource, validateResource, type ValidateOptions } from '../../src/validation/profile/index.js';

/**
 * One table per check of the profile validator, against the STU3 base definitions
 * (the official package) and small inline profiles. Each case names the issue it
 * expects (severity, code, location, a piece of the message) or none.
 */

type Expect = { severity: Issue['severity']; code: Issue['code']; at: string; says?: RegExp };
interface Case {
  name: string;
  resource: Record<string, unknown>;
  options?: Partial<ValidateOptions>;
  /** Issues that must be present (others, e.g. warnings, may be too). */
  expect?: Expect[];
  /** No errors at all. */
  clean?: true;
}

function run(c: Case): Issue[] {
  return validateResource(c.resource, { source: packageSource(), ...c.options });
}

function check(cases: Case[]): void {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const issues = run(c);
    if (c.clean) expect(issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    for (const e of c.expect ?? []) {
      const found = issues.find((i) => i.severity === e.severity && i.code === e.code && i.expression?.[0] === e.at && (!e.says || e.says.test(i.diagnostics)));
      expect(found, `expected ${e.severity} ${e.code} at ${e.at}${e.says ? ` saying ${e.says}` : ''}; got ${JSON.stringify(issues, null, 1)}`).toBeDefined();
    }
  });
}

const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id: 'p', ...extra });
const withProfile = (profile: Record<string, unknown>) => ({ source: new ConformanceIndex().add(profile), profiles: [profile.url as string] });

describe('bindings (https://hl7.org/fhir/STU3/terminologies.html#strength)', () => {
  check([
    { name: 'required, code: a gender outside the value set is an error', resource: patient({ gender: 'x' }), expect: [{ severity: 'error', code: 'code-invalid', at: 'Patient.gender', says: /'x' is not in the value set 'AdministrativeGender'/ }] },
    { name: 'required, code: a gender in the value set is fine', resource: patient({ gender: 'other' }), clean: true },
    {
      name: 'required, CodeableConcept: no coding in the value set is an error',
      resource: { resourceType: 'Claim', id: 'c', status: 'active', type: { coding: [{ system: 'http://hl7.org/fhir/ex-claimtype', code: 'nope' }] } },
      expect: [{ severity: 'error', code: 'code-invalid', at: 'Claim.type.coding[0].code', says: /Claim Type Codes/ }],
    },
    {
      name: 'required, CodeableConcept: one matching coding is enough',
      resource: { resourceType: 'Claim', id: 'c', status: 'active', type: { coding: [{ system: 'http://example.org/other', code: 'x' }, { system: 'http://hl7.org/fhir/ex-claimtype', code: 'oral' }] } },
      clean: true,
    },
    { name: 'required, CodeableConcept: text only is an error', resource: { resourceType: 'Claim', id: 'c', status: 'active', type: { text: 'oral' } }, expect: [{ severity: 'error', code: 'code-invalid', at: 'Claim.type', says: /no code is given/ }] },
    {
      name: 'extensible: a code outside the value set is a warning',
      resource: patient({ maritalStatus: { coding: [{ system: 'http://example.org/marital', code: 'Z' }] } }),
      expect: [{ severity: 'warning', code: 'code-invalid', at: 'Patient.maritalStatus.coding[0].code', says: /should come from/ }],
      clean: true,
    },
    { name: 'example bindings are not checked', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: 'http://example.org', code: 'x' }] } }, clean: true },
    {
      name: 'an unknown value set is a warning, never a crash',
      resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'mg' } },
      options: withProfile({
        resourceType: 'StructureDefinition', url: 'http://example.org/sd/unknown-vs', name: 'UnknownVs', type: 'Observation', kind: 'resource', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
        differential: { element: [{ path: 'Observation.valueQuantity', binding: { strength: 'required', valueSetReference: { reference: 'http://example.org/ValueSet/none' } } }] },
      }),
      expect: [{ severity: 'warning', code: 'code-invalid', at: 'Observation.valueQuantity', says: /http:\/\/example.org\/ValueSet\/none .* not known/ }],
      clean: true,
    },
  ]);
});

describe('codes against their code systems', () => {
  check([
    { name: 'an unknown code in a complete code system', resource: patient({ maritalStatus: { coding: [{ system: 'http://hl7.org/fhir/v3/MaritalStatus', code: 'Q' }] } }), expect: [{ severity: 'error', code: 'code-invalid', at: 'Patient.maritalStatus.coding[0].code', says: /unknown code 'Q'/ }] },
    {
      name: 'a wrong display',
      resource: patient({ contact: [{ relationship: [{ coding: [{ system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Cother' }] }], name: { family: 'X' } }] }),
      expect: [{ severity: 'error', code: 'invalid', at: 'Patient.contact[0].relationship[0].coding[0].display', says: /the code system's display is 'mother'/ }],
    },
    { name: 'a display differing in case only is fine', resource: patient({ contact: [{ relationship: [{ coding: [{ system: 'http://hl7.org/fhir/v3/RoleCode', code: 'MTH', display: 'Mother' }] }], name: { family: 'X' } }] }), clean: true },
    { name: 'a UCUM unit that does not parse', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'tbl' } }, expect: [{ severity: 'error', code: 'code-invalid', at: 'Observation.valueQuantity.code', says: /not a valid UCUM/ }] },
    { name: 'a valid UCUM unit', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } }, clean: true },
    { name: 'a SNOMED CT code with a wrong check digit', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '22298007' }] } }, expect: [{ severity: 'error', code: 'code-invalid', at: 'Observation.code.coding[0].code', says: /Verhoeff/ }] },
    { name: 'a well-formed SNOMED CT code (no SNOMED CT here: only its form is checked)', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '22298006' }] } }, clean: true },
  ]);
});

describe('invariants (FHIRPath, https://hl7.org/fhir/STU3/conformance-rules.html#constraints)', () => {
  check([
    { name: 'per-1: a period ending before it starts', resource: patient({ name: [{ family: 'X', period: { start: '2020-01-02', end: '2020-01-01' } }] }), expect: [{ severity: 'error', code: 'invariant', at: 'Patient.name[0].period', says: /per-1/ }] },
    { name: 'pat-1: a contact with no details', resource: patient({ contact: [{ gender: 'male' }] }), expect: [{ severity: 'error', code: 'invariant', at: 'Patient.contact[0]', says: /pat-1/ }] },
    { name: 'obs-6: a value and a data-absent reason together', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueString: 'a', dataAbsentReason: { text: 'asked' } }, expect: [{ severity: 'error', code: 'invariant', at: 'Observation', says: /obs-6/ }] },
    { name: 'dom-3: a contained resource nothing refers to', resource: patient({ contained: [{ resourceType: 'Organization', id: 'o1', name: 'x' }] }), expect: [{ severity: 'error', code: 'invariant', at: 'Patient', says: /dom-3/ }] },
    { name: 'dom-3: a contained resource that is referred to', resource: patient({ contained: [{ resourceType: 'Organization', id: 'o1', name: 'x' }], managingOrganization: { reference: '#o1' } }), clean: true },
    { name: 'ref-1: a local reference to nothing contained', resource: patient({ managingOrganization: { reference: '#nope' } }), expect: [{ severity: 'error', code: 'invariant', at: 'Patient.managingOrganization', says: /ref-1/ }] },
    { name: 'qty-3: a unit code without a system', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, code: 'mg' } }, expect: [{ severity: 'error', code: 'invariant', at: 'Observation.valueQuantity', says: /qty-3/ }] },
    { name: 'sqty-1 (SimpleQuantity, a profile of the base definitions): no comparator', resource: { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, referenceRange: [{ low: { value: 1, comparator: '<' } }] }, expect: [{ severity: 'error', code: 'invariant', at: 'Observation.referenceRange[0].low', says: /sqty-1/ }, { severity: 'error', code: 'structure', at: 'Observation.referenceRange[0].low.comparator', says: /SimpleQuantity/ }] },
    { name: 'a warning-level constraint gives a warning (nor-1)', resource: { resourceType: 'NutritionOrder', id: 'n', status: 'active', patient: { reference: 'Patient/1' }, dateTime: '2020-01-01' }, expect: [{ severity: 'warning', code: 'invariant', at: 'NutritionOrder', says: /nor-1/ }], clean: true },
    { name: 'invariants of nested resources (Bundle entries) are evaluated', resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', contact: [{ gender: 'male' }] } }] }, expect: [{ severity: 'error', code: 'invariant', at: 'Bundle.entry[0].resource.contact[0]', says: /pat-1/ }] },
  ]);
});

describe('reference targets', () => {
  check([
    { name: 'managingOrganization must be an Organization', resource: patient({ managingOrganization: { reference: 'Practitioner/1' } }), expect: [{ severity: 'error', code: 'structure', at: 'Patient.managingOrganization.reference', says: /a reference to a Practitioner is not allowed .* Organization/ }] },
    { name: 'an absolute reference of the right type', resource: patient({ managingOrganization: { reference: 'http://example.org/fhir/Organization/1/_history/2' } }), clean: true },
    { name: 'a contained target is typed by the contained resource', resource: patient({ contained: [{ resourceType: 'Practitioner', id: 'x' }], managingOrganization: { reference: '#x' } }), expect: [{ severity: 'error', code: 'structure', at: 'Patient.managingOrganization.reference' }] },
    {
      name: 'a urn:uuid reference is typed by the Bundle entry it names',
      resource: { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:a', resource: { resourceType: 'Practitioner' } }, { fullUrl: 'urn:uuid:b', resource: { resourceType: 'Patient', managingOrganization: { reference: 'urn:uuid:a' } } }] },
      expect: [{ severity: 'error', code: 'structure', at: 'Bundle.entry[1].resource.managingOrganization.reference' }],
    },
    { name: 'a reference with only a display is not checked', resource: patient({ managingOrganization: { display: 'Somewhere' } }), clean: true },
  ]);
});

describe('extensions (https://hl7.org/fhir/STU3/extensibility.html)', () => {
  check([
    { name: 'an unknown extension is a warning', resource: patient({ extension: [{ url: 'http://example.org/unknown', valueString: 'x' }] }), expect: [{ severity: 'warning', code: 'extension', at: 'Patient.extension[0]', says: /unknown extension/ }], clean: true },
    { name: 'an unknown extension can be made an error', resource: patient({ extension: [{ url: 'http://example.org/unknown', valueString: 'x' }] }), options: { unknownExtensions: 'error' }, expect: [{ severity: 'error', code: 'extension', at: 'Patient.extension[0]' }] },
    { name: 'an unknown modifier extension is an error', resource: patient({ modifierExtension: [{ url: 'http://example.org/unknown', valueString: 'x' }] }), expect: [{ severity: 'error', code: 'extension', at: 'Patient.modifierExtension[0]', says: /must be rejected/ }] },
    { name: 'a known extension with a value of the wrong type', resource: patient({ birthDate: '2000-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueString: 'noon' }] } }), expect: [{ severity: 'error', code: 'structure', at: 'Patient.birthDate.extension[0].valueString', says: /type string is not allowed/ }] },
    { name: 'a known extension where it belongs', resource: patient({ birthDate: '2000-01-01', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T12:00:00Z' }] } }), clean: true },
    { name: 'a known extension used out of its context', resource: patient({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2000-01-01T12:00:00Z' }] }), expect: [{ severity: 'error', code: 'extension', at: 'Patient.extension[0]', says: /not allowed here .* Patient.birthDate/ }] },
    { name: 'a required binding inside an extension', resource: patient({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-disability', valueCodeableConcept: { text: 'x' } }] }), clean: true },
    {
      name: 'a complex extension is checked by its sub-extension slices',
      resource: patient({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-citizenship', extension: [{ url: 'period', valueString: 'x' }] }] }),
      expect: [{ severity: 'error', code: 'structure', at: 'Patient.extension[0].extension[0].valueString', says: /type string is not allowed/ }],
    },
  ]);
});

describe('NHS numbers (Modulus 11)', () => {
  it.each([
    ['9876543210', undefined],
    ['9434765919', undefined],
    ['9876543211', /check digit is wrong \(expected 0, found 1\)/],
    ['1234567890', /check digit would be 10/],
    ['987654321', /exactly 10 digits/],
    ['987 654 3210', /exactly 10 digits/],
  ])('%s', (value, problem) => {
    const p = nhsNumberProblem(value);
    if (problem) expect(p).toMatch(problem);
    else expect(p).toBeUndefined();
  });
  check([
    { name: 'an Identifier with the NHS number system is checked', resource: patient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543211' }] }), expect: [{ severity: 'error', code: 'value', at: 'Patient.identifier[0].value', says: /not a valid NHS number/ }] },
    { name: 'other identifier systems are not', resource: patient({ identifier: [{ system: 'https://fhir.nhs.uk/Id/local-patient-identifier', value: '9876543211' }] }), clean: true },
  ]);
});

describe('meta.profile claims and requested profiles', () => {
  check([
    { name: 'an unknown claimed profile is a warning', resource: patient({ meta: { profile: ['http://example.org/sd/nope'] } }), expect: [{ severity: 'warning', code: 'not-found', at: 'Patient', says: /claims conformance .* not know/ }], clean: true },
    { name: 'an unknown requested profile is an error', resource: patient(), options: { profiles: ['http://example.org/sd/nope'] }, expect: [{ severity: 'error', code: 'not-found', at: 'Patient' }] },
    { name: 'a profile of another type', resource: patient(), options: { profiles: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] }, expect: [{ severity: 'error', code: 'invalid', at: 'Patient', says: /constrains Observation/ }] },
    {
      name: 'a claimed core profile is checked (vitalsigns: category 1..1)',
      resource: { resourceType: 'Observation', id: 'o', meta: { profile: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] }, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/1' }, effectiveDateTime: '2020-01-01' },
      expect: [{ severity: 'error', code: 'required', at: 'Observation.category', says: /needs at least 1/ }],
    },
  ]);
});

describe('business rules and modes', () => {
  check([
    { name: 'a document Bundle must start with a Composition and have a date', resource: { resourceType: 'Bundle', type: 'document', identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:1' }, entry: [{ fullUrl: 'urn:uuid:2', resource: { resourceType: 'Patient' } }] }, expect: [{ severity: 'error', code: 'invalid', at: 'Bundle.entry[0]' }, { severity: 'error', code: 'required', at: 'Bundle.meta.lastUpdated' }] },
    { name: 'a composite SearchParameter needs two components', resource: { resourceType: 'SearchParameter', url: 'http://example.org/sp', name: 'x', status: 'active', code: 'x', base: ['Patient'], type: 'composite', description: 'x', component: [{ definition: { reference: 'SearchParameter/a' }, expression: 'Patient' }] }, expect: [{ severity: 'error', code: 'business-rule', at: 'SearchParameter' }] },
    { name: 'mode update needs an id', resource: { resourceType: 'Patient' }, options: { mode: 'update' }, expect: [{ severity: 'error', code: 'required', at: 'Patient.id' }] },
    { name: 'not a resource at all', resource: { resourceType: 'Nope' } as Record<string, unknown>, expect: [{ severity: 'error', code: 'structure', at: 'Resource' }] },
  ]);
});

/** A small Observation profile written as a differential, for the slicing and value rules. */
function obsProfile(url: string, elements: Array<Record<string, unknown>>): Record<string, unknown> {
  return { resourceType: 'StructureDefinition', url, name: url.slice(url.lastIndexOf('/') + 1), type: 'Observation', kind: 'resource', derivation: 'constraint', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation', differential: { element: [{ path: 'Observation' }, ...elements] } };
}
const cat = (system: string, code: string) => ({ coding: [{ system, code }] });
const obs = (extra: Record<string, unknown>) => ({ resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, ...extra });

const categorySliced = (rules: string, ordered = false) =>
  obsProfile(`http://example.org/sd/cat-${rules}${ordered ? '-ordered' : ''}`, [
    { path: 'Observation.category', slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules, ordered } },
    { path: 'Observation.category', sliceName: 'vital', min: 1, max: '1', patternCodeableConcept: cat('http://hl7.org/fhir/observation-category', 'vital-signs') },
    { path: 'Observation.category', sliceName: 'lab', max: '1', patternCodeableConcept: cat('http://hl7.org/fhir/observation-category', 'laboratory') },
  ]);

describe('slicing (https://hl7.org/fhir/STU3/profiling.html#slicing)', () => {
  const vital = cat('http://hl7.org/fhir/observation-category', 'vital-signs');
  const lab = cat('http://hl7.org/fhir/observation-category', 'laboratory');
  const other = cat('http://example.org/cat', 'x');
  check([
    { name: 'pattern discriminator: matched slices', resource: obs({ category: [vital, lab] }), options: withProfile(categorySliced('closed')), clean: true },
    { name: 'closed: a value matching no slice', resource: obs({ category: [vital, other] }), options: withProfile(categorySliced('closed')), expect: [{ severity: 'error', code: 'structure', at: 'Observation.category[1]', says: /matches none of the slices .* closed/ }] },
    { name: 'open: a value matching no slice is fine', resource: obs({ category: [vital, other] }), options: withProfile(categorySliced('open')), clean: true },
    { name: 'openAtEnd: unmatched values come last', resource: obs({ category: [other, vital] }), options: withProfile(categorySliced('openAtEnd')), expect: [{ severity: 'error', code: 'structure', at: 'Observation.category[1]', says: /openAtEnd/ }] },
    { name: 'openAtEnd: unmatched at the end is fine', resource: obs({ category: [vital, other] }), options: withProfile(categorySliced('openAtEnd')), clean: true },
    { name: 'ordered: slices in their order', resource: obs({ category: [lab, vital] }), options: withProfile(categorySliced('closed', true)), expect: [{ severity: 'error', code: 'structure', at: 'Observation.category[1]', says: /ordered/ }] },
    { name: 'slice minimum', resource: obs({ category: [lab] }), options: withProfile(categorySliced('open')), expect: [{ severity: 'error', code: 'required', at: 'Observation.category', says: /slice 'vital' .* at least 1/ }] },
    { name: 'slice maximum', resource: obs({ category: [vital, vital] }), options: withProfile(categorySliced('open')), expect: [{ severity: 'error', code: 'structure', at: 'Observation.category', says: /slice 'vital' .* at most 1/ }] },
    {
      name: 'value discriminator on a child (coding.system) with a fixed value',
      resource: obs({ code: { coding: [{ system: 'http://loinc.org', code: '1-8' }] } }),
      options: withProfile(
        obsProfile('http://example.org/sd/code-value', [
          { path: 'Observation.code.coding', slicing: { discriminator: [{ type: 'value', path: 'system' }], rules: 'open' } },
          { path: 'Observation.code.coding', sliceName: 'snomed', min: 1 },
          { path: 'Observation.code.coding.system', fixedUri: 'http://snomed.info/sct' },
        ]),
      ),
      expect: [{ severity: 'error', code: 'required', at: 'Observation.code.coding', says: /slice 'snomed'/ }],
    },
    {
      name: 'type discriminator on a choice',
      resource: obs({ valueString: 'x' }),
      options: withProfile(
        obsProfile('http://example.org/sd/value-type', [
          { path: 'Observation.value[x]', slicing: { discriminator: [{ type: 'type', path: '$this' }], rules: 'closed' } },
          { path: 'Observation.valueQuantity', sliceName: 'valueQuantity', type: [{ code: 'Quantity' }] },
        ]),
      ),
      expect: [{ severity: 'error', code: 'structure', at: 'Observation.valueString', says: /type string is not allowed/ }],
    },
    {
      name: 'exists discriminator',
      resource: obs({ component: [{ code: { text: 'a' } }, { code: { text: 'b' }, valueString: 'x' }] }),
      options: withProfile(
        obsProfile('http://example.org/sd/exists', [
          { path: 'Observation.component', slicing: { discriminator: [{ type: 'exists', path: 'value' }], rules: 'closed' } },
          { path: 'Observation.component', sliceName: 'valued', max: '1' },
          { path: 'Observation.component.value[x]', min: 1 },
        ]),
      ),
      expect: [{ severity: 'error', code: 'structure', at: 'Observation.component[0]', says: /matches none/ }],
    },
    {
      name: 're-slicing inside a slice',
      resource: obs({ category: [vital] }),
      options: withProfile(
        obsProfile('http://example.org/sd/reslice', [
          { path: 'Observation.category', slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' } },
          { path: 'Observation.category', sliceName: 'cats', slicing: { discriminator: [{ type: 'pattern', path: '$this' }], rules: 'open' } },
          { path: 'Observation.category', sliceName: 'cats/lab', min: 1, patternCodeableConcept: cat('http://hl7.org/fhir/observation-category', 'laboratory') },
        ]),
      ),
      expect: [{ severity: 'error', code: 'required', at: 'Observation.category', says: /slice 'cats\/lab'/ }],
    },
  ]);
});

describe('profile values: cardinality, types, fixed and pattern values, maxLength, invariants', () => {
  const p = (elements: Array<Record<string, unknown>>) => withProfile(obsProfile(`http://example.org/sd/v${JSON.stringify(elements).length}`, elements));
  check([
    { name: 'a narrowed minimum', resource: obs({}), options: p([{ path: 'Observation.subject', min: 1 }]), expect: [{ severity: 'error', code: 'required', at: 'Observation.subject', says: /at least 1/ }] },
    { name: 'a maximum of 0', resource: obs({ comment: 'x' }), options: p([{ path: 'Observation.comment', max: '0' }]), expect: [{ severity: 'error', code: 'structure', at: 'Observation.comment', says: /not allowed/ }] },
    { name: 'a type restriction on a choice', resource: obs({ valueString: 'x' }), options: p([{ path: 'Observation.value[x]', type: [{ code: 'Quantity' }] }]), expect: [{ severity: 'error', code: 'structure', at: 'Observation.valueString', says: /allows Quantity/ }] },
    { name: 'a fixed value', resource: obs({ status: 'preliminary' }), options: p([{ path: 'Observation.status', fixedCode: 'final' }]), expect: [{ severity: 'error', code: 'value', at: 'Observation.status', says: /must be 'final'/ }] },
    { name: 'a pattern value', resource: obs({ code: { coding: [{ system: 'http://loinc.org', code: '1-8' }] } }), options: p([{ path: 'Observation.code', patternCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '2-6' }] } }]), expect: [{ severity: 'error', code: 'value', at: 'Observation.code', says: /match the pattern/ }] },
    { name: 'a pattern value met with more besides', resource: obs({ code: { coding: [{ system: 'http://loinc.org', code: '2-6', display: 'x' }], text: 'y' } }), options: p([{ path: 'Observation.code', patternCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '2-6' }] } }]), clean: true },
    { name: 'maxLength', resource: obs({ comment: 'abcdef' }), options: p([{ path: 'Observation.comment', maxLength: 3 }]), expect: [{ severity: 'error', code: 'too-long', at: 'Observation.comment' }] },
    { name: 'a profile invariant (error)', resource: obs({}), options: p([{ path: 'Observation', constraint: [{ key: 'x-1', severity: 'error', human: 'needs a subject', expression: 'subject.exists()' }] }]), expect: [{ severity: 'error', code: 'invariant', at: 'Observation', says: /x-1/ }] },
    { name: 'a profile invariant (warning)', resource: obs({}), options: p([{ path: 'Observation', constraint: [{ key: 'x-2', severity: 'warning', human: 'should have a subject', expression: 'subject.exists()' }] }]), expect: [{ severity: 'warning', code: 'invariant', at: 'Observation', says: /x-2/ }], clean: true },
    { name: 'narrowed reference targets', resource: obs({ subject: { reference: 'Group/1' } }), options: p([{ path: 'Observation.subject', type: [{ code: 'Reference', targetProfile: 'http://hl7.org/fhir/StructureDefinition/Patient' }] }]), expect: [{ severity: 'error', code: 'structure', at: 'Observation.subject.reference', says: /a reference to a Group is not allowed/ }] },
    {
      name: 'a required binding to a value set contained in the profile',
      resource: obs({ status: 'amended' }),
      options: withProfile({
        ...obsProfile('http://example.org/sd/contained-vs', [{ path: 'Observation.status', binding: { strength: 'required', valueSetReference: { reference: '#final-only' } } }]),
        contained: [{ resourceType: 'ValueSet', id: 'final-only', status: 'active', compose: { include: [{ system: 'http://hl7.org/fhir/observation-status', concept: [{ code: 'final' }] }] } }],
      }),
      expect: [{ severity: 'error', code: 'code-invalid', at: 'Observation.status' }],
    },
    {
      name: 'a differential on top of another differential profile',
      resource: obs({}),
      options: {
        source: new ConformanceIndex()
          .add(obsProfile('http://example.org/sd/base', [{ path: 'Observation.subject', min: 1 }]))
          .add({ ...obsProfile('http://example.org/sd/derived', [{ path: 'Observation.comment', min: 1 }]), baseDefinition: 'http://example.org/sd/base' }),
        profiles: ['http://example.org/sd/derived'],
      },
      expect: [
        { severity: 'error', code: 'required', at: 'Observation.subject' },
        { severity: 'error', code: 'required', at: 'Observation.comment' },
      ],
    },
  ]);

  it('the package source is consulted beneath the given one', () => {
    const source = layered(new ConformanceIndex());
    expect(validateResource({ resourceType: 'Patient', gender: 'x' }, { source }).some((i) => i.code === 'code-invalid')).toBe(true);
  });
});
