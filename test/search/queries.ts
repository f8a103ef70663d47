import fc from 'fast-check';
import {
  ACT_CODE, BASE, CATEGORIES, CATEGORY_SYSTEM, CLINICAL_STATUSES, CODES, CONCEPT_TEXTS, DISPLAYS, ENCOUNTER_STATUSES, escapeValue, FRACTIONS, GENDERS,
  IDENTIFIER_SYSTEMS, IDENTIFIER_TYPE_TEXTS, IDENTIFIER_VALUES, NUMBER_QUERY_VALUES, OBSERVATION_STATUSES, PREFIXES, QUANTITY_QUERY_NUMBERS,
  QUANTITY_QUERY_UNITS, STRING_STEMS, SYSTEMS, TAGS, TELECOM, TIMES, UCUM, URI_QUERIES, VERIFICATION_STATUSES, ZONES,
} from './vocabulary.js';
import { searchRegistry } from '../../src/search/registry.js';
import { dateOnly, instants, TYPES, type World, type WorldType, ymd } from './world.js';

/**
 * Random search queries over a generated world, as the name/value pairs of a query
 * string. Each area has its own generators, so that a broken area does not hide the
 * others: strings, tokens and uris, dates, numbers and quantities, references
 * (chains, _has, _id), sorting and paging, and a mix of everything.
 */

export type Pair = [string, string];
export type Area = 'strings' | 'tokens' | 'dates' | 'quantities' | 'references' | 'sorting' | 'mixed' | 'system';

export interface Query {
  /** One type, or several for a system-level search (`_type`). */
  types: WorldType[];
  params: Pair[];
  /** The page (the offset is page × _count, as a paging cursor would give). */
  page: number;
  /** Search in this patient's compartment (`Patient/[id]/[type]`). */
  compartment?: string;
}

export function queryText(q: Query): string {
  const params = q.params.map(([k, v]) => `${k}=${v}`);
  const path = `${q.compartment ? `Patient/${q.compartment}/` : ''}${q.types.length === 1 ? q.types[0]! : q.compartment ? '*' : ''}`;
  if (q.types.length > 1) params.unshift(`_type=${q.types.join(',')}`);
  return `${path}?${params.join('&')}${q.page ? `  (page ${q.page})` : ''}`;
}

const strip = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '');
const TRANSFORMS: Array<(s: string) => string> = [(s) => s, (s) => s.toUpperCase(), (s) => s.toLowerCase(), strip, (s) => s.normalize('NFD')];

/** 1–3 values, ORed. */
function anyOf(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof({ weight: 5, arbitrary: value }, { weight: 2, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }).map((vs) => vs.join(',')) });
}

const pair = (name: string | fc.Arbitrary<string>, value: fc.Arbitrary<string>): fc.Arbitrary<Pair> =>
  fc.tuple(typeof name === 'string' ? fc.constant(name) : name, value);
const missing = (param: string) => pair(`${param}:missing`, fc.constantFrom('true', 'false'));

// --- strings -----------------------------------------------------------------

function stringValue(mode: 'prefix' | 'exact' | 'contains'): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...STRING_STEMS), fc.nat({ max: 300 }), fc.nat({ max: 300 }), fc.nat({ max: TRANSFORMS.length - 1 })).map(([stem, a, b, t]) => {
    const chars = [...stem];
    const f = TRANSFORMS[t]!;
    if (mode === 'exact') return escapeValue(a % 3 === 0 ? f(stem) : stem);
    const len = 1 + (a % chars.length);
    if (mode === 'prefix') return escapeValue(f(chars.slice(0, len).join('')));
    const start = b % chars.length;
    return escapeValue(f(chars.slice(start, start + len).join('')));
  });
}

const STRING_PARAMS: Record<WorldType, string[]> = {
  Patient: ['family', 'given', 'name', 'address', 'address-city', 'address-postalcode'],
  Observation: ['value-string'],
  Encounter: [],
  Condition: ['onset-info', 'abatement-string'],
};

function stringPairs(type: WorldType): fc.Arbitrary<Pair>[] {
  return STRING_PARAMS[type].flatMap((p) => [
    pair(p, anyOf(stringValue('prefix'))),
    pair(`${p}:exact`, anyOf(stringValue('exact'))),
    pair(`${p}:contains`, anyOf(stringValue('contains'))),
    missing(p),
  ]);
}

// --- tokens and uris -----------------------------------------------------------

