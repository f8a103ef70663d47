import { NhsNumberIssuer } from '../nhs-number.js';
import { hash32, Rng } from '../prng.js';
import { parseDay, REFERENCE_DATE } from '../time.js';
import { resource } from './build.js';
import { buildPatient } from './patient.js';
import { generateRecord } from './record.js';
import { Ids, type GenerateOptions, type Res } from './types.js';
import { buildWorld, type World } from './world.js';

export type { GenerateOptions } from './types.js';

const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** Between 10 and 30 GP practices, more for bigger populations. */
export function practiceCount(patients: number): number {
  return Math.max(10, Math.min(30, 10 + Math.floor(patients / 500)));
}

/**
 * A synthetic population for one care setting, as a stream of resources in the
 * order they can be written: the organisations, sites, staff and medicines first,
 * then each patient followed by their record. Deterministic: the same options give
 * the same resources, byte for byte. Each patient's record is drawn from its own
 * random stream, so patient n is the same whatever the population size. Last comes a
 * Group per GP practice listing the patients registered there (for `Group/{id}/$export`).
 */
export function* generatePopulation(options: GenerateOptions): Generator<Res> {
  const referenceDate = options.referenceDate ?? REFERENCE_DATE;
  const ref = parseDay(referenceDate);
  const ids = new Ids(options.idPrefix ?? `s${options.seed}-`, options.patientIds);
  const root = new Rng(options.seed >>> 0);
  const world = buildWorld(root.fork('world'), ids, practiceCount(options.patients));
  yield* world.resources;
  yield* patients(root, world, ids, ref, referenceDate, options);
}

function* patients(root: Rng, world: World, ids: Ids, ref: number, referenceDate: string, options: GenerateOptions): Generator<Res> {
  const nhs = new NhsNumberIssuer(hash32(`nhs:${options.seed}`));
  const weights = world.practices.map((_, i) => [i, 1 + (i % 4)] as const);
  const registered = world.practices.map(() => [] as string[]);
  for (let i = 0; i < options.patients; i++) {
    const rng = root.fork(`patient:${i}`);
    const at = rng.weighted(weights);
    const practice = world.practices[at]!;
    const id = ids.patient(i);
    registered[at]!.push(id);
    const hospitalNumber = `RR8${String(hash32(`${options.seed}:${i}`) % 10_000_000).padStart(7, '0')}`;
    const { resource, info } = buildPatient(rng, id, ref, nhs.issue(), hospitalNumber, practice, options.patientFacts?.[id]);
    yield resource;
    yield* generateRecord(rng, info, world, referenceDate);
  }
  yield* practiceGroups(world, ids, registered);
}

/** A Group per GP practice: its registered patients (https://hl7.org/fhir/STU3/group.html). */
function* practiceGroups(world: World, ids: Ids, registered: string[][]): Generator<Res> {
  for (const [i, practice] of world.practices.entries()) {
    const members = registered[i]!;
    yield resource('Group', ids.world('group', practice.org.id.replace(/^.*?org-/, '')), {
      type: 'person',
      actual: true,
      name: `Patients registered at ${practice.org.display ?? practice.org.id}`,
      quantity: members.length,
      // STU3 characteristics take codes, not references: the practice by its ODS code.
      characteristic: [{ code: { text: 'Registered GP practice' }, valueCodeableConcept: { coding: [{ system: ODS, code: practice.org.id.replace(/^.*?org-/, '').toUpperCase(), ...(practice.org.display ? { display: practice.org.display } : {}) }] }, exclude: false }],
      ...(members.length ? { member: members.map((id) => ({ entity: { reference: `Patient/${id}` } })) } : {}),
    });
  }
}
