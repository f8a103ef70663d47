import fc from 'fast-check';
import { dateRangeOf } from './memory-search.js';
import {
  BASE, CATEGORIES, CATEGORY_SYSTEM, CITIES, CLINICAL_STATUSES, CODES, CONCEPT_TEXTS, DISPLAYS, DURATION_VALUES, ENCOUNTER_CLASSES,
  ENCOUNTER_STATUSES, FAMILIES, FRACTIONS, FREE_TEXTS, GENDERS, GIVENS, IDENTIFIER_SYSTEMS, IDENTIFIER_TYPE_TEXTS, IDENTIFIER_VALUES, LINES, MONTHS,
  NAME_PREFIXES, NAME_SUFFIXES, OBSERVATION_STATUSES, POSTCODES, PROFILES, QUANTITY_UNITS, QUANTITY_VALUES, SYSTEMS, TAGS, TELECOM, TIMES, UCUM,
  VERIFICATION_STATUSES, YEARS, YMDS, ZONES, AGE_VALUES,
} from './vocabulary.js';

/**
 * Random worlds for the differential search test: a few hundred Patients,
 * Observations, Encounters and Conditions referring to each other, written through
 * a timeline with updates, deletions, revivals and several writes per instant.
 */

export type Obj = Record<string, unknown>;
export const TYPES = ['Patient', 'Observation', 'Encounter', 'Condition'] as const;
export type WorldType = (typeof TYPES)[number];

export interface WorldWrite {
  type: WorldType;
  id: string;
  /** null deletes. */
  resource: Obj | null;
}

/** One transaction: every write in it gets the instant `at`. */
export interface WorldStep {
  at: number;
  writes: WorldWrite[];
}

export interface World {
  /** Every id generated per type (some deleted, some never current). */
  ids: Record<WorldType, string[]>;
  steps: WorldStep[];
}

export const START = Date.parse('2024-01-01T00:00:00Z');

const opt = <T>(arb: fc.Arbitrary<T>, freq = 2): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq });

/** Drops undefined members, and merges `$choice` objects (e.g. { effectiveDateTime }) into the parent. */
function clean(o: Record<string, unknown>): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (k.startsWith('$')) Object.assign(out, v as Obj);
    else out[k] = v;
  }
  return out;
}

const pad = (n: number) => String(n).padStart(2, '0');

export const ymd: fc.Arbitrary<string> = fc.constantFrom(...YMDS).map(([y, m, d]) => `${y}-${pad(m)}-${pad(d)}`);

export const dateOnly: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...YEARS).map(String),
  fc.tuple(fc.constantFrom(...YEARS), fc.constantFrom(...MONTHS)).map(([y, m]) => `${y}-${pad(m)}`),
  ymd,
);

/** A dateTime as FHIR allows it in a resource: a date at any precision, or a time with seconds and a zone. */
export const dateTime: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: dateOnly },
  {
    weight: 3,
    arbitrary: fc
      .tuple(ymd, fc.constantFrom(...TIMES), opt(fc.constantFrom(...FRACTIONS), 3), fc.constantFrom(...ZONES))
      .map(([d, t, f, z]) => `${d}T${t}${f ? `.${f}` : ''}${z}`),
  },
);

const period: fc.Arbitrary<Obj> = fc.record({ start: opt(dateTime, 4), end: opt(dateTime, 4) }).map((p) => {
  const o = clean(p);
  if (typeof o.start === 'string' && typeof o.end === 'string' && dateRangeOf(o.start).low > dateRangeOf(o.end).high) return { start: o.end, end: o.start };
  return o;
});

function reference(type: string, ids: string[]): fc.Arbitrary<Obj> {
  const id = fc.constantFrom(...ids);
  return fc.oneof(
    { weight: 12, arbitrary: id.map((i) => ({ reference: `${type}/${i}` })) },
    { weight: 1, arbitrary: id.map((i) => ({ reference: `${BASE}/${type}/${i}` })) },
    { weight: 1, arbitrary: id.map((i) => ({ reference: `${type}/${i}/_history/1` })) },
    { weight: 1, arbitrary: id.map((i) => ({ reference: `http://elsewhere.org/fhir/${type}/${i}` })) },
    { weight: 1, arbitrary: fc.constant({ reference: `${type}/ghost` }) },
    { weight: 1, arbitrary: fc.constant({ display: 'Someone' }) },
  );
}

