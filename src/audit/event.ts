import { timeOrderedId } from '../fhir/ids.js';
import { type EventFacts, eventRecord, type EventRecord, type ResponseFacts } from '../fhir/audit-event.js';
import type { Caller, FhirResponse } from '../interactions/types.js';
import type { Target } from '../pipeline/route.js';
import type { PatientLookup } from '../store/store.js';

export type { EventFacts } from '../fhir/audit-event.js';

/**
 * The audit facts of a request, and their records (the AuditEvent itself is made from a
 * record: fhir/audit-event.ts).
 */

/**
 * The facts of a request in plain data (no functions, no bodies), fit to hand to another
 * thread: the caller's identity, the target's interaction code, the response's status and
 * the text of its OperationOutcome.
 */
export function plainFacts(caller: Caller | undefined, target: Target | undefined, response: FhirResponse | undefined): Pick<EventFacts, 'caller' | 'target' | 'response'> {
  const out: Pick<EventFacts, 'caller' | 'target' | 'response'> = {};
  if (caller) out.caller = { kind: caller.kind, ...(caller.subject ? { subject: caller.subject } : {}), ...(caller.client ? { client: caller.client } : {}), ...(caller.fhirUser ? { fhirUser: caller.fhirUser } : {}) };
  if (target) out.target = { code: target.code };
  if (response) {
    const r: ResponseFacts = { status: response.status };
    const body = response.body;
    if (response.status >= 400 && body && 'resource' in body) {
      const text = (body.resource as { issue?: Array<{ diagnostics?: string }> }).issue?.map((i) => i.diagnostics).filter(Boolean).join('; ');
      if (text) r.text = text.slice(0, 1000);
    }
    if (body && 'bundle' in body) r.bundleType = body.bundle.type;
    out.response = r;
  }
  return out;
}

/** The records of the events of `facts` (fhir/audit-event.ts), once the store has said whose data they touched. */
export async function buildRecords(facts: readonly EventFacts[], lookup: PatientLookup): Promise<EventRecord[]> {
  const keys = [...new Set(facts.flatMap((f) => f.touched.map((t) => t.key)))];
  const whose = keys.length ? await lookup(keys) : new Map();
  return facts.map((f) => eventRecord(timeOrderedId(), f, whose));
}