interface TokenVocab {
  systems: string[];
  codes: string[];
  texts: string[];
}
const CONCEPT: TokenVocab = { systems: SYSTEMS, codes: CODES, texts: [...DISPLAYS, ...CONCEPT_TEXTS] };
const BOOLEAN: TokenVocab = { systems: [], codes: ['true', 'false'], texts: [] };
const IDENTIFIER: TokenVocab = { systems: IDENTIFIER_SYSTEMS, codes: IDENTIFIER_VALUES, texts: IDENTIFIER_TYPE_TEXTS };
const TAG: TokenVocab = { systems: ['http://example.org/tags'], codes: TAGS.map((t) => t.code), texts: ['Démo', 'demo data'] };
const codes = (list: string[], system?: string): TokenVocab => ({ systems: system ? [system] : [], codes: list, texts: [] });

const TOKEN_PARAMS: Record<WorldType, Record<string, TokenVocab>> = {
  Patient: {
    gender: codes(GENDERS, 'http://hl7.org/fhir/administrative-gender'),
    active: BOOLEAN,
    deceased: BOOLEAN,
    identifier: IDENTIFIER,
    telecom: { systems: ['phone', 'email'], codes: [...new Set(TELECOM.map((t) => t.value))], texts: [] },
    email: codes(TELECOM.filter((t) => t.system === 'email').map((t) => t.value), 'email'),
    phone: codes(TELECOM.filter((t) => t.system === 'phone').map((t) => t.value), 'phone'),
    _tag: TAG,
  },
  Observation: {
    code: CONCEPT,
    category: codes(CATEGORIES, CATEGORY_SYSTEM),
    status: codes(OBSERVATION_STATUSES, 'http://hl7.org/fhir/observation-status'),
    'value-concept': CONCEPT,
    'combo-code': CONCEPT,
    'component-code': CONCEPT,
    identifier: IDENTIFIER,
    _tag: TAG,
  },
  Encounter: {
    status: codes(ENCOUNTER_STATUSES),
    class: { systems: [ACT_CODE], codes: ['AMB', 'IMP', 'EMER'], texts: ['ambulatory', 'inpatient', 'EMERGENCY'] },
    type: CONCEPT,
    reason: CONCEPT,
    identifier: IDENTIFIER,
  },
  Condition: {
    code: CONCEPT,
    category: codes(CATEGORIES, 'http://hl7.org/fhir/condition-category'),
    'clinical-status': codes(CLINICAL_STATUSES),
    'verification-status': codes(VERIFICATION_STATUSES),
    severity: CONCEPT,
    'body-site': CONCEPT,
    identifier: IDENTIFIER,
  },
};

function tokenValue(v: TokenVocab): fc.Arbitrary<string> {
  const system = fc.constantFrom(...v.systems, 'http://other.org/cs');
  const code = fc.constantFrom(...v.codes, 'nope').map(escapeValue);
  return fc.oneof(
    { weight: 4, arbitrary: code },
    { weight: 3, arbitrary: fc.tuple(system, code).map(([s, c]) => `${s}|${c}`) },
    { weight: 2, arbitrary: code.map((c) => `|${c}`) },
    { weight: 2, arbitrary: system.map((s) => `${s}|`) },
  );
}

function textValue(texts: string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...texts), fc.nat({ max: 30 }), fc.nat({ max: TRANSFORMS.length - 1 })).map(([t, a, f]) => {
    const chars = [...t];
    return escapeValue(TRANSFORMS[f]!(chars.slice(0, 1 + (a % chars.length)).join('')));
  });
}

function tokenPairs(type: WorldType): fc.Arbitrary<Pair>[] {
  return Object.entries(TOKEN_PARAMS[type]).flatMap(([p, vocab]) => [
    pair(p, anyOf(tokenValue(vocab))),
    pair(p, anyOf(tokenValue(vocab))),
    pair(`${p}:not`, anyOf(tokenValue(vocab))),
    ...(vocab.texts.length ? [pair(`${p}:text`, anyOf(textValue(vocab.texts)))] : []),
    missing(p),
  ]);
}

function uriPairs(): fc.Arbitrary<Pair>[] {
  const uri = fc.constantFrom(...URI_QUERIES);
  return [pair('_profile', anyOf(uri)), pair('_profile:below', anyOf(uri)), pair('_profile:above', anyOf(uri)), missing('_profile')];
}

// --- dates -----------------------------------------------------------------------

const zone = fc.option(fc.constantFrom(...ZONES), { nil: undefined, freq: 3 });

