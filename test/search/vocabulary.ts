/**
 * The small vocabularies the random resources and queries share, so that queries
 * hit: a handful of names with accent, case and Unicode-form variants, four codes in
 * two systems (one code in both), dates around a few boundaries at every precision,
 * quantities in mg, g and kg around the precision boundaries of the query numbers.
 */

export const BASE = 'http://ccri.test/fhir';
export const UCUM = 'http://unitsofmeasure.org';
export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
export const LOCAL_IDS = 'urn:oid:2.16.840.1.113883.2.1.4.1';
export const ACT_CODE = 'http://hl7.org/fhir/v3/ActCode';

/** Family names: five stems, each in several spellings. 'Ka\u0308nfeld' is decomposed (NFD). */
export const FAMILIES = [
  'Kanfeld', 'KÄNFELD', 'Känfeld-Smith', 'Ka\u0308nfeld',
  'Müller', 'MULLER', 'Mueller', 'Müller-Lüdenscheidt',
  'García López', 'garcia  lopez', 'GARCÍA',
  'Ōtsuka', 'otsuka', 'Ötsuka',
  'Smith', 'SMITH', 'Smithson', 'Smíth', 'Lee, Jr',
];
export const GIVENS = ['Ann', 'Anne', 'ANNA', 'Zoë', 'Zoe', 'Jean-Luc', 'Łukasz', 'Bo'];
export const NAME_PREFIXES = ['Dr', 'Mr', 'Ms'];
export const NAME_SUFFIXES = ['Jr', 'III'];
export const CITIES = ['London', 'Łódź', 'Zürich', 'Zurich', 'São Paulo', 'sao paulo', 'Leeds'];
export const LINES = ['1 High St', '22 Church Rd', 'Flat 3, Mill Lane'];
export const POSTCODES = ['LS1 4HR', 'SW1A 1AA'];
/** Two long texts share their first 210 characters (the server folds at most 200 for search). */
const LONG = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. '.repeat(2)}`.slice(0, 210);
export const FREE_TEXTS = ['Ongoing since childhood', 'ongoing', 'Née à Paris', 'N/A', 'Dose 1|2', '100% sure_thing', 'back\\slash', `${LONG} zebra crossing`, `${LONG} yak`];

/** Stems for string queries (prefixes and substrings of these, re-cased and stripped of accents). */
export const STRING_STEMS = [...FAMILIES, ...GIVENS, ...CITIES, ...NAME_PREFIXES, ...FREE_TEXTS, 'x', 'zz'];

export const CODES = ['8867-4', '29463-7', '271649006', '38341003'];
export const SYSTEMS = [LOINC, SNOMED];
export const DISPLAYS = ['Heart rate', 'Body weight', 'Systolic blood pressure', 'Hypertension', 'Héart râte'];
export const CONCEPT_TEXTS = ['Pulse', 'Weight of body', 'HYPERTENSION (disorder)'];
export const CATEGORIES = ['vital-signs', 'laboratory', 'problem-list-item', 'encounter-diagnosis'];
export const CATEGORY_SYSTEM = 'http://hl7.org/fhir/observation-category';

export const IDENTIFIER_SYSTEMS = [NHS, LOCAL_IDS];
export const IDENTIFIER_VALUES = ['9876543210', '123', 'A|1', 'a-1', 'x\\y,z'];
export const IDENTIFIER_TYPE_TEXTS = ['NHS Number', 'Local hospital number'];
export const TELECOM = [
  { system: 'phone', value: '0113 496 0000' },
  { system: 'phone', value: '+44 113' },
  { system: 'email', value: 'ann@example.org' },
  { system: 'email', value: 'Ann@Example.org' },
  { value: 'ann@example.org' },
];

