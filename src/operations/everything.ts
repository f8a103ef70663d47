import { randomUUID } from 'node:crypto';
import { parseJson } from '../fhir/json.js';
import { badRequest, gone, notFound } from '../fhir/outcome.js';
import { type BundleData, type BundleEntry, entryFor } from '../interactions/bundle.js';
import { requireId } from '../interactions/checks.js';
import { type CursorState, queryString, signCursor, verifyCursor } from '../interactions/cursor.js';
import type { FhirResponse, Interaction, RequestContext } from '../interactions/types.js';
import { parseDateValue } from '../search/parse/values.js';
import type { Condition, SearchPlan } from '../search/plan.js';
import { parseReference } from '../search/references.js';
import type { SearchRegistry } from '../search/registry.js';
import type { StoredVersion, StoreReader } from '../store/store.js';
import { operationDefinition } from './definition.js';
import { integerParam, operationParams } from './params.js';

/**
 * `Patient/{id}/$everything` and `Patient/$everything`
 * (https://hl7.org/fhir/STU3/patient-operations.html#everything): the patient (or every
 * patient) and every resource in the Patient compartment, with the practitioners,
 * organisations, locations and medications they refer to, paged like a search.
 *
 * - `start` / `end`: care dates. A resource whose type has a care date (CARE_DATE) is
 *   returned only when that date overlaps the range; one without a care date (the
 *   Patient, a resource that does not record one) is always returned.
 * - `_since`: only resources changed at or after this instant (meta.lastUpdated).
 * - `_type`: only these types (the referenced resources too).
 * - `_count`: page size; pages follow through signed `next` links.
 *
 * Everything is read through `ctx.data`, narrowed to the caller's access: under a
 * `patient/` token only that patient's record is visible, so that is what is returned.
 */

export const DEFINITION = operationDefinition({
  id: 'Patient-everything',
  code: 'everything',
  title: 'Everything about a patient',
  description: 'The patient (at instance level) or every patient (at type level), every resource in the Patient compartment, and the practitioners, organisations, locations and medications they refer to, as a searchset Bundle paged through signed next links. Narrowed to what the caller may see.',
  resource: ['Patient'],
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  parameter: [
    { name: 'start', use: 'in', min: 0, max: '1', type: 'date', documentation: 'Care dates from: a resource whose care date ends before this is left out; resources without a care date are kept' },
    { name: 'end', use: 'in', min: 0, max: '1', type: 'date', documentation: 'Care dates up to: a resource whose care date starts after this is left out' },
    { name: '_since', use: 'in', min: 0, max: '1', type: 'instant', documentation: 'Only resources changed at or after this instant' },
    { name: '_type', use: 'in', min: 0, max: '*', type: 'string', documentation: 'Only these resource types (comma-separated)' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer', documentation: 'Page size' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle', documentation: 'A searchset Bundle: the matches, and the resources they refer to as includes' },
  ],
});
const NAME = '$everything';

/** The types referenced resources are fetched for (outside the compartment). */
export const REFERENCED_TYPES: readonly string[] = ['Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Medication'];

/**
 * The search parameter holding each type's care date, where it is not `date`: the date the
 * care happened (onset, authored, performed), rather than when the record was made.
 */
const CARE_DATE: Readonly<Record<string, string | null>> = {
  Account: 'period',
  Basic: 'created',
  Claim: 'created',
  ClaimResponse: 'created',
  Communication: 'sent',
  CommunicationRequest: 'authored',
  Condition: 'onset-date',
  DeviceRequest: 'authored-on',
  DocumentManifest: 'created',
  DocumentReference: 'created',
  EligibilityRequest: 'created',
  ExplanationOfBenefit: 'created',
  Goal: 'start-date',
  ImagingManifest: 'authoring-time',
  ImagingStudy: 'started',
  MedicationAdministration: 'effective-time',
  MedicationDispense: 'whenhandedover',
  MedicationRequest: 'authoredon',
  MedicationStatement: 'effective',
  NutritionOrder: 'datetime',
  ProcedureRequest: 'authored',
  Provenance: 'recorded',
  QuestionnaireResponse: 'authored',
  ReferralRequest: 'authored-on',
  RequestGroup: 'authored',
  Specimen: 'collected',
  VisionPrescription: 'datewritten',
  // Birth dates are not care dates.
  Patient: null,
  Person: null,
  RelatedPerson: null,
};

/** The care-date parameter of a type, if it has one. */
export function careDateParam(registry: SearchRegistry, type: string): string | undefined {
  const code = type in CARE_DATE ? CARE_DATE[type] : 'date';
  if (!code) return undefined;
  return registry.param(type, code)?.type === 'date' ? code : undefined;
}

/** The types of the Patient compartment (the Patient among them). */
export function compartmentTypes(registry: SearchRegistry): string[] {
  return registry.types().filter((t) => t === 'Patient' || registry.compartmentParams(t).length > 0);
}

