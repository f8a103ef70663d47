import { describe, expect, it } from 'vitest';
import { CONDITIONS, type ConditionDef } from '../../src/data/codes/conditions.js';
import { ALLERGIES } from '../../src/data/codes/allergies.js';
import { MEDICINES } from '../../src/data/codes/medicines.js';
import { POSTCODE } from '../../src/data/codes/names.js';
import { documentedResources } from '../../src/data/documented.js';
import { generatePopulation } from '../../src/data/generate/population.js';
import type { Res } from '../../src/data/generate/types.js';
import { isValidNhsNumber, nhsCheckDigit, NhsNumberIssuer } from '../../src/data/nhs-number.js';
import { Rng } from '../../src/data/prng.js';
import { parseDay, REFERENCE_DATE, YEAR } from '../../src/data/time.js';
import { careConnectCatalogue } from '../../src/validation/profile/catalogue.js';
import { validateResource } from '../../src/validation/profile/validate.js';

/**
 * The one warning a generated resource may carry: MIME types (Binary.contentType and
 * Attachment.contentType, a required binding to BCP 13) are defined by a grammar, not
 * a list, and the validator does not check them.
 */
const MIME_TYPES_UNCHECKED = /^[A-Za-z.\[\]0-9]+contentType: the value set http:\/\/www\.rfc-editor\.org\/bcp\/bcp13\.txt \(required binding of (Binary|Attachment)\.contentType\) is not known to this server/;

const ndjson = (patients: number, seed: number) => [...generatePopulation({ patients, seed })].map((r) => JSON.stringify(r)).join('\n');

/** Patients with their own resources (everything whose subject/patient is them). */
function byPatient(resources: Res[]): Map<string, { patient: Res; own: Res[] }> {
  const out = new Map<string, { patient: Res; own: Res[] }>();
  for (const r of resources) if (r.resourceType === 'Patient') out.set(r.id, { patient: r, own: [] });
  for (const r of resources) {
    const ref = ((r.subject ?? r.patient) as { reference?: string } | undefined)?.reference;
    if (ref?.startsWith('Patient/')) out.get(ref.slice(8))?.own.push(r);
  }
  return out;
}