const coding = fc.record({ system: opt(fc.constantFrom(...SYSTEMS), 6), code: fc.constantFrom(...CODES), display: opt(fc.constantFrom(...DISPLAYS)) }).map(clean);
const concept = fc
  .record({ coding: opt(fc.array(coding, { minLength: 1, maxLength: 2 }), 6), text: opt(fc.constantFrom(...CONCEPT_TEXTS)) })
  .map(clean)
  .map((cc) => (Object.keys(cc).length ? cc : { text: CONCEPT_TEXTS[0] }));
const category = (system: string) =>
  fc.array(fc.record({ coding: fc.tuple(fc.constantFrom(...CATEGORIES)).map(([code]) => [{ system, code }]) }), { minLength: 1, maxLength: 2 });
const identifier = fc
  .record({ system: opt(fc.constantFrom(...IDENTIFIER_SYSTEMS), 6), value: fc.constantFrom(...IDENTIFIER_VALUES), type: opt(fc.constantFrom(...IDENTIFIER_TYPE_TEXTS).map((text) => ({ text }))) })
  .map(clean);
const identifiers = opt(fc.array(identifier, { minLength: 1, maxLength: 2 }));
const quantity = fc.tuple(fc.constantFrom(...QUANTITY_VALUES), fc.constantFrom(...QUANTITY_UNITS)).map(([value, unit]) => ({ value, ...unit }));
const duration = fc
  .tuple(fc.constantFrom(...DURATION_VALUES), fc.constantFrom<Obj>({ unit: 'd', system: UCUM, code: 'd' }, { unit: 'days' }, { unit: 'h', system: UCUM, code: 'h' }))
  .map(([value, unit]) => ({ value, ...unit }));
const meta = opt(
  fc.record({ profile: opt(fc.subarray(PROFILES, { minLength: 1, maxLength: 2 })), tag: opt(fc.subarray(TAGS, { minLength: 1, maxLength: 2 })) }).map(clean),
);

const humanName = fc
  .record({
    use: opt(fc.constant('official')),
    family: opt(fc.constantFrom(...FAMILIES), 6),
    given: opt(fc.subarray(GIVENS, { minLength: 1, maxLength: 2 }), 4),
    prefix: opt(fc.subarray(NAME_PREFIXES, { minLength: 1, maxLength: 1 })),
    suffix: opt(fc.subarray(NAME_SUFFIXES, { minLength: 1, maxLength: 1 })),
    text: opt(fc.constantFrom(...FREE_TEXTS, 'Ann Kanfeld')),
  })
  .map(clean);
const address = fc
  .record({ line: opt(fc.subarray(LINES, { minLength: 1, maxLength: 2 })), city: opt(fc.constantFrom(...CITIES), 5), postalCode: opt(fc.constantFrom(...POSTCODES)), country: opt(fc.constant('UK')) })
  .map(clean);

interface Ids {
  Patient: string[];
  Observation: string[];
  Encounter: string[];
  Condition: string[];
}

function patient(ids: Ids): fc.Arbitrary<Obj> {
  return fc
    .record({
      meta,
      identifier: identifiers,
      active: opt(fc.boolean()),
      name: opt(fc.array(humanName, { minLength: 1, maxLength: 2 }), 8),
      telecom: opt(fc.subarray(TELECOM, { minLength: 1, maxLength: 2 })),
      gender: opt(fc.constantFrom(...GENDERS), 6),
      birthDate: opt(dateOnly, 6),
      $deceased: opt(fc.oneof(fc.boolean().map((b) => ({ deceasedBoolean: b })), dateTime.map((d) => ({ deceasedDateTime: d })))),
      address: opt(fc.array(address, { minLength: 1, maxLength: 2 })),
      generalPractitioner: opt(fc.array(fc.oneof(reference('Practitioner', ['dr1', 'dr2']), reference('Organization', ['org1'])), { minLength: 1, maxLength: 2 })),
      managingOrganization: opt(reference('Organization', ['org1', 'org2'])),
      link: opt(fc.array(reference('Patient', ids.Patient).map((other) => ({ other, type: 'seealso' })), { minLength: 1, maxLength: 2 })),
    })
    .map((p) => ({ resourceType: 'Patient', ...clean(p) }));
}

