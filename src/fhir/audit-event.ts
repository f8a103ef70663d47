/**
 * One STU3 AuditEvent from plain facts of what a request was and did (docs/audit.md,
 * "What is recorded"), and the audit record those facts are kept as. Pure.
 * https://hl7.org/fhir/STU3/auditevent.html
 *
 * The chain of the audit trail keeps each event as its *record*: the facts, whose data
 * they touched, and the event's id, as compact JSON (what is hashed). The AuditEvent is
 * made from the record when it is copied for search, exported or shipped, always the
 * same from the same record. A record written by an earlier release is the AuditEvent
 * itself, and stays what it was.
 */

export type AuditEventResource = Record<string, unknown> & { resourceType: 'AuditEvent'; id: string };

/** Whose data a resource is: a patient whose compartment holds it, with the NHS number. */
export interface PatientRef {
  id: string;
  nhsNumber?: string;
}

/** What an event says: who asked what, and what it touched (plain data: it crosses threads). */
export interface EventFacts {
  requestId: string;
  /** Epoch ms when the request was taken. */
  recorded: number;
  /** This server, and the node it runs on. */
  source: { site: string; base: string };
  incoming: { method: string; path: string[]; query: Array<[string, string]>; address?: string };
  caller?: { kind: 'anonymous' | 'user' | 'patient' | 'system'; subject?: string; client?: string; fhirUser?: string };
  /** The interaction code of the route taken (pipeline/route.ts). */
  target?: { code: string };
  /** The response; absent for an event appended before the response exists (inside a write's transaction, which succeeded). */
  response?: ResponseFacts;
  /** `Type/id/_history/version` of every version read or written, with whether it was written. */
  touched: Array<{ key: string; reference: string; written: boolean; deleted?: boolean }>;
  /** For events that are not about a FHIR request (the authorization server's). */
  kind?: { type: Coding; subtype: Coding; action: 'C' | 'R' | 'U' | 'D' | 'E'; outcome: '0' | '4' | '8' | '12'; description?: string; user?: string; client?: string };
}

/** What an event says of a response: its status, an error's text, and a Bundle's type. */
export interface ResponseFacts {
  status: number;
  text?: string;
  bundleType?: string;
}

/** The patients whose data each touched resource (`Type/id`) is. */
export type Whose = Record<string, PatientRef[]>;

/** An event as its chain keeps it: its id, when it was recorded (epoch ms), and its record (JSON, the bytes hashed). */
export interface EventRecord {
  id: string;
  recorded: number;
  json: string;
}

/** The record of an event: its id, its facts, and whose data it touched (only the keys it touched). */
export function eventRecord(id: string, facts: EventFacts, whose: ReadonlyMap<string, PatientRef[]>): EventRecord {
  const patients: Whose = {};
  for (const t of facts.touched) {
    const refs = whose.get(t.key);
    if (refs?.length) patients[t.key] = refs;
  }
  // The id first: a reader of the journal's bytes checks that a line is a whole record by its start.
  return { id, recorded: facts.recorded, json: JSON.stringify({ id, facts, patients }) };
}

/** The AuditEvent of a record (a record of an earlier release is the AuditEvent itself). */
export function eventOfRecord(json: string): AuditEventResource {
  const record = JSON.parse(json) as { resourceType?: string; id: string; facts: EventFacts; patients: Whose };
  if (record.resourceType === 'AuditEvent') return record as unknown as AuditEventResource;
  return auditEvent(record.facts, record.patients, record.id);
}

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

const REST: Coding = { system: 'http://hl7.org/fhir/audit-event-type', code: 'rest', display: 'RESTful Operation' };
const INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://hl7.org/fhir/audit-entity-type';
const OBJECT_ROLE = 'http://hl7.org/fhir/object-role';
const LIFECYCLE = 'http://hl7.org/fhir/dicom-audit-lifecycle';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
/** Where the request id goes: an entity of its own, searchable with `entity-id=urn:ccri:request-id|{id}`. */
export const REQUEST_ID_SYSTEM = 'urn:ccri:request-id';
const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';

/** The restful interaction code of a target (STU3's list has no `search-compartment`: it is a type search). */
function subtypeOf(target: EventFacts['target'], incoming: EventFacts['incoming'], response: ResponseFacts | undefined): string {
  if (!target) return guessed(incoming);
  if (target.code === 'search-compartment') return 'search-type';
  // The target does not tell a batch from a transaction; the response's Bundle does (a refused one says neither: counted a transaction).
  if (target.code === 'transaction') return response?.bundleType === 'batch-response' ? 'batch' : 'transaction';
  return target.code;
}