/** A search date at any precision, with or without a zone. */
const dateQuery: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: dateOnly },
  { weight: 1, arbitrary: fc.tuple(ymd, fc.constantFrom('00:00', '10:30', '23:59', '12:00'), zone).map(([d, t, z]) => `${d}T${t}${z ?? ''}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(ymd, fc.constantFrom(...TIMES), fc.option(fc.constantFrom(...FRACTIONS), { nil: undefined, freq: 3 }), zone)
      .map(([d, t, f, z]) => `${d}T${t}${f ? `.${f}` : ''}${z ?? ''}`),
  },
);

const prefix = fc.constantFrom(...PREFIXES);
const prefixed = (value: fc.Arbitrary<string>) => fc.tuple(prefix, value).map(([p, v]) => `${p}${v}`);

const DATE_PARAMS: Record<WorldType, string[]> = {
  Patient: ['birthdate', 'death-date'],
  Observation: ['date', 'value-date'],
  Encounter: ['date', 'location-period'],
  Condition: ['onset-date', 'abatement-date', 'asserted-date'],
};

/** `_lastUpdated` values near the instants the world was written at, at several precisions. */
function lastUpdatedValue(world: World): fc.Arbitrary<string> {
  const units = { month: 0, day: 86_400_000, minute: 60_000, second: 1000, ms: 1 };
  return fc.tuple(fc.constantFrom(...instants(world)), fc.constantFrom(-1, 0, 0, 0, 1), fc.constantFrom(...(Object.keys(units) as Array<keyof typeof units>))).map(([t, shift, p]) => {
    const iso = new Date(t + shift * units[p]).toISOString();
    switch (p) {
      case 'month':
        return iso.slice(0, 7);
      case 'day':
        return iso.slice(0, 10);
      case 'minute':
        return `${iso.slice(0, 16)}Z`;
      case 'second':
        return `${iso.slice(0, 19)}Z`;
      case 'ms':
        return iso;
    }
  });
}

function datePairs(type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  return [
    ...DATE_PARAMS[type].flatMap((p) => [pair(p, anyOf(prefixed(dateQuery))), pair(p, prefixed(dateQuery)), missing(p)]),
    pair('_lastUpdated', anyOf(prefixed(lastUpdatedValue(world)))),
  ];
}

// --- numbers and quantities -----------------------------------------------------------

function quantityPairs(type: WorldType): fc.Arbitrary<Pair>[] {
  const observation = prefixed(fc.tuple(fc.constantFrom(...QUANTITY_QUERY_NUMBERS), fc.constantFrom(...QUANTITY_QUERY_UNITS)).map(([n, u]) => `${n}${u}`));
  const age = prefixed(
    fc.tuple(fc.constantFrom('45', '45.0', '46', '30.5', '3.75', '540', '60', '30'), fc.constantFrom('', `|${UCUM}|a`, `|${UCUM}|mo`, '||years', '||a')).map(([n, u]) => `${n}${u}`),
  );
  switch (type) {
    case 'Observation':
      return ['value-quantity', 'component-value-quantity', 'combo-value-quantity'].flatMap((p) => [pair(p, anyOf(observation)), pair(p, observation), missing(p)]);
    case 'Condition':
      return ['onset-age', 'abatement-age'].flatMap((p) => [pair(p, anyOf(age)), missing(p)]);
    case 'Encounter':
      return [pair('length', anyOf(prefixed(fc.constantFrom(...NUMBER_QUERY_VALUES)))), missing('length')];
    case 'Patient':
      return [];
  }
}

// --- references, chains, _has, _id -----------------------------------------------------------

const REFERENCE_PARAMS: Record<WorldType, Record<string, string[]>> = {
  Patient: { link: ['Patient'], 'general-practitioner': ['Practitioner', 'Organization'], organization: ['Organization'] },
  Observation: { subject: ['Patient', 'Group'], patient: ['Patient'], encounter: ['Encounter'], context: ['Encounter'], performer: ['Patient', 'Practitioner'] },
  Encounter: { subject: ['Patient'], patient: ['Patient'], diagnosis: ['Condition'], 'part-of': ['Encounter'] },
  Condition: { subject: ['Patient'], patient: ['Patient'], encounter: ['Encounter'], context: ['Encounter'], asserter: ['Patient', 'Practitioner'] },
};
const OTHER_IDS: Record<string, string[]> = { Practitioner: ['dr1', 'dr2'], Organization: ['org1', 'org2'], Group: ['g1'] };

function idsOf(world: World, type: string): string[] {
  return (world.ids as Record<string, string[]>)[type] ?? OTHER_IDS[type] ?? [];
}

function referenceValue(world: World, target: string): fc.Arbitrary<string> {
  const id = fc.constantFrom(...idsOf(world, target).slice(0, 40), 'ghost');
  const other = fc.constantFrom(...TYPES.filter((t) => t !== target));
  return fc.oneof(
    { weight: 5, arbitrary: id.map((i) => `${target}/${i}`) },
    { weight: 4, arbitrary: id },
    { weight: 1, arbitrary: id.map((i) => `${BASE}/${target}/${i}`) },
    { weight: 1, arbitrary: id.map((i) => `http://elsewhere.org/fhir/${target}/${i}`) },
    { weight: 1, arbitrary: fc.tuple(other, id).map(([t, i]) => `${t}/${i}`) },
  );
}

