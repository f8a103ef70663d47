import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../fhir/definitions/cache.js';
import { fhirModel } from '../fhir/definitions/model.js';
import { definitionsPackageDir } from '../fhir/definitions/package-files.js';
import { parseJson } from '../fhir/json.js';
import type { Issue, IssueCode } from '../fhir/outcome.js';
import { validateStructure } from './structure.js';

const errorsOf = (resource: unknown, at?: string): Issue[] =>
  validateStructure(resource, at === undefined ? {} : { path: at }).filter((i) => i.severity === 'error');
const located = (issues: Issue[]) => issues.map((i) => [i.code, i.expression?.[0]]);

const patient = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', ...extra });
const observation = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...extra });
const ext = (extra: Record<string, unknown> = { valueString: 'v' }) => ({ url: 'http://example.org/x', ...extra });
const div = (inner = '<p>x</p>', attrs = ' xmlns="http://www.w3.org/1999/xhtml"') => `<div${attrs}>${inner}</div>`;
const narrative = (d: string) => patient({ text: { status: 'generated', div: d } });

type Case = [name: string, resource: unknown, expected: Array<[IssueCode, string]>];

const cases: Record<string, Case[]> = {
  '1. root and resourceType': [
    ['a minimal Patient', patient(), []],
    ['null', null, [['structure', 'Resource']]],
    ['an array', [patient()], [['structure', 'Resource']]],
    ['a string', 'Patient', [['structure', 'Resource']]],
    ['no resourceType', { id: 'a' }, [['required', 'Resource']]],
    ['a resourceType that is not a string', { resourceType: 5 }, [['structure', 'Resource']]],
    ['an unknown resourceType (one issue, nothing more)', { resourceType: 'Foo', bar: 1, id: '%%' }, [['structure', 'Resource']]],
    ['an abstract resourceType', { resourceType: 'DomainResource' }, [['structure', 'Resource']]],
  ],
  '2. unknown properties': [
    ['unknown at the root', patient({ foo: 1 }), [['structure', 'Patient.foo']]],
    ['an unknown name that is not a FHIRPath identifier', patient({ 'a b': 1 }), [['structure', 'Patient.`a b`']]],
    ['unknown inside an element', patient({ name: [{ family: 'a', foo: 1 }] }), [['structure', 'Patient.name[0].foo']]],
    ['__proto__ as a key', parseJson('{"resourceType":"Patient","__proto__":{"id":"x"}}'), [['structure', 'Patient.__proto__']]],
    ['resourceType inside an element', patient({ name: [{ resourceType: 'X', family: 'a' }] }), [['structure', 'Patient.name[0].resourceType']]],
    ['resourceType where the element is really called so (Claim.payee)', { resourceType: 'Claim', payee: { type: { text: 'x' }, resourceType: { code: 'organization' } } }, []],
    ['_name beside a complex element', patient({ name: [{ family: 'a' }], _name: [{ id: 'x' }] }), [['structure', 'Patient._name']]],
    ['a choice without its type', observation({ value: 5 }), [['structure', 'Observation.value']]],
    ['a choice with a type it does not have', observation({ valueInteger: 5 }), [['structure', 'Observation.valueInteger']]],
  ],
  '3. array-ness': [
    ['a repeating element as an object', patient({ name: { family: 'a' } }), [['structure', 'Patient.name']]],
    ['a single element as an array', patient({ gender: ['male'] }), [['structure', 'Patient.gender']]],
    ['an empty array', patient({ name: [] }), [['structure', 'Patient.name']]],
    ['an empty repeating primitive', patient({ name: [{ given: [] }] }), [['structure', 'Patient.name[0].given']]],
    ['nested arrays in a repeating primitive', patient({ name: [{ given: [['a']] }] }), [['structure', 'Patient.name[0].given[0]']]],
  ],
  '4. cardinality and choices': [
    ['missing required elements', { resourceType: 'Observation' }, [['required', 'Observation.status'], ['required', 'Observation.code']]],
    ['a required element inside a backbone', patient({ link: [{ type: 'seealso' }] }), [['required', 'Patient.link[0].other']]],
    ['a required primitive present only as _status', { resourceType: 'Observation', code: { text: 'x' }, _status: { extension: [ext()] } }, []],
    ['a required choice present', { resourceType: 'MedicationRequest', intent: 'order', subject: { reference: 'Patient/1' }, medicationCodeableConcept: { text: 'x' } }, []],
    ['a required choice missing', { resourceType: 'MedicationRequest', intent: 'order', subject: { reference: 'Patient/1' } }, [['required', 'MedicationRequest.medication']]],
    ['two forms of one choice', observation({ valueString: 'a', valueQuantity: { value: 1 } }), [['structure', 'Observation.valueQuantity']]],
    ['a value and the _ of another form', observation({ valueString: 'a', _valueDateTime: { extension: [ext()] } }), [['structure', 'Observation._valueDateTime']]],
    ['a value and its own _ form', observation({ valueString: 'a', _valueString: { id: 'x' } }), []],
    ['two choice elements, one form each', patient({ deceasedBoolean: false, multipleBirthInteger: 2 }), []],
    ['an element with maximum cardinality 0 (xhtml has no extensions)', patient({ text: { status: 'generated', div: div(), _div: { extension: [ext()] } } }), [['structure', 'Patient.text._div.extension']]],
  ],
  '5. primitive types and values': [
    ['a complex element given a string', patient({ name: ['Smith'] }), [['structure', 'Patient.name[0]']]],
    ['a complex element given null', patient({ maritalStatus: null }), [['structure', 'Patient.maritalStatus']]],
    ['a primitive given null', patient({ birthDate: null }), [['structure', 'Patient.birthDate']]],
    ['a primitive given an object', patient({ birthDate: { value: '2000' } }), [['structure', 'Patient.birthDate']]],
    ['a boolean as a string', patient({ active: 'true' }), [['value', 'Patient.active']]],
    ['a date as a number', patient({ birthDate: 19700101 }), [['value', 'Patient.birthDate']]],
    ['a date with month 13', patient({ birthDate: '2017-13-01' }), [['value', 'Patient.birthDate']]],
    ['a date that is not in the calendar', patient({ birthDate: '2017-02-29' }), [['value', 'Patient.birthDate']]],
    ['a leap day', patient({ birthDate: '2016-02-29' }), []],
    ['partial dates', patient({ birthDate: '2016-02', name: [{ period: { start: '2016' } }] }), []],
    ['a dateTime with a time but no zone', patient({ deceasedDateTime: '2017-01-01T10:00:00' }), [['value', 'Patient.deceasedDateTime']]],
    ['an instant without a time', patient({ meta: { lastUpdated: '2017-01-01' } }), [['value', 'Patient.meta.lastUpdated']]],
    ['an id with a bad character', patient({ id: 'a_b' }), [['value', 'Patient.id']]],
    ['an id of 65 characters', patient({ id: 'a'.repeat(65) }), [['value', 'Patient.id']]],
    ['an element id is a plain string', patient({ name: [{ id: 'any text: 1', family: 'a' }] }), []],
    ['an empty string', patient({ name: [{ family: '' }] }), [['value', 'Patient.name[0].family']]],
    ['an empty code', patient({ gender: '' }), [['value', 'Patient.gender']]],
    ['a code with a leading space', patient({ gender: ' male' }), [['value', 'Patient.gender']]],
    ['a code with a double space', patient({ language: 'en  GB' }), [['value', 'Patient.language']]],
    ['a uri with a space', patient({ identifier: [{ system: 'http://a b', value: '1' }] }), [['value', 'Patient.identifier[0].system']]],
    ['an oid without urn:oid:', { resourceType: 'ImagingStudy', uid: '1.2.3', patient: { reference: 'Patient/1' } }, [['value', 'ImagingStudy.uid']]],
    ['a time out of range', observation({ valueTime: '25:00:00' }), [['value', 'Observation.valueTime']]],
    ['base64 with a bad character', patient({ photo: [{ data: 'not base64!' }] }), [['value', 'Patient.photo[0].data']]],
    ['base64 of whitespace only', patient({ photo: [{ data: ' \n ' }] }), [['value', 'Patient.photo[0].data']]],
    ['base64 with line breaks', patient({ photo: [{ data: 'SGVs\nbG8=' }] }), []],
    ['a decimal as a string', observation({ valueQuantity: { value: '5' } }), [['value', 'Observation.valueQuantity.value']]],
    ['a decimal', observation({ valueQuantity: { value: -0.5 } }), []],
  ],
  '6. primitive extensions (_name)': [
    ['an extension without the value', patient({ _birthDate: { extension: [ext()] } }), []],
    ['an id and the value', patient({ birthDate: '2000', _birthDate: { id: 'a' } }), []],
    ['an id only, without the value (ele-1)', patient({ _birthDate: { id: 'a' } }), [['structure', 'Patient._birthDate']]],
    ['an empty _ object', patient({ birthDate: '2000', _birthDate: {} }), [['structure', 'Patient._birthDate']]],
    ['a _ that is not an object', patient({ _birthDate: 'x' }), [['structure', 'Patient._birthDate']]],
    ['the value inside the _ object', patient({ _birthDate: { value: '2000' } }), [['structure', 'Patient._birthDate.value']]],
    ['aligned arrays with nulls', patient({ name: [{ given: ['a', null], _given: [null, { extension: [ext()] }] }] }), []],
    ['arrays of different lengths', patient({ name: [{ given: ['a', 'b'], _given: [null] }] }), [['structure', 'Patient.name[0].given']]],
    ['a null without a _ array', patient({ name: [{ given: ['a', null] }] }), [['structure', 'Patient.name[0].given[1]']]],
    ['null on both sides (reported once)', patient({ name: [{ given: ['a', null], _given: [null, null] }] }), [['structure', 'Patient.name[0].given[1]']]],
    ['a _ array of nulls without values', patient({ name: [{ _given: [null] }] }), [['structure', 'Patient.name[0]._given[0]']]],
    ['a _ array without values', patient({ name: [{ _given: [{ extension: [ext()] }] }] }), []],
    ['a _ of a repeating primitive as an object', patient({ name: [{ given: ['a'], _given: { id: 'x' } }] }), [['structure', 'Patient.name[0]._given']]],
    ['a bad value inside a _ object', patient({ _birthDate: { extension: [{ url: 'http://x', valueDate: '2017-13' }] } }), [['value', 'Patient._birthDate.extension[0].valueDate']]],
  ],
  '7. empty objects (ele-1)': [
    ['an empty complex element', patient({ maritalStatus: {} }), [['structure', 'Patient.maritalStatus']]],
    ['an empty object in an array', patient({ name: [{ family: 'a' }, {}] }), [['structure', 'Patient.name[1]']]],
    ['an element with only an id', patient({ name: [{ id: 'x' }] }), [['structure', 'Patient.name[0]']]],
    ['an empty backbone element', patient({ contact: [{}] }), [['structure', 'Patient.contact[0]']]],
  ],
  '8. contained and nested resources': [
    ['a contained resource', patient({ contained: [{ resourceType: 'Organization', id: 'o1', name: 'x' }] }), []],
    ['a contained resource without an id', patient({ contained: [{ resourceType: 'Organization', name: 'x' }] }), [['required', 'Patient.contained[0].id']]],
    ['a contained resource that contains (dom-2)', patient({ contained: [{ resourceType: 'Organization', id: 'o', contained: [{ resourceType: 'Organization', id: 'p' }] }] }), [['invalid', 'Patient.contained[0].contained']]],
    ['a contained resource with a narrative (dom-1)', patient({ contained: [{ resourceType: 'Organization', id: 'o', text: { status: 'generated', div: div() } }] }), [['invalid', 'Patient.contained[0].text']]],
    ['a contained resource with meta.versionId and lastUpdated (dom-4)', patient({ contained: [{ resourceType: 'Organization', id: 'o', meta: { versionId: '1', lastUpdated: '2017-01-01T00:00:00Z' } }] }), [['invalid', 'Patient.contained[0].meta.versionId'], ['invalid', 'Patient.contained[0].meta.lastUpdated']]],
    ['contained that is not a resource', patient({ contained: ['x'] }), [['structure', 'Patient.contained[0]']]],
    ['contained of an unknown type', patient({ contained: [{ resourceType: 'Foo', id: 'x' }] }), [['structure', 'Patient.contained[0]']]],
    ['an error inside a contained resource', patient({ contained: [{ resourceType: 'Organization', id: 'o', name: 5 }] }), [['value', 'Patient.contained[0].name']]],
    ['a resource in a Bundle entry', { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1' }, { resource: patient({ birthDate: 'x' }) }] }, [['value', 'Bundle.entry[1].resource.birthDate']]],
    ['a Bundle entry resource without resourceType', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: { id: 'x' } }] }, [['required', 'Bundle.entry[0].resource']]],
    ['a resource in Parameters', { resourceType: 'Parameters', parameter: [{ name: 'p', resource: observation({ status: 5 }) }] }, [['value', 'Parameters.parameter[0].resource.status']]],
    ['a contained resource in a Bundle entry resource', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: patient({ contained: [{ resourceType: 'Organization', id: 'o', text: { status: 'generated', div: div() } }] }) }] }, [['invalid', 'Bundle.entry[0].resource.contained[0].text']]],
  ],
  '9. extensions': [
    ['an extension with a value', patient({ extension: [ext()] }), []],
    ['nested extensions', patient({ extension: [{ url: 'http://x', extension: [ext(), ext({ valueInteger: 1 })] }] }), []],
    ['an extension without a url', patient({ extension: [{ valueString: 'x' }] }), [['required', 'Patient.extension[0].url']]],
    ['an extension with a value and extensions (ext-1)', patient({ extension: [ext({ valueString: 'x', extension: [ext()] })] }), [['invalid', 'Patient.extension[0]']]],
    ['an extension with neither (ext-1)', patient({ extension: [{ url: 'http://x' }] }), [['invalid', 'Patient.extension[0]']]],
    ['a modifierExtension with neither (ext-1)', patient({ modifierExtension: [{ url: 'http://x' }] }), [['invalid', 'Patient.modifierExtension[0]']]],
    ['an extension with only a _ value', patient({ extension: [ext({ _valueString: { extension: [ext()] } })] }), []],
    ['an extension with two value forms', patient({ extension: [ext({ valueString: 'x', valueBoolean: true })] }), [['structure', 'Patient.extension[0].valueBoolean']]],
    ['an extension inside a datatype', patient({ name: [{ extension: [{ url: 'http://x' }], family: 'a' }] }), [['invalid', 'Patient.name[0].extension[0]']]],
  ],
  '11. numbers': [
    ['an integer with a fraction', patient({ multipleBirthInteger: 1.5 }), [['value', 'Patient.multipleBirthInteger']]],
    ['an integer beyond 32 bits', patient({ multipleBirthInteger: 2147483648 }), [['value', 'Patient.multipleBirthInteger']]],
    ['the smallest integer', patient({ multipleBirthInteger: -2147483648 }), []],
    ['an integer below 32 bits', patient({ multipleBirthInteger: -2147483649 }), [['value', 'Patient.multipleBirthInteger']]],
    ['a positiveInt of 0', observation({ valueSampledData: { origin: { value: 0 }, period: 1, dimensions: 0, data: 'E' } }), [['value', 'Observation.valueSampledData.dimensions']]],
    ['a positiveInt of 1', observation({ valueSampledData: { origin: { value: 0 }, period: 1, dimensions: 1, data: 'E' } }), []],
    ['an unsignedInt below 0', patient({ photo: [{ size: -1 }] }), [['value', 'Patient.photo[0].size']]],
    ['an unsignedInt of 0', patient({ photo: [{ size: 0, title: 'x' }] }), []],
    ['an integer as a string', patient({ multipleBirthInteger: '2' }), [['value', 'Patient.multipleBirthInteger']]],
  ],
  'narrative XHTML': [
    ['a good narrative', narrative(div()), []],
    ['a narrative with single-quoted xmlns', narrative(div('x', " xmlns='http://www.w3.org/1999/xhtml'")), []],
    ['a narrative without the xhtml namespace', narrative(div('x', '')), [['value', 'Patient.text.div']]],
    ['a narrative that is not a div', narrative('<p xmlns="http://www.w3.org/1999/xhtml">x</p>'), [['value', 'Patient.text.div']]],
    ['a narrative that does not end with </div>', narrative(`${div()}<p>x</p>`), [['value', 'Patient.text.div']]],
    ['a narrative with a script', narrative(div('<script>alert(1)</script>')), [['value', 'Patient.text.div']]],
    ['a narrative with an event attribute', narrative(div('<p onClick="alert(1)">x</p>')), [['value', 'Patient.text.div']]],
    ['text that only looks like an attribute', narrative(div('<p>based on=5, once=6</p>')), []],
    ['a narrative without div', patient({ text: { status: 'generated' } }), [['required', 'Patient.text.div']]],
  ],
};