/** The interaction a request that could not be routed (or was refused before) was asking for, from its method and path. */
function guessed({ method, path }: EventFacts['incoming']): string {
  if (path.some((p) => p.startsWith('$'))) return 'operation';
  switch (method) {
    case 'POST':
      return path.length === 0 ? 'transaction' : path[path.length - 1] === '_search' ? 'search-type' : 'create';
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      if (path[0] === 'metadata') return 'capabilities';
      if (path.length === 0) return 'search-system';
      if (path.includes('_history')) return path.length === 4 ? 'vread' : path.length === 1 ? 'history-system' : path.length === 2 ? 'history-type' : 'history-instance';
      return path.length === 1 ? 'search-type' : path.length === 2 ? 'read' : 'search-type';
  }
}

function actionOf(subtype: string): 'C' | 'R' | 'U' | 'D' | 'E' {
  switch (subtype) {
    case 'create':
      return 'C';
    case 'update':
      return 'U';
    case 'delete':
      return 'D';
    case 'read':
    case 'vread':
    case 'history-instance':
    case 'history-type':
    case 'history-system':
    case 'capabilities':
      return 'R';
    default:
      return 'E';
  }
}

function outcomeOf(response: ResponseFacts | undefined): { code: '0' | '4' | '8' | '12'; text?: string } {
  if (!response || response.status < 400) return { code: '0' };
  const text = response.text;
  return { code: response.status >= 500 ? '8' : '4', ...(text ? { text: `${response.status}: ${text}` } : { text: String(response.status) }) };
}

/** The request as a query: method, path and query string, base64 (never the body, never a credential: the secure base refuses those in the URL). */
function queryOf(incoming: EventFacts['incoming']): string {
  const qs = incoming.query.length ? `?${new URLSearchParams(incoming.query).toString()}` : '';
  return Buffer.from(`${incoming.method} ${incoming.path.map(encodeURIComponent).join('/')}${qs}`).toString('base64');
}

export function auditEvent(f: EventFacts, whose: Whose, id: string): AuditEventResource {
  const subtype = f.kind ? f.kind.subtype.code : subtypeOf(f.target, f.incoming, f.response);
  const outcome = f.kind ? { code: f.kind.outcome, ...(f.kind.description ? { text: f.kind.description } : {}) } : outcomeOf(f.response);
  const caller = f.caller;
  const requestor: Record<string, unknown> = {
    role: [{ coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] }],
    requestor: true,
  };
  const user = f.kind?.user ?? caller?.subject;
  if (user) requestor.userId = { value: user };
  if (caller?.fhirUser) requestor.reference = { reference: caller.fhirUser };
  requestor.name = user ?? (caller?.kind === 'anonymous' || !caller ? 'anonymous' : caller.kind);
  if (f.incoming.address) requestor.network = { address: f.incoming.address, type: '2' };
  const agents: Array<Record<string, unknown>> = [requestor];
  const client = f.kind?.client ?? caller?.client;
  if (client) agents.push({ role: [{ coding: [{ system: DCM, code: '110150', display: 'Application' }] }], altId: client, name: client, requestor: false });

  const entities: Array<Record<string, unknown>> = [
    { identifier: { system: REQUEST_ID_SYSTEM, value: f.requestId }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '20', display: 'Job' }, name: 'request' },
  ];
  if (!f.kind && (subtype.startsWith('search') || subtype === 'operation' || subtype.startsWith('history'))) {
    entities.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, query: queryOf(f.incoming) });
  }
  const patients = new Map<string, PatientRef>();
  for (const t of f.touched) {
    entities.push({
      reference: { reference: t.reference },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
      lifecycle: t.written ? (t.deleted ? { system: LIFECYCLE, code: '14', display: 'Logical deletion' } : { system: LIFECYCLE, code: '1', display: 'Origination / Creation' }) : { system: LIFECYCLE, code: '6', display: 'Access / Use' },
    });
    for (const p of whose[t.key] ?? []) if (!patients.has(p.id)) patients.set(p.id, p);
  }
  for (const p of patients.values()) {
    entities.push({
      reference: { reference: `Patient/${p.id}` },
      ...(p.nhsNumber ? { identifier: { system: NHS_NUMBER, value: p.nhsNumber } } : {}),
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  return {
    resourceType: 'AuditEvent',
    id,
    type: f.kind ? f.kind.type : REST,
    subtype: [f.kind ? f.kind.subtype : { system: INTERACTION, code: subtype, display: subtype }],
    action: f.kind ? f.kind.action : actionOf(subtype),
    recorded: new Date(f.recorded).toISOString(),
    outcome: outcome.code,
    ...(outcome.text ? { outcomeDesc: outcome.text.slice(0, 1000) } : {}),
    agent: agents,
    source: { site: f.source.site, identifier: { value: f.source.base }, type: [{ system: 'http://hl7.org/fhir/security-source-type', code: '4', display: 'Application Server' }] },
    entity: entities,
  };
}
