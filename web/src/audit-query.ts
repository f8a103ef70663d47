import type { Resource } from './fhir-types.js';
import { checkNhsNumber, NHS_NUMBER_SYSTEM, nhsDigits } from './nhs-number.js';

/**
 * The audit view's two halves that need no page: its filters as an `AuditEvent` search
 * (docs/audit.md lists the parameters), and an event as a row of the table.
 */

export interface AuditFilters {
  /** A patient id (`1`, `Patient/1`) or an NHS number. */
  patient: string;
  /** A user name: the token's `sub`, as the event's `agent.userId` holds it. */
  user: string;
  /** Dates (YYYY-MM-DD), both days included. */
  from: string;
  to: string;
  outcome: '' | 'success' | 'failure';
  /** Only events about a patient's record (the default), or every event (sign-ins, searches of definitions). */
  events: 'patients' | 'all';
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function filtersFrom(query: URLSearchParams): AuditFilters {
  const outcome = query.get('outcome');
  return {
    patient: (query.get('patient') ?? '').trim(),
    user: (query.get('user') ?? '').trim(),
    from: (query.get('from') ?? '').trim(),
    to: (query.get('to') ?? '').trim(),
    outcome: outcome === 'success' || outcome === 'failure' ? outcome : '',
    events: query.get('events') === 'all' ? 'all' : 'patients',
  };
}

/** The explorer's own address for these filters (the defaults left out). */
export function filtersQuery(f: AuditFilters): URLSearchParams {
  const q = new URLSearchParams();
  for (const k of ['patient', 'user', 'from', 'to', 'outcome'] as const) if (f[k]) q.set(k, f[k]);
  if (f.events === 'all') q.set('events', 'all');
  return q;
}

/**
 * The search parameters of `GET [secure base]/AuditEvent` for these filters, newest first,
 * up to `now`, with the users' Practitioner or Patient resources included for their names.
 * A filter that cannot be a valid search is an error in words, sent to no server.
 */
export function auditSearch(f: AuditFilters, count = 20, now = new Date()): { params: Array<[string, string]> } | { error: string } {
  const params: Array<[string, string]> = [];
  if (f.patient) {
    const digits = nhsDigits(f.patient);
    const id = f.patient.replace(/^Patient\//, '');
    if (/^[\d\s-]+$/.test(f.patient) && digits.length === 10) {
      if (checkNhsNumber(digits) !== 'valid') return { error: `${f.patient} is not a valid NHS number: its check digit does not match.` };
      // Each patient an event is about is an entity with the NHS number as its identifier.
      params.push(['entity-id', `${NHS_NUMBER_SYSTEM}|${digits}`]);
    } else if (ID.test(id)) {
      params.push(['patient', `Patient/${id}`]);
    } else {
      return { error: `“${f.patient}” is neither a patient id (such as 1) nor an NHS number.` };
    }
  } else if (f.events === 'patients') {
    params.push(['patient:missing', 'false']);
  }
  if (f.user) params.push(['user', f.user]);
  for (const [key, value, prefix] of [['from', f.from, 'ge'], ['to', f.to, 'le']] as const) {
    if (!value) continue;
    if (!DATE.test(value) || Number.isNaN(Date.parse(value))) return { error: `The ${key === 'from' ? 'first' : 'last'} date, “${value}”, is not a date.` };
    params.push(['date', `${prefix}${value}`]);
  }
  if (f.from && f.to && f.from > f.to) return { error: 'The first date is after the last.' };
  // The trail grows while it is read (reading it is recorded too), and the server pages a
  // sorted search by position: without a fixed end, each new event would push a row of the
  // first page onto the next. Events from now on are left to the next search.
  params.push(['date', `lt${now.toISOString()}`]);
  // 0 success; 4, 8 and 12 the failures (refused, failed, failed badly).
  if (f.outcome === 'success') params.push(['outcome', '0']);
  if (f.outcome === 'failure') params.push(['outcome', '4,8,12']);
  params.push(['_sort', '-date'], ['_count', String(count)], ['_include', 'AuditEvent:agent']);
  return { params };
}

interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

export interface AuditEventResource extends Resource {
  resourceType: 'AuditEvent';
  type?: Coding;
  subtype?: Coding[];
  action?: string;
  recorded?: string;
  outcome?: string;
  outcomeDesc?: string;
  agent?: Array<{ requestor?: boolean; userId?: { value?: string }; altId?: string; name?: string; reference?: { reference?: string }; network?: { address?: string } }>;
  source?: { site?: string; identifier?: { value?: string } };
  entity?: Array<{ reference?: { reference?: string }; identifier?: { system?: string; value?: string }; type?: Coding; role?: Coding; lifecycle?: Coding; query?: string; name?: string }>;
}

export interface AuditRow {
  id: string;
  recorded: string;
  /** The user name, or undefined for an anonymous caller (the open API). */
  user?: string;
  /** The user's Practitioner or Patient, as the event references it. */
  userReference?: string;
  /** The client application's id. */
  client?: string;
  address?: string;
  /** The interaction (`read`, `search-type`, …) or the authorization server's event (`sign-in`, …). */
  interaction: string;
  /** The query of a search or operation (method, path below the base and parameters), decoded. */
  query?: string;
  /** The resources read or written, without their versions. */
  resources: string[];
  patients: Array<{ id: string; nhsNumber?: string }>;
  outcome: 'success' | 'refused' | 'failed';
  outcomeText?: string;
  /** The base the request came to (the open or the secure API), or the authorization server. */
  source?: string;
}

const OBJECT_ROLE_PATIENT = '1';
const OBJECT_ROLE_QUERY = '24';

export function auditRow(e: AuditEventResource): AuditRow {
  const requestor = e.agent?.find((a) => a.requestor) ?? e.agent?.[0];
  const app = e.agent?.find((a) => a !== requestor && a.altId);
  const patients: AuditRow['patients'] = [];
  const resources: string[] = [];
  let query: string | undefined;
  for (const en of e.entity ?? []) {
    const ref = en.reference?.reference;
    if (en.role?.code === OBJECT_ROLE_PATIENT && ref?.startsWith('Patient/')) {
      patients.push({ id: ref.slice('Patient/'.length), ...(en.identifier?.system === NHS_NUMBER_SYSTEM && en.identifier.value ? { nhsNumber: en.identifier.value } : {}) });
    } else if (en.role?.code === OBJECT_ROLE_QUERY && en.query) {
      query = readable(decodeBase64(en.query));
    } else if (ref) {
      const plain = ref.replace(/\/_history\/[^/]+$/, '');
      if (!resources.includes(plain)) resources.push(plain);
    }
  }
  const outcome = e.outcome === '0' || e.outcome === undefined ? 'success' : e.outcome === '4' ? 'refused' : 'failed';
  const user = requestor?.userId?.value;
  return {
    id: e.id ?? '',
    recorded: e.recorded ?? '',
    ...(user ? { user } : {}),
    ...(requestor?.reference?.reference ? { userReference: requestor.reference.reference } : {}),
    ...(app?.altId ? { client: app.altId } : {}),
    ...(requestor?.network?.address ? { address: requestor.network.address } : {}),
    interaction: e.subtype?.[0]?.code ?? e.type?.code ?? '',
    ...(query !== undefined ? { query } : {}),
    resources,
    patients,
    outcome,
    ...(e.outcomeDesc ? { outcomeText: e.outcomeDesc } : {}),
    ...(e.source?.identifier?.value ? { source: e.source.identifier.value } : {}),
  };
}

/** `GET Patient?_include=Patient%3Aorganization` as people read it: `GET Patient?_include=Patient:organization`. */
function readable(query: string | undefined): string | undefined {
  const at = query?.indexOf('?') ?? -1;
  if (query === undefined || at < 0) return query;
  return `${query.slice(0, at)}?${[...new URLSearchParams(query.slice(at + 1))].map(([k, v]) => `${k}=${v}`).join('&')}`;
}

/** The query entity is the base64 of UTF-8 text. */
function decodeBase64(text: string): string | undefined {
  try {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
}

/** `Type/id` of a reference, relative or absolute: how an agent's reference meets an included resource. */
export function typeAndId(reference: string | undefined): string | undefined {
  const m = reference ? /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})$/.exec(reference) : null;
  return m?.[1];
}