describe('validateStructure: one rule at a time', () => {
  for (const [rule, table] of Object.entries(cases)) {
    describe(rule, () => {
      it.each(table)('%s', (_name, resource, expected) => {
        expect(located(errorsOf(resource))).toEqual(expected);
      });
    });
  }
});

describe('validateStructure: diagnostics and options', () => {
  it('says what is wrong and where, for a person to act on', () => {
    const d = (r: unknown) => errorsOf(r).map((i) => i.diagnostics);
    expect(d(patient({ name: [{ foo: 1 }] }))).toEqual(["Unknown element 'foo' in Patient.name[0]"]);
    expect(d(patient({ birthDate: '2017-13-01' }))).toEqual(["Patient.birthDate: '2017-13-01' is not a valid date"]);
    expect(d({ resourceType: 'Observation', code: { text: 'x' } })).toEqual(['Observation.status: minimum cardinality 1 but found 0']);
    expect(d(patient({ name: { family: 'a' } }))[0]).toMatch(/^Patient\.name must be an array/);
    expect(d({ resourceType: 'Foo' })[0]).toMatch(/resourceType 'Foo' is not an STU3 resource type/);
    expect(d(observation({ value: 1 }))[0]).toMatch(/e\.g\. valueQuantity/);
  });

  it('escapes invisible characters when quoting values', () => {
    expect(errorsOf(patient({ gender: 'male\u00a0' }))[0]!.diagnostics).toContain("'male\\u00a0'");
  });

  it('starts locations at options.path', () => {
    expect(located(errorsOf(patient({ birthDate: 'x' }), 'Bundle.entry[2].resource'))).toEqual([['value', 'Bundle.entry[2].resource.birthDate']]);
    expect(located(errorsOf({ resourceType: 'Foo' }, 'Bundle.entry[2].resource'))).toEqual([['structure', 'Bundle.entry[2].resource']]);
  });

  it('warns about whitespace-only strings (json.html forbids only empty ones; XML cannot carry them)', () => {
    const issues = validateStructure(patient({ name: [{ family: '   ' }] }));
    expect(issues.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual([['warning', 'value', 'Patient.name[0].family']]);
  });

  it('calls onElement with the type and location of each accepted element', () => {
    const seen: string[] = [];
    validateStructure(patient({ name: [{ given: ['a', 'b'] }], contained: [{ resourceType: 'Organization', id: 'o' }] }), {
      onElement: (_v, type, _e, ctx) => seen.push(`${ctx.location()}:${type}`),
    });
    expect(seen).toEqual(['Patient.name[0]:HumanName', 'Patient.name[0].given[0]:string', 'Patient.name[0].given[1]:string', 'Patient.contained[0]:Resource', 'Patient.contained[0].id:id']);
  });
});

describe('validateStructure: depth (10) and hostile input', () => {
  it('stops after 1000 issues, saying so', () => {
    const body = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`x${i}`, i]));
    const issues = validateStructure(patient({ ...body, name: [{ foo: 1 }] }));
    expect(issues).toHaveLength(1001);
    expect(issues[1000]).toMatchObject({ code: 'too-costly', diagnostics: 'More than 1000 issues; validation stopped here' });
  });

  it('reports nesting deeper than 64 levels once and stops there', () => {
    let e: Record<string, unknown> = ext();
    for (let i = 0; i < 100_000; i++) e = { url: 'http://x', extension: [e] };
    const issues = errorsOf(patient({ extension: [e] }));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.code).toBe('structure');
    expect(issues[0]!.diagnostics).toMatch(/deeper than 64/);
    expect(issues[0]!.expression![0]!.split('extension[0]').length - 1).toBe(64);
  });

  it('reports deep Questionnaire items once', () => {
    let item: Record<string, unknown> = { linkId: 'x', type: 'string' };
    for (let i = 0; i < 70; i++) item = { linkId: `l${i}`, type: 'group', item: [item] };
    expect(errorsOf({ resourceType: 'Questionnaire', status: 'active', item: [item] })).toHaveLength(1);
  });

  it('does not descend into unknown properties, however deep', () => {
    let junk: unknown = 1;
    for (let i = 0; i < 200_000; i++) junk = { a: [junk] };
    expect(located(errorsOf(patient({ junk })))).toEqual([['structure', 'Patient.junk']]);
  });

  it('checks huge strings in linear time (no regex backtracking)', () => {
    const big = 'a'.repeat(5_000_000);
    const started = performance.now();
    expect(located(errorsOf(patient({ gender: `${big} ` })))).toEqual([['value', 'Patient.gender']]);
    expect(located(errorsOf(patient({ birthDate: big })))).toEqual([['value', 'Patient.birthDate']]);
    expect(located(errorsOf(narrative(div(`<p ${'a '.repeat(1_000_000)}>${'<a '.repeat(300_000)}</p>`))))).toEqual([]);
    expect(errorsOf(patient({ name: [{ family: big }] }))).toEqual([]);
    expect(errorsOf(patient({ [big]: 1 }))[0]!.diagnostics.length).toBeLessThan(200);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  const model = fhirModel();
  const keysOf = (...types: string[]) => types.flatMap((t) => [...model.type(t)!.properties.keys()].flatMap((k) => [k, `_${k}`]));
  const fhirKeys = [...new Set([...keysOf('Patient', 'HumanName', 'Extension', 'Narrative', 'Observation', 'Bundle', 'Bundle.entry', 'Meta', 'Quantity'), 'resourceType', '__proto__', 'constructor', 'toString'])];
  const fhirish = fc.anything({
    key: fc.oneof(fc.constantFrom(...fhirKeys), fc.string()),
    values: [fc.constantFrom('Patient', 'Observation', 'Bundle', 'male', '2017-01-01', div(), 'http://x', ''), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)],
    maxDepth: 6,
    withNullPrototype: true,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withBoxedValues: true,
    withObjectString: true,
  });

  const wellFormed = (issues: Issue[]) =>
    issues.every((i) => typeof i.diagnostics === 'string' && i.diagnostics.length > 0 && typeof i.expression?.[0] === 'string');

  it('never throws on arbitrary values', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withSparseArray: true, withBoxedValues: true }), (v) => wellFormed(validateStructure(v))), { numRuns: 2_000 });
  });

  it('never throws on resources full of junk in FHIR-shaped places', () => {
    const resource = fc.record({ resourceType: fc.constantFrom('Patient', 'Observation', 'Bundle', 'Parameters'), body: fc.dictionary(fc.constantFrom(...fhirKeys), fhirish) }).map(({ resourceType, body }) => ({ ...body, resourceType }));
    fc.assert(fc.property(resource, (r) => wellFormed(validateStructure(r))), { numRuns: 3_000 });
  });
});

