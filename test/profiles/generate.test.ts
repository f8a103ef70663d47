import { describe, expect, it } from 'vitest';
import { parseXml, serializeXml } from '../../src/fhir/xml.js';
import { baseDefinition, type ElementDefinition } from '../../src/profiles/build/base.js';
import { generateConformance } from '../../src/profiles/build/generate.js';
import { SnapshotBuilder } from '../../src/profiles/build/snapshot.js';
import { buildProfile } from '../../src/profiles/build/structure-definition.js';
import { careConnectConformance, careConnectProfileFor, careConnectProfiles, careConnectResources } from '../../src/profiles/conformance.js';
import { careConnectProfile } from '../../src/profiles/define.js';
import { table } from '../../src/profiles/dsl.js';
import { validateStructure } from '../../src/validation/structure.js';

/** The generated resources on their own: well-formed STU3, self-consistent, and saying what the brief says. */

const generated = generateConformance();
const all = [...generated.structureDefinitions, ...generated.valueSets, ...generated.codeSystems];
const sds = generated.structureDefinitions as Array<Record<string, any>>;
const byUrl = new Map(all.map((r) => [r.url, r]));
const UK = 'https://fhir.hl7.org.uk/STU3/';
const elementsOf = (sd: Record<string, any>): ElementDefinition[] => sd.snapshot.element;
const sd = (id: string) => sds.find((s) => s.id === id)!;
const element = (sdId: string, id: string) => elementsOf(sd(sdId)).find((e) => e.id === id)!;