function referencePairs(type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  return Object.entries(REFERENCE_PARAMS[type]).flatMap(([p, targets]) => [
    ...targets.map((t) => pair(p, anyOf(referenceValue(world, t)))),
    ...targets.map((t) => pair(`${p}:${t}`, anyOf(referenceValue(world, t)))),
    missing(p),
  ]);
}

function idPairs(type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  const id = fc.constantFrom(...world.ids[type], 'nobody');
  const ids = fc.array(id, { minLength: 1, maxLength: 3 }).map((xs) => xs.join(','));
  return [pair('_id', ids), pair('_id:not', ids)];
}

/** The parameters of `type` a chain or _has may end in. */
function simplePairs(type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  return [...stringPairs(type), ...tokenPairs(type), ...datePairs(type, world), ...quantityPairs(type), ...referencePairs(type, world), ...idPairs(type, world)];
}

const CHAINS: Record<WorldType, Array<[string, WorldType]>> = {
  Patient: [['link', 'Patient'], ['link:Patient', 'Patient']],
  Observation: [['subject:Patient', 'Patient'], ['patient', 'Patient'], ['subject', 'Patient'], ['encounter', 'Encounter'], ['context:Encounter', 'Encounter'], ['performer:Patient', 'Patient']],
  Encounter: [['patient', 'Patient'], ['subject:Patient', 'Patient'], ['diagnosis', 'Condition'], ['diagnosis:Condition', 'Condition'], ['part-of', 'Encounter']],
  Condition: [['patient', 'Patient'], ['subject:Patient', 'Patient'], ['encounter', 'Encounter'], ['context:Encounter', 'Encounter'], ['asserter:Patient', 'Patient']],
};

function chainPairs(type: WorldType, world: World, depth: number): fc.Arbitrary<Pair>[] {
  return CHAINS[type].map(([head, target]) => {
    const inner = [...simplePairs(target, world), ...(depth > 0 ? chainPairs(target, world, depth - 1) : [])];
    return fc.oneof(...inner).map(([name, value]): Pair => [`${head}.${name}`, value]);
  });
}

const HAS: Record<WorldType, Array<[WorldType, string]>> = {
  Patient: [['Observation', 'patient'], ['Observation', 'subject'], ['Condition', 'patient'], ['Encounter', 'subject'], ['Observation', 'performer'], ['Patient', 'link']],
  Observation: [],
  Encounter: [['Observation', 'encounter'], ['Condition', 'context'], ['Encounter', 'part-of']],
  Condition: [['Encounter', 'diagnosis']],
};

function hasPairs(type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  return HAS[type].map(([source, param]) => fc.oneof(...simplePairs(source, world)).map(([name, value]): Pair => [`_has:${source}:${param}:${name}`, value]));
}

// --- sorting and paging ---------------------------------------------------------------

const SORTS: Record<WorldType, string[]> = {
  Patient: ['family', 'given', 'name', 'birthdate', 'gender', 'identifier', 'active', '_id', '_lastUpdated', 'address-city', 'link', 'death-date', 'telecom'],
  Observation: ['date', 'code', 'status', 'value-quantity', 'subject', 'patient', '_id', '_lastUpdated', 'value-string', 'value-date', 'combo-code', 'encounter'],
  Encounter: ['date', 'status', 'length', 'class', 'type', '_lastUpdated', '_id', 'patient', 'location-period'],
  Condition: ['onset-date', 'code', 'asserted-date', 'subject', 'onset-age', 'clinical-status', '_lastUpdated', 'abatement-date', 'onset-info'],
};