function observation(ids: Ids): fc.Arbitrary<Obj> {
  return fc
    .record({
      meta,
      identifier: identifiers,
      status: fc.constantFrom(...OBSERVATION_STATUSES),
      category: opt(category(CATEGORY_SYSTEM)),
      code: concept,
      subject: opt(fc.oneof({ weight: 8, arbitrary: reference('Patient', ids.Patient) }, { weight: 1, arbitrary: reference('Group', ['g1']) }), 8),
      context: opt(reference('Encounter', ids.Encounter), 3),
      $effective: opt(fc.oneof(dateTime.map((d) => ({ effectiveDateTime: d })), period.map((p) => ({ effectivePeriod: p }))), 5),
      performer: opt(fc.array(fc.oneof(reference('Patient', ids.Patient), reference('Practitioner', ['dr1'])), { minLength: 1, maxLength: 2 })),
      $value: opt(
        fc.oneof(
          { weight: 4, arbitrary: quantity.map((q) => ({ valueQuantity: q })) },
          { weight: 1, arbitrary: fc.constantFrom(...FREE_TEXTS, ...FAMILIES).map((s) => ({ valueString: s })) },
          { weight: 1, arbitrary: concept.map((c) => ({ valueCodeableConcept: c })) },
          { weight: 1, arbitrary: dateTime.map((d) => ({ valueDateTime: d })) },
          { weight: 1, arbitrary: period.map((p) => ({ valuePeriod: p })) },
        ),
        6,
      ),
      component: opt(fc.array(fc.record({ code: concept, valueQuantity: opt(quantity, 4) }).map(clean), { minLength: 1, maxLength: 2 })),
    })
    .map((o) => ({ resourceType: 'Observation', ...clean(o) }));
}

function encounter(ids: Ids): fc.Arbitrary<Obj> {
  return fc
    .record({
      meta,
      identifier: identifiers,
      status: fc.constantFrom(...ENCOUNTER_STATUSES),
      class: opt(fc.constantFrom(...ENCOUNTER_CLASSES), 4),
      type: opt(fc.array(concept, { minLength: 1, maxLength: 2 })),
      subject: opt(reference('Patient', ids.Patient), 6),
      period: opt(period, 5),
      length: opt(duration, 3),
      reason: opt(fc.array(concept, { minLength: 1, maxLength: 2 })),
      diagnosis: opt(fc.array(reference('Condition', ids.Condition).map((condition) => ({ condition })), { minLength: 1, maxLength: 2 })),
      partOf: opt(reference('Encounter', ids.Encounter)),
      location: opt(fc.array(fc.record({ location: fc.constant({ reference: 'Location/l1' }), period: opt(period, 3) }).map(clean), { minLength: 1, maxLength: 2 })),
    })
    .map((e) => ({ resourceType: 'Encounter', ...clean(e) }));
}

function condition(ids: Ids): fc.Arbitrary<Obj> {
  const free = fc.constantFrom(...FREE_TEXTS);
  return fc
    .record({
      meta,
      identifier: identifiers,
      clinicalStatus: opt(fc.constantFrom(...CLINICAL_STATUSES), 4),
      verificationStatus: opt(fc.constantFrom(...VERIFICATION_STATUSES), 4),
      category: opt(category('http://hl7.org/fhir/condition-category')),
      severity: opt(concept),
      code: opt(concept, 6),
      bodySite: opt(fc.array(concept, { minLength: 1, maxLength: 2 })),
      subject: reference('Patient', ids.Patient),
      context: opt(reference('Encounter', ids.Encounter), 3),
      $onset: opt(
        fc.oneof(
          dateTime.map((d) => ({ onsetDateTime: d })),
          period.map((p) => ({ onsetPeriod: p })),
          fc.constantFrom(...AGE_VALUES).map((a) => ({ onsetAge: a })),
          free.map((s) => ({ onsetString: s })),
        ),
        5,
      ),
      $abatement: opt(
        fc.oneof(
          dateTime.map((d) => ({ abatementDateTime: d })),
          period.map((p) => ({ abatementPeriod: p })),
          fc.boolean().map((b) => ({ abatementBoolean: b })),
          free.map((s) => ({ abatementString: s })),
          fc.constantFrom(...AGE_VALUES).map((a) => ({ abatementAge: a })),
        ),
      ),
      assertedDate: opt(dateTime),
      asserter: opt(fc.oneof(reference('Patient', ids.Patient), reference('Practitioner', ['dr1']))),
    })
    .map((c) => ({ resourceType: 'Condition', ...clean(c) }));
}