export const GENDERS = ['male', 'female', 'other', 'unknown'];
export const OBSERVATION_STATUSES = ['final', 'preliminary', 'amended', 'cancelled'];
export const ENCOUNTER_STATUSES = ['planned', 'in-progress', 'finished', 'cancelled'];
export const ENCOUNTER_CLASSES = [
  { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
  { system: ACT_CODE, code: 'IMP', display: 'inpatient encounter' },
  { system: ACT_CODE, code: 'EMER', display: 'emergency' },
  { code: 'AMB' },
];
export const CLINICAL_STATUSES = ['active', 'recurrence', 'inactive', 'resolved'];
export const VERIFICATION_STATUSES = ['confirmed', 'provisional', 'refuted'];

export const PROFILES = [
  'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1',
  'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Observation-1',
  'http://example.org/fhir/StructureDefinition/a/b',
  'http://example.org/fhir/StructureDefinitionX',
];
export const URI_QUERIES = [
  ...PROFILES,
  'https://fhir.hl7.org.uk/STU3/StructureDefinition',
  'https://fhir.hl7.org.uk/STU3/Struct',
  'http://example.org/fhir',
  'http://example.org/fhir/StructureDefinition',
  'http://example.org/fhir/StructureDefinition/a/b/c',
  'http://example.org',
];
export const TAGS = [
  { system: 'http://example.org/tags', code: 'test' },
  { system: 'http://example.org/tags', code: 'demo', display: 'Démo data' },
  { code: 'test' },
];

// Dates: a few years, months and days near boundaries; times near midnight in several zones.
export const YEARS = [1969, 1970, 2019, 2020, 2021];
export const MONTHS = [1, 2, 6, 12];
export const DAYS = [1, 15, 28, 29, 30];
/** Valid [year, month, day]s from the lists above (no 2019-02-29, no 02-30). */
export const YMDS: Array<[number, number, number]> = YEARS.flatMap((y) =>
  MONTHS.flatMap((m) => DAYS.filter((d) => d <= new Date(Date.UTC(y, m, 0)).getUTCDate()).map((d): [number, number, number] => [y, m, d])),
);
export const TIMES = ['00:00:00', '10:30:00', '23:59:59', '12:00:30'];
export const FRACTIONS = ['5', '123', '999', '0001'];
export const ZONES = ['Z', '+14:00', '-05:00', '+05:30', '-12:00', '+00:00'];

/** Quantity numbers as stored; several sit on the precision boundaries of the query numbers. */
export const QUANTITY_VALUES = [
  0, -1.5, 0.001, 0.0005, 0.25, 0.245, 0.3, 0.35, 0.5, 0.95, 1, 1.445, 1.45, 1.495, 1.5, 1.505, 1.55, 2, 2.5, 250, 299.5, 300, 500, 1000, 1450, 1499.5,
  1500, 1550, 1999.5, 2000, 0.0015, 0.00145, 0.001445,
];
/** Query numbers as written (precision matters: `1.50` is not `1.5`). */
export const QUANTITY_QUERY_NUMBERS = [
  '0', '0.0', '1', '1.0', '1.5', '1.50', '1.45', '1e3', '1.5e3', '1e-3', '0.3', '300', '2', '0.25', '250', '1500', '0.0015', '0.00145', '-1', '-1.5', '2000', '0.001', '1.5E+3',
];
export const QUANTITY_UNITS: Array<Record<string, string>> = [
  { system: UCUM, code: 'mg', unit: 'mg' },
  { system: UCUM, code: 'g', unit: 'g' },
  { system: UCUM, code: 'kg', unit: 'kg' },
  { system: UCUM, code: 'mg', unit: 'milligram' },
  { unit: 'mg' },
  { system: SNOMED, code: '258684004', unit: 'mg' },
  {},
];
export const QUANTITY_QUERY_UNITS = ['', `|${UCUM}|mg`, `|${UCUM}|g`, `|${UCUM}|kg`, '||mg', '||milligram', `|${SNOMED}|258684004`, '||g', `|${UCUM}|milligram`];

export const DURATION_VALUES = [0.5, 1, 1.5, 2, 3, 10, 14.5];
export const NUMBER_QUERY_VALUES = ['1', '1.5', '1.50', '2', '2.0', '3', '10', '1e1', '14', '14.5', '0.5', '15'];
export const AGE_VALUES: Array<Record<string, unknown>> = [
  { value: 45, system: UCUM, code: 'a', unit: 'years' },
  { value: 540, system: UCUM, code: 'mo', unit: 'months' },
  { value: 30, system: UCUM, code: 'a', unit: 'years' },
  { value: 45.5, system: UCUM, code: 'a', unit: 'years' },
  { value: 60, unit: 'years' },
];
export const AGE_QUERIES = ['45', `45|${UCUM}|a`, `540|${UCUM}|mo`, `ge45|${UCUM}|a`, `lt30.5|${UCUM}|a`, `3.75|${UCUM}|a`, '60||years', `gt45|${UCUM}|a`, `46|${UCUM}|a`, `45.0|${UCUM}|a`];

export const PREFIXES = ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'];

/** Escapes a value for a search parameter (`\` `,` `|` `$`). */
export function escapeValue(v: string): string {
  return v.replace(/[\\,|$]/g, (c) => `\\${c}`);
}