/** Every dateTime-like value in a resource, with where it is. */
function dates(node: unknown, path = ''): Array<[string, string]> {
  if (Array.isArray(node)) return node.flatMap((x, i) => dates(x, `${path}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(node)) {
    if (k === 'meta' || k === 'birthDate' || k === 'deceasedDateTime') continue;
    if (typeof v === 'string' && /^\d{4}(-\d{2}(-\d{2})?)?(T|$)/.test(v) && k !== 'value' && k !== 'code') out.push([`${path}.${k}`, v]);
    else out.push(...dates(v, `${path}.${k}`));
  }
  return out;
}

describe('generator', () => {
  const population = [...generatePopulation({ patients: 120, seed: 11 })];
  const patients = byPatient(population);

  it('is deterministic: the same seed gives byte-identical output, another seed differs', () => {
    const a = ndjson(30, 5);
    expect(ndjson(30, 5)).toBe(a);
    expect(ndjson(30, 6)).not.toBe(a);
    // Patient n does not depend on how many patients are generated.
    const small = [...generatePopulation({ patients: 3, seed: 5 })].filter((r) => r.resourceType === 'Patient').map((r) => JSON.stringify(r));
    const large = [...generatePopulation({ patients: 30, seed: 5 })].filter((r) => r.resourceType === 'Patient').slice(0, 3).map((r) => JSON.stringify(r));
    expect(large).toEqual(small);
  });

  it('draws the same numbers from the same seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(Array.from({ length: 5 }, () => b.next()));
    expect(new Rng(42).fork('x').next()).not.toBe(new Rng(42).fork('y').next());
  });

  it('issues NHS numbers in the 999 range that pass Modulus 11, all different', () => {
    const numbers = [...patients.values()].map(({ patient }) => (patient.identifier as Array<{ system: string; value: string }>).find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')!.value);
    expect(numbers).toHaveLength(120);
    expect(new Set(numbers).size).toBe(120);
    for (const n of numbers) {
      expect(n).toMatch(/^999\d{7}$/);
      expect(isValidNhsNumber(n)).toBe(true);
    }
  });

  it('computes Modulus 11 check digits (and skips the stems that cannot be issued)', () => {
    expect(isValidNhsNumber('9876543210')).toBe(true); // the documentation's example
    expect(isValidNhsNumber('9876543211')).toBe(false);
    expect(nhsCheckDigit('999000001')).toBeDefined();
    const issuer = new NhsNumberIssuer(0);
    const issued = Array.from({ length: 50 }, () => issuer.issue());
    expect(issued.every(isValidNhsNumber)).toBe(true);
    // Stems whose check digit would be 10 are never issued.
    const invalid = Array.from({ length: 1000 }, (_, i) => `999${String(i).padStart(6, '0')}`).filter((s) => nhsCheckDigit(s) === undefined);
    expect(invalid.length).toBeGreaterThan(0);
    for (const s of invalid) expect(issued.some((n) => n.startsWith(s))).toBe(false);
  });

  it('writes well-formed UK postcodes in Leeds districts', () => {
    for (const { patient } of patients.values()) {
      const pc = (patient.address as Array<{ postalCode: string }>)[0]!.postalCode;
      expect(pc).toMatch(POSTCODE);
      expect(pc).toMatch(/^LS([1-9]|1\d|2\d) /);
    }
  });

  it('claims the Care Connect profile of each profiled resource', () => {
    const unprofiled = new Set(['EpisodeOfCare', 'DiagnosticReport', 'DocumentReference', 'Binary', 'Group']);
    for (const r of population) {
      if (unprofiled.has(r.resourceType)) {
        expect(r.meta, `${r.resourceType}/${r.id}`).toBeUndefined();
        continue;
      }
      expect((r.meta as { profile: string[] }).profile).toEqual([`https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-${r.resourceType}-1`]);
    }
  });

  it('puts nothing before birth or after death (or the reference date)', () => {
    const reference = parseDay(REFERENCE_DATE);
    let deceased = 0;
    for (const { patient, own } of patients.values()) {
      const birth = parseDay(patient.birthDate as string);
      const death = patient.deceasedDateTime ? Date.parse(patient.deceasedDateTime as string) : undefined;
      if (death !== undefined) deceased++;
      const last = death ?? reference;
      for (const r of own) {
        for (const [where, value] of dates(r)) {
          const t = Date.parse(value.length === 7 ? `${value}-01` : value);
          expect(t, `${r.resourceType}/${r.id}${where} ${value} before birth ${patient.birthDate}`).toBeGreaterThanOrEqual(birth);
          // A lab result is issued hours later; a living patient's prescription stays valid beyond today.
          if (where.endsWith('.issued') || (!death && where.endsWith('validityPeriod.end'))) continue;
          expect(t, `${r.resourceType}/${r.id}${where} ${value} after ${death ? 'death' : 'the reference date'}`).toBeLessThanOrEqual(last);
        }
      }
    }
    expect(deceased).toBeGreaterThan(0);
  });

  it('gives conditions that fit the patient sex and age', () => {
    const defs = new Map(Object.values(CONDITIONS).map((d: ConditionDef) => [d.code, d]));
    for (const { patient, own } of patients.values()) {
      const birth = parseDay(patient.birthDate as string);
      for (const c of own.filter((r) => r.resourceType === 'Condition')) {
        const code = (c.code as { coding: Array<{ code: string }> }).coding[0]!.code;
        const def = defs.get(code)!;
        expect(def, code).toBeDefined();
        if (def.sex) expect(patient.gender, `${def.display} in a ${patient.gender as string} patient`).toBe(def.sex);
        const onsetAge = (Date.parse(c.onsetDateTime as string) - birth) / YEAR;
        if (def.kind === 'chronic') expect(onsetAge, `${def.display} at ${onsetAge.toFixed(1)}`).toBeGreaterThanOrEqual(def.minAge - 0.01);
      }
    }
    const males = [...patients.values()].filter(({ patient }) => patient.gender === 'male');
    const femaleOnly = Object.values(CONDITIONS).filter((d: ConditionDef) => d.sex === 'female').map((d) => d.code);
    for (const { own } of males) for (const c of own.filter((r) => r.resourceType === 'Condition')) expect(femaleOnly).not.toContain((c.code as { coding: Array<{ code: string }> }).coding[0]!.code);
  });

  it('prescribes medicines that treat one of the patient conditions, and none they are allergic to', () => {
    const medByCode = new Map(Object.entries(MEDICINES).map(([k, m]) => [m.code, k]));
    const medById = new Map(population.filter((r) => r.resourceType === 'Medication').map((m) => [m.id, medByCode.get((m.code as { coding: Array<{ code: string }> }).coding[0]!.code)!]));
    let requests = 0;
    for (const { own } of patients.values()) {
      const conditions = new Map(own.filter((r) => r.resourceType === 'Condition').map((c) => [`Condition/${c.id}`, (c.code as { coding: Array<{ code: string }> }).coding[0]!.code]));
      const allergic = own.filter((r) => r.resourceType === 'AllergyIntolerance').map((a) => (a.code as { coding: Array<{ code: string }> }).coding[0]!.code);
      const forbidden = new Set(Object.values(ALLERGIES).filter((a) => allergic.includes(a.code)).flatMap((a) => ('contraindicates' in a ? [...a.contraindicates] : [])));
      for (const mr of own.filter((r) => r.resourceType === 'MedicationRequest' || r.resourceType === 'MedicationStatement')) {
        requests++;
        const reason = (mr.reasonReference as Array<{ reference: string }>)[0]!.reference;
        const conditionCode = conditions.get(reason);
        expect(conditionCode, `${mr.resourceType}/${mr.id} gives a reason that is not the patient's condition`).toBeDefined();
        const def = Object.values(CONDITIONS).find((d: ConditionDef) => d.code === conditionCode)!;
        const medicine = medById.get((mr.medicationReference as { reference: string }).reference.slice('Medication/'.length))!;
        expect(def.regimens?.flat(), `${medicine} for ${def.display}`).toContain(medicine);
        expect(forbidden.has(medicine as never), `${medicine} given despite an allergy`).toBe(false);
      }
    }
    expect(requests).toBeGreaterThan(50);
  });

  it('gives every patient at least one encounter, and every reference resolves', () => {
    const ids = new Set(population.map((r) => `${r.resourceType}/${r.id}`));
    expect(ids.size, 'two resources share a type and id').toBe(population.length);
    for (const { own } of patients.values()) expect(own.some((r) => r.resourceType === 'Encounter')).toBe(true);
    const refs = (node: unknown): string[] => {
      if (Array.isArray(node)) return node.flatMap(refs);
      if (!node || typeof node !== 'object') return [];
      return Object.entries(node).flatMap(([k, v]) => (k === 'reference' && typeof v === 'string' ? [v] : refs(v)));
    };
    for (const r of population) for (const ref of refs(r)) expect(ids.has(ref), `${r.resourceType}/${r.id} -> ${ref}`).toBe(true);
  });

  it('generates 50 patients (and the documented examples) whose every resource is valid against its Care Connect profile (and the base definitions)', () => {
    const catalogue = careConnectCatalogue();
    const population = [...generatePopulation({ patients: 50, seed: 101 }), ...documentedResources()];
    const issues = population.flatMap((r) => {
      const profile = catalogue.profileFor(r.resourceType);
      return validateResource(r, { source: catalogue.source, profiles: profile ? [profile] : [] })
        .filter((i) => i.severity === 'error' || i.severity === 'fatal' || (i.severity === 'warning' && !MIME_TYPES_UNCHECKED.test(i.diagnostics ?? '')))
        .map((i) => `${r.resourceType}/${r.id}: ${i.severity} ${i.diagnostics}`);
    });
    expect(population.length).toBeGreaterThan(1000);
    const types = new Set(population.map((r) => r.resourceType));
    for (const t of ['DiagnosticReport', 'Composition', 'DocumentReference', 'Binary', 'Flag', 'FamilyMemberHistory']) expect(types, t).toContain(t);
    expect(issues).toEqual([]);
  });
});