function sortPair(type: WorldType): fc.Arbitrary<Pair> {
  return fc
    .uniqueArray(fc.tuple(fc.constantFrom(...SORTS[type]), fc.boolean()), { minLength: 1, maxLength: 3, selector: ([k]) => k })
    .map((keys): Pair => ['_sort', keys.map(([k, desc]) => `${desc ? '-' : ''}${k}`).join(',')]);
}

const paging = fc.option(fc.tuple(fc.constantFrom(0, 1, 2, 3, 5, 10, 50), fc.integer({ min: 0, max: 3 })), { nil: undefined, freq: 2 });

// --- areas ---------------------------------------------------------------------------

function conditionPairs(area: Area, type: WorldType, world: World): fc.Arbitrary<Pair>[] {
  switch (area) {
    case 'strings':
      return stringPairs(type);
    case 'tokens':
      return [...tokenPairs(type), ...uriPairs()];
    case 'dates':
      return datePairs(type, world);
    case 'quantities':
      return quantityPairs(type);
    case 'references':
      return [...referencePairs(type, world), ...idPairs(type, world), ...chainPairs(type, world, 1), ...hasPairs(type, world)];
    case 'sorting':
    case 'mixed':
    case 'system':
      return [...simplePairs(type, world), ...uriPairs(), ...chainPairs(type, world, 0), ...hasPairs(type, world)];
  }
}

/** The parameter code a query parameter name starts with (`subject:Patient.name` -> subject). */
function codeOf(name: string): string {
  return name.split(/[.:]/)[0]!;
}

/**
 * A system-level search over 2–4 types: conditions and sort keys on the parameters
 * they all have (`_id`, `_lastUpdated`, `_profile`, `identifier`, `patient`, `code`, ...).
 */
function systemQuery(world: World): fc.Arbitrary<Query> {
  return fc.subarray([...TYPES], { minLength: 2 }).chain((types) => {
    const common = (name: string) => !name.startsWith('_has:') && types.every((t) => searchRegistry().param(t, codeOf(name)) !== undefined || codeOf(name) === '_id' || codeOf(name) === '_lastUpdated');
    const pool = types.flatMap((t) => conditionPairs('system', t, world));
    const condition = fc.oneof(...pool).filter(([name]) => common(name));
    const keys = [...new Set(types.flatMap((t) => SORTS[t]))].filter(common);
    const sort = fc
      .uniqueArray(fc.tuple(fc.constantFrom(...keys, '_id', '_lastUpdated'), fc.boolean()), { minLength: 1, maxLength: 2, selector: ([k]) => k })
      .map((ks): Pair => ['_sort', ks.map(([k, desc]) => `${desc ? '-' : ''}${k}`).join(',')]);
    return fc.tuple(fc.array(condition, { minLength: 0, maxLength: 2 }), fc.option(sort, { nil: undefined }), paging).map(([params, s, p]): Query => {
      const out: Pair[] = [...params];
      if (s) out.push(s);
      if (p) out.push(['_count', String(p[0])]);
      return { types, params: out, page: p ? p[1] : 0 };
    });
  });
}

export function queryArbitrary(world: World, area: Area): fc.Arbitrary<Query> {
  if (area === 'system') return systemQuery(world);
  const perType = TYPES.map((type) => {
    const pairs = conditionPairs(area, type, world);
    if (!pairs.length) return undefined;
    const condition = fc.oneof(...pairs);
    const conditions = area === 'sorting' ? fc.array(condition, { minLength: 0, maxLength: 2 }) : fc.array(condition, { minLength: 1, maxLength: 3 });
    const sort = area === 'sorting' ? sortPair(type) : area === 'mixed' ? fc.option(sortPair(type), { nil: undefined }) : fc.constant(undefined);
    const page = area === 'sorting' ? paging.map((p) => p ?? ([3, 1] as [number, number])) : paging;
    const compartment =
      area === 'references' || area === 'mixed'
        ? fc.option(fc.constantFrom(...world.ids.Patient.slice(0, 20), 'ghost'), { nil: undefined, freq: 4 })
        : fc.constant(undefined);
    return fc.tuple(conditions, sort, page, compartment).map(([params, s, p, patient]): Query => {
      const out: Pair[] = [...params];
      if (s) out.push(s);
      if (p) out.push(['_count', String(p[0])]);
      return { types: [type], params: out, page: p ? p[1] : 0, ...(patient ? { compartment: patient } : {}) };
    });
  }).filter((a): a is fc.Arbitrary<Query> => a !== undefined);
  return fc.oneof(...perType);
}