type Fate = 'plain' | 'updated' | 'deleted' | 'revived';

/** Clock steps between transactions: often none (several writes share an instant), sometimes a second, a minute, a day. */
const ADVANCES = [0, 0, 0, 1, 999, 1000, 60_000, 86_400_000];

export function worldArbitrary(sizes: Partial<Record<WorldType, [number, number]>> = {}): fc.Arbitrary<World> {
  const size = (t: WorldType, d: [number, number]) => fc.integer({ min: (sizes[t] ?? d)[0], max: (sizes[t] ?? d)[1] });
  return fc
    .record({ Patient: size('Patient', [35, 60]), Observation: size('Observation', [90, 140]), Encounter: size('Encounter', [35, 55]), Condition: size('Condition', [35, 55]) })
    .chain((n) => {
      const ids: Ids = {
        Patient: Array.from({ length: n.Patient }, (_, i) => `p${i}`),
        Observation: Array.from({ length: n.Observation }, (_, i) => `o${i}`),
        Encounter: Array.from({ length: n.Encounter }, (_, i) => `e${i}`),
        Condition: Array.from({ length: n.Condition }, (_, i) => `c${i}`),
      };
      const gens: Record<WorldType, fc.Arbitrary<Obj>> = { Patient: patient(ids), Observation: observation(ids), Encounter: encounter(ids), Condition: condition(ids) };
      const entries = TYPES.flatMap((t) => ids[t].map((id) => ({ type: t, id })));
      const fate = fc.constantFrom<Fate>(...Array<Fate>(16).fill('plain'), 'updated', 'updated', 'deleted', 'revived');
      return fc.record({
        ids: fc.constant(ids),
        order: fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
        versions: fc.tuple(...entries.map((e) => fc.tuple(gens[e.type], gens[e.type], fate))),
        advances: fc.array(fc.constantFrom(...ADVANCES), { minLength: entries.length * 3, maxLength: entries.length * 3 }),
      }).map(({ ids, order, versions, advances }) => {
        const byKey = new Map(entries.map((e, i) => [`${e.type}/${e.id}`, versions[i]!]));
        const ops: WorldWrite[] = [];
        const later: WorldWrite[] = [];
        const last: WorldWrite[] = [];
        for (const e of order) {
          const [final, earlier, f] = byKey.get(`${e.type}/${e.id}`)!;
          if (f === 'plain' || f === 'deleted') ops.push({ ...e, resource: f === 'plain' ? final : earlier });
          else ops.push({ ...e, resource: earlier });
          if (f === 'updated') later.push({ ...e, resource: final });
          if (f === 'deleted' || f === 'revived') later.push({ ...e, resource: null });
          if (f === 'revived') last.push({ ...e, resource: final });
        }
        ops.push(...later, ...last);
        const steps: WorldStep[] = [];
        let at = START;
        ops.forEach((op, i) => {
          const advance = advances[i]!;
          const prev = steps[steps.length - 1];
          // A resource is written at most once per transaction.
          if (prev && advance === 0 && !prev.writes.some((w) => w.type === op.type && w.id === op.id)) prev.writes.push(op);
          else {
            // Separate transactions may share an instant too.
            at += advance;
            steps.push({ at, writes: [op] });
          }
        });
        return { ids, steps };
      });
    });
}

/** The instants at which something was written (for _lastUpdated queries). */
export function instants(world: World): number[] {
  return world.steps.map((s) => s.at);
}