describe('generated Care Connect conformance resources', () => {
  it('counts 23 profiles, 38 extensions, 44 value sets and 20 code systems, each id the last segment of its URL', () => {
    expect(sds.filter((s) => s.type !== 'Extension')).toHaveLength(23);
    expect(sds.filter((s) => s.type === 'Extension')).toHaveLength(38);
    expect(generated.valueSets).toHaveLength(44);
    expect(generated.codeSystems).toHaveLength(20);
    for (const r of all) expect(r.url.endsWith(`/${r.id}`)).toBe(true);
    expect(new Set(all.map((r) => r.url)).size).toBe(all.length);
  });

  it('are structurally valid STU3 resources that survive the XML round trip', () => {
    const canonical = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
    for (const r of all) {
      expect(validateStructure(r, {}), r.id).toEqual([]);
      expect(canonical(parseXml(serializeXml(r))), r.id).toEqual(canonical(r));
    }
  });

  it('have snapshots in FHIR order: unique ids, parents first, slices after the sliced element and its children', () => {
    for (const s of sds) {
      const ids = elementsOf(s).map((e) => e.id);
      expect(new Set(ids).size, s.id).toBe(ids.length);
      elementsOf(s).forEach((e, i) => {
        expect(e.path, e.id).toBe(e.id.replace(/:[^.]+/g, ''));
        if (i === 0) return;
        const cut = Math.max(e.id.lastIndexOf('.'), e.sliceName ? e.id.lastIndexOf(':') : -1);
        const parent = e.id.slice(0, cut);
        const at = ids.indexOf(parent);
        expect(at, `${s.id}: ${e.id} after ${parent}`).toBeGreaterThanOrEqual(0);
        expect(at).toBeLessThan(i);
        // Between the parent (or sliced element) and this element there is only the parent's own subtree.
        for (const between of ids.slice(at + 1, i)) expect(between.startsWith(`${parent}.`) || between.startsWith(`${parent}:`), `${s.id}: ${between} before ${e.id}`).toBe(true);
      });
      let last = -1;
      for (const d of s.differential.element as ElementDefinition[]) {
        const at = ids.indexOf(d.id);
        expect(at, `${s.id}: differential ${d.id} is in the snapshot`).toBeGreaterThan(last);
        last = at;
      }
    }
  });

  it('refer only to definitions they carry (or the STU3 core), and bind only value sets they carry', () => {
    const dangling: string[] = [];
    for (const s of sds) {
      for (const e of elementsOf(s)) {
        for (const t of e.type ?? []) {
          for (const url of [t.profile, t.targetProfile]) if (url?.startsWith(UK) && !byUrl.has(url)) dangling.push(`${s.id} ${e.id} ${url}`);
          if (t.code === 'Extension' && t.profile) expect(byUrl.has(t.profile), `${s.id} ${e.id}`).toBe(true);
        }
        const vs = (e.binding as { valueSetReference?: { reference: string } } | undefined)?.valueSetReference?.reference;
        if (vs?.startsWith(UK) && !byUrl.has(vs)) dangling.push(`${s.id} ${e.id} ${vs}`);
      }
    }
    // The release binds MedicationDispense.type (preferred) to a value set it does not contain; see docs/profiles.md.
    expect(dangling).toEqual(['CareConnect-MedicationDispense-1 MedicationDispense.type https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-MedicationSupplyType-1']);
    for (const vs of generated.valueSets as Array<Record<string, any>>) {
      for (const include of vs.compose.include) if (include.system.startsWith(UK)) expect(byUrl.has(include.system), `${vs.id} ${include.system}`).toBe(true);
    }
  });

  it('state what CareConnect-Patient-1 says of the NHS number, names and prohibited elements', () => {
    const nhs = element('CareConnect-Patient-1', 'Patient.identifier:nhsNumber');
    expect([nhs.min, nhs.max]).toEqual([0, '1']);
    expect(element('CareConnect-Patient-1', 'Patient.identifier').slicing).toMatchObject({ discriminator: [{ type: 'value', path: 'system' }], rules: 'openAtEnd' });
    expect(element('CareConnect-Patient-1', 'Patient.identifier:nhsNumber.system')).toMatchObject({ min: 1, fixedUri: 'https://fhir.nhs.uk/Id/nhs-number' });
    expect(element('CareConnect-Patient-1', 'Patient.identifier:nhsNumber.extension:nhsNumberVerificationStatus')).toMatchObject({
      min: 1,
      max: '1',
      type: [{ code: 'Extension', profile: `${UK}StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1` }],
    });
    expect(element('CareConnect-Patient-1', 'Patient.name')).toMatchObject({ min: 1, max: '*' });
    expect(element('CareConnect-Patient-1', 'Patient.name:official')).toMatchObject({ min: 1, max: '1', sliceName: 'official' });
    expect(element('CareConnect-Patient-1', 'Patient.name:official.use').fixedCode).toBe('official');
    expect(element('CareConnect-Patient-1', 'Patient.gender').binding).toMatchObject({ strength: 'required', valueSetReference: { reference: `${UK}ValueSet/CareConnect-AdministrativeGender-1` } });
    expect(element('CareConnect-Patient-1', 'Patient.animal').max).toBe('0');
    expect(element('CareConnect-Patient-1', 'Patient.communication').max).toBe('0');
    expect(element('CareConnect-Patient-1', 'Patient.generalPractitioner').type!.map((t) => t.targetProfile)).toEqual([
      `${UK}StructureDefinition/CareConnect-Organization-1`,
      `${UK}StructureDefinition/CareConnect-Practitioner-1`,
    ]);
    // An extension slot without a maximum takes its extension's (ResidentialStatus is 0..1).
    expect(element('CareConnect-Patient-1', 'Patient.extension:residentialStatus').max).toBe('1');
    expect(element('CareConnect-Patient-1', 'Patient.extension:nhsCommunication').max).toBe('*');
  });

  it('give complex extensions their parts as url-sliced extensions, and prohibit their value', () => {
    const ids = elementsOf(sd('Extension-CareConnect-NHSCommunication-1')).map((e) => e.id);
    expect(ids).toContain('Extension.extension:language.url');
    expect(element('Extension-CareConnect-NHSCommunication-1', 'Extension.extension:language')).toMatchObject({ min: 1, max: '1' });
    expect(element('Extension-CareConnect-NHSCommunication-1', 'Extension.extension:language.url').fixedUri).toBe('language');
    expect(element('Extension-CareConnect-NHSCommunication-1', 'Extension.extension:language.value[x]')).toMatchObject({
      min: 1,
      type: [{ code: 'CodeableConcept' }],
      binding: { strength: 'required', valueSetReference: { reference: `${UK}ValueSet/CareConnect-HumanLanguage-1` } },
    });
    expect(element('Extension-CareConnect-NHSCommunication-1', 'Extension.value[x]').max).toBe('0');
    expect(sd('Extension-CareConnect-NHSCommunication-1')).toMatchObject({ kind: 'complex-type', type: 'Extension', contextType: 'resource', context: ['Patient', 'Practitioner'] });
  });

  it('carry the code tables in full, and keep SNOMED CT filters as filters', () => {
    const cs = (id: string) => (generated.codeSystems as Array<Record<string, any>>).find((c) => c.id === id)!;
    expect(cs('CareConnect-EthnicCategory-1').concept).toHaveLength(68);
    expect(cs('CareConnect-NHSNumberVerificationStatus-1').concept.map((c: { code: string }) => c.code)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08']);
    expect(cs('CareConnect-SDSJobRoleName-1').concept).toHaveLength(392);
    const vs = (generated.valueSets as Array<Record<string, any>>).find((v) => v.id === 'CareConnect-ConditionCode-1')!;
    expect(vs.compose.include).toEqual([{ system: 'http://snomed.info/sct', filter: [{ property: 'constraint', op: '=', value: expect.stringContaining('404684003') }] }]);
  });

  it('serve the profile of each resource type, and an index by canonical URL', () => {
    expect(careConnectProfileFor('Patient')).toBe(`${UK}StructureDefinition/CareConnect-Patient-1`);
    expect(careConnectProfileFor('EpisodeOfCare')).toBeUndefined();
    expect(Object.keys(careConnectProfiles())).toHaveLength(23);
    const index = careConnectConformance();
    expect(index.structureDefinition(`${UK}StructureDefinition/CareConnect-Patient-1|1.0`)?.id).toBe('CareConnect-Patient-1');
    expect(index.valueSet(`${UK}ValueSet/CareConnect-EthnicCategory-1`)?.resourceType).toBe('ValueSet');
    expect(index.codeSystem(`${UK}CodeSystem/CareConnect-SDSJobRoleName-1`)?.resourceType).toBe('CodeSystem');
    expect(index.structureDefinitions()).toHaveLength(61);
  });

  it('are cached as generated (bump GENERATOR_VERSION when the generator changes its output)', () => {
    expect(careConnectResources()).toEqual(generated);
  });
});

describe('the definition language', () => {
  it('reads code tables', () => {
    expect(table('\n  01  Number present and verified\n  U   Removed\n')).toEqual([
      { code: '01', display: 'Number present and verified' },
      { code: 'U', display: 'Removed' },
    ]);
    expect(() => table('lonely')).toThrow(/code and a display/);
  });

  it('refuses constraints it cannot place', () => {
    const build = (rules: Parameters<typeof careConnectProfile>[1]['rules']) =>
      buildProfile(careConnectProfile('Test', { type: 'Patient', title: 't', description: 'd', rules }), () => undefined);
    expect(() => build({ nickname: { min: 1 } })).toThrow(/Patient.nickname is not an element/);
    expect(() => build({ name: { slices: { x: { min: 1 } } } })).toThrow(/not sliced/);
    expect(() => build({ 'deceased[x].value': { min: 1 } })).toThrow(/2 types/);
    expect(() => build({ 'identifier.period.start': { min: 1 } })).not.toThrow();
  });

  it('adds the children of a data type only where a constraint reaches into it', () => {
    const snapshot = new SnapshotBuilder(baseDefinition('Patient'));
    const before = snapshot.elements.length;
    snapshot.ensure('Patient.identifier.assigner.display');
    const ids = snapshot.elements.map((e) => e.id);
    expect(ids.length).toBe(before + 8 + 5); // Identifier's 8 children, Reference's 5
    expect(ids.indexOf('Patient.identifier.assigner.display')).toBeLessThan(ids.indexOf('Patient.active'));
  });
});