// ---------------------------------------------------------------------------
// The official STU3 examples

/**
 * Official examples that really break an STU3 rule, with the rule and the reason.
 * Kept in step with docs/validation.md ("Official examples that fail the base checks").
 * `match` must match every error reported for the example, and `count` is their number,
 * so a new kind of failure in an allowlisted example still fails the test.
 */
interface AllowedFailure {
  source: 'shared' | 'package';
  file: string;
  rule: string;
  reason: string;
  match: RegExp;
  count: number;
}

const extensionSearchParameters = [
  'codesystem-extensions-CodeSystem-author', 'codesystem-extensions-CodeSystem-effective', 'codesystem-extensions-CodeSystem-end',
  'codesystem-extensions-CodeSystem-keyword', 'codesystem-extensions-CodeSystem-workflow', 'location-extensions-Location-alias',
  'organization-extensions-Organization-alias', 'valueset-extensions-ValueSet-author', 'valueset-extensions-ValueSet-effective',
  'valueset-extensions-ValueSet-end', 'valueset-extensions-ValueSet-keyword', 'valueset-extensions-ValueSet-workflow',
];

const ALLOWLIST: AllowedFailure[] = [
  {
    source: 'shared', file: 'adverseevent-example.json', rule: 'unknown elements',
    reason: 'written to a pre-publication AdverseEvent (kind, event, severity; the folder\'s own adverseevent.xsd is of that build) that is not the published STU3 3.0.2 AdverseEvent (category, type ...)',
    match: /^Unknown element '(kind|event|severity)' in AdverseEvent$/, count: 3,
  },
  {
    source: 'package', file: 'Patient-null.json', rule: 'dom-1',
    reason: 'contained[1] (Organization org3141) carries a narrative (text)', match: /\(dom-1\)$/, count: 1,
  },
  {
    source: 'package', file: 'Questionnaire-qs1.json', rule: 'cardinality (Questionnaire.item.linkId 1..1)',
    reason: '57 items have no linkId', match: /\.linkId: minimum cardinality 1 but found 0$/, count: 57,
  },
  {
    source: 'package', file: 'ImplementationGuide-fhir.json', rule: 'cardinality (ImplementationGuide.name, .status 1..1)',
    reason: 'has neither name nor status', match: /^ImplementationGuide\.(name|status): minimum cardinality 1 but found 0$/, count: 2,
  },
  {
    source: 'package', file: 'ig-r4.json', rule: 'unknown elements, cardinality',
    reason: 'an R4 ImplementationGuide (packageId, license, manifest; no name or status), not an STU3 resource',
    match: /^(Unknown element '(packageId|license|manifest)' in ImplementationGuide|ImplementationGuide\.(name|status): minimum cardinality 1 but found 0)$/, count: 5,
  },
  {
    source: 'package', file: 'CodeSystem-v2-0550.json', rule: 'code (no leading or trailing whitespace)',
    reason: "four concept codes end in a non-breaking space (U+00A0; 'CHESTÂ\\u00a0' is mis-decoded UTF-8)",
    match: /^CodeSystem\.concept\[\d+\]\.code: '.*\\u00a0' is not a valid code$/, count: 4,
  },
  {
    source: 'package', file: 'DataElement-Identifier.system.json', rule: 'uri (no whitespace)',
    reason: "the example valueUri is prose: 'http://www.acme.com/identifiers/patient or urn:ietf:rfc:3986 if ...'",
    match: /valueUri: '.*' is not a valid uri/, count: 1,
  },
  ...extensionSearchParameters.map((id): AllowedFailure => ({
    source: 'package', file: `SearchParameter-${id}.json`, rule: 'cardinality (SearchParameter.base 1..1)',
    reason: 'a search parameter on an extension, without base', match: /^SearchParameter\.base: minimum cardinality 1 but found 0$/, count: 1,
  })),
  ...['Definition', 'Event', 'Request'].map((id): AllowedFailure => ({
    source: 'package', file: `StructureDefinition-${id}.json`, rule: 'cardinality (StructureDefinition.type 1..1)',
    reason: 'a logical pattern model without type', match: /^StructureDefinition\.type: minimum cardinality 1 but found 0$/, count: 1,
  })),
];