export const everything: Interaction = async (req, ctx) => {
  const params = operationParams(req, NAME);
  if (req.type !== 'Patient') throw notFound(`${NAME} is an operation on Patient`);
  const known = new Set(['start', 'end', '_since', '_type', '_count', '_cursor', '_format', '_pretty']);
  for (const name of params.names()) if (!known.has(name)) throw badRequest(`${NAME} has no parameter '${name.slice(0, 100)}': it takes start, end, _since, _type and _count`, name, 'not-supported');

  let patient: string | undefined;
  if (req.id !== undefined) {
    patient = requireId(req.id);
    const v = await ctx.data.read('Patient', patient);
    if (!v) throw notFound(`Patient/${patient} is not known`);
    if (v.deleted) throw gone(`Patient/${patient} was deleted`);
  }

  const inCompartment = compartmentTypes(ctx.registry);
  const typeFilter = params.all('_type').flatMap((v) => v.split(',')).map((t) => t.trim()).filter(Boolean);
  for (const t of typeFilter) {
    if (!inCompartment.includes(t) && !REFERENCED_TYPES.includes(t)) throw badRequest(`${NAME}: _type '${t.slice(0, 100)}' is neither in the Patient compartment nor a type it refers to (${REFERENCED_TYPES.join(', ')})`, '_type');
  }
  const wanted = (t: string) => !typeFilter.length || typeFilter.includes(t);
  const types = inCompartment.filter(wanted);
  const referenced = REFERENCED_TYPES.filter(wanted);

  const now = ctx.clock();
  const where: Condition[] = [];
  if (patient !== undefined) where.push({ kind: 'compartment', patient });
  const since = params.one('_since');
  if (since !== undefined) where.push({ kind: 'lastUpdated', values: [{ ...parseDateValue('_since', since, now), prefix: 'ge' }] });
  const start = params.one('start');
  const end = params.one('end');
  const range = [
    ...(start !== undefined ? [{ ...parseDateValue('start', start, now), prefix: 'ge' as const }] : []),
    ...(end !== undefined ? [{ ...parseDateValue('end', end, now), prefix: 'le' as const }] : []),
  ];
  for (const value of range) {
    for (const type of types) {
      const param = careDateParam(ctx.registry, type);
      if (!param) continue;
      where.push({ kind: 'for-type', type, where: { kind: 'or', any: [{ kind: 'date', param, values: [value] }, { kind: 'missing', param, table: 'date', missing: true }] } });
    }
  }

  const count = Math.min(integerParam(params, '_count', NAME) ?? ctx.config.defaultCount, ctx.config.maxCount);
  const canonical = params.canonical();
  const path = patient !== undefined ? `Patient/${patient}/${NAME}` : `Patient/${NAME}`;
  const scope = `operation ${path}`;
  // One patient's record is counted; every patient's is not (it would count the whole store on every page).
  const plan: SearchPlan = { types, where, sort: [], count, offset: 0, total: patient !== undefined };
  const cursor = params.one('_cursor');
  if (cursor !== undefined) {
    const state = verifyCursor(ctx, scope, canonical, cursor);
    plan.offset = state.o;
    if (state.a !== undefined && Number.isInteger(state.a)) plan.after = state.a;
  }
  const page = types.length && count > 0 ? await ctx.data.search(plan) : { rows: [], more: false, total: types.length ? undefined : 0 };
  const included = await referencedBy(ctx.data, page.rows, referenced, ctx.config.baseUrl);

  const entries: BundleEntry[] = [...page.rows.map((v) => entryFor(ctx.config.baseUrl, v, 'match')), ...included.map((v) => entryFor(ctx.config.baseUrl, v, 'include'))];
  const bundle: BundleData = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date(now).toISOString() },
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link: links(ctx, path, scope, canonical, plan, page.more, 'lastRid' in page ? page.lastRid : undefined),
    ...(entries.length ? { entry: entries } : {}),
  };
  return { status: 200, body: { bundle } } satisfies FhirResponse;
};

function links(ctx: RequestContext, path: string, scope: string, canonical: Array<[string, string]>, plan: SearchPlan, more: boolean, lastRid: number | undefined) {
  const base = `${ctx.config.baseUrl}/${path}`;
  const url = (state?: CursorState) => {
    const q: Array<[string, string]> = [...canonical];
    if (state && state.o > 0) q.push(['_cursor', signCursor(ctx, scope, canonical, state)]);
    return q.length ? `${base}?${queryString(q)}` : base;
  };
  const out = [
    { relation: 'self', url: url(plan.after !== undefined ? { o: plan.offset, a: plan.after } : { o: plan.offset }) },
    { relation: 'first', url: url() },
  ];
  if (more && lastRid !== undefined) out.push({ relation: 'next', url: url({ o: plan.offset + plan.count, a: lastRid }) });
  return out;
}

/** The resources of `types` that `rows` refer to, read through the caller's (narrowed) reader. */
async function referencedBy(reader: StoreReader, rows: StoredVersion[], types: readonly string[], baseUrl: string): Promise<StoredVersion[]> {
  if (!types.length || !rows.length) return [];
  const have = new Set(rows.map((v) => `${v.type}/${v.id}`));
  const wanted = new Map<string, Set<string>>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') {
        const ref = parseReference(v, baseUrl);
        if (ref.type && ref.id && types.includes(ref.type) && !have.has(`${ref.type}/${ref.id}`)) {
          if (!wanted.has(ref.type)) wanted.set(ref.type, new Set());
          wanted.get(ref.type)!.add(ref.id);
        }
      } else if (typeof v === 'object') visit(v);
    }
  };
  for (const v of rows) if (v.json && v.json.includes('"reference"')) visit(parseJson(v.json));
  const out: StoredVersion[] = [];
  for (const [type, ids] of wanted) {
    const list = [...ids];
    // In slices, so no statement carries an unbounded list.
    for (let i = 0; i < list.length; i += 500) {
      const slice = list.slice(i, i + 500);
      const page = await reader.search({ types: [type], where: [{ kind: 'id', values: slice }], sort: [], count: slice.length, offset: 0, total: false });
      out.push(...page.rows);
    }
  }
  return out;
}