const sharedDir = path.resolve(projectRoot(), '../shared/fhir-stu3-examples/json');

/** Validates every JSON file of a folder; returns the failures that the allowlist does not explain. */
function checkFolder(dir: string, source: AllowedFailure['source']) {
  const allowed = new Map(ALLOWLIST.filter((a) => a.source === source).map((a) => [a.file, a]));
  const unexpected: Record<string, string[]> = {};
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json').sort();
  for (const file of files) {
    // 19 package files start with a UTF-8 byte order mark, which JSON.parse rejects.
    const text = readFileSync(path.join(dir, file), 'utf8').replace(/^\uFEFF/, '');
    const errors = errorsOf(parseJson(text)).map((i) => i.diagnostics);
    const allow = allowed.get(file);
    allowed.delete(file);
    const explained = allow ? errors.length === allow.count && errors.every((d) => allow.match.test(d)) : errors.length === 0;
    if (!explained) unexpected[file] = allow && errors.length === 0 ? ['passes now: remove it from the allowlist'] : errors.slice(0, 10);
  }
  for (const file of allowed.keys()) unexpected[file] = ['allowlisted but not found'];
  return { files: files.length, unexpected };
}

describe('the official STU3 examples', () => {
  const sharedPresent = existsSync(sharedDir);
  if (!sharedPresent && process.env.CI !== 'true') {
    // Said once, loudly; no test is collected (a user's clone has no ../shared; CI=true requires it).
    console.warn(`structure.test.ts: ${sharedDir} not found; the official examples are not checked here (they are when CI=true)`);
  } else {
    it('every example in fhir-stu3-examples/json passes, or is allowlisted with its reason', () => {
      expect(sharedPresent, `${sharedDir} is missing`).toBe(true);
      const { files, unexpected } = checkFolder(sharedDir, 'shared');
      expect(files).toBeGreaterThanOrEqual(528);
      expect(unexpected).toEqual({});
    });
  }

  it('every resource in the hl7.fhir.r3.examples package passes, or is allowlisted with its reason', () => {
    const { files, unexpected } = checkFolder(definitionsPackageDir(), 'package');
    expect(files).toBeGreaterThan(8000);
    expect(unexpected).toEqual({});
  });

  it('docs/validation.md lists every allowlisted example', () => {
    const doc = readFileSync(path.join(projectRoot(), 'docs/validation.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Official examples that fail the base checks'));
    expect(section.length).toBeLessThan(doc.length);
    for (const { file } of ALLOWLIST) expect(section, file).toContain(`\`${file}\``);
  });
});
