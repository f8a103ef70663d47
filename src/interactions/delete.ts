import { allOk, preconditionFailed } from '../fhir/outcome.js';
import type { StoreTx } from '../store/store.js';
import { etagOf } from './bundle.js';
import { requireId, requireType } from './checks.js';
import { conditionalMatches } from './conditional.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext } from './types.js';

/**
 * delete, and conditional delete (one match; several is a 412). Deleting what is
 * absent or already deleted succeeds and changes nothing.
 * https://hl7.org/fhir/STU3/http.html#delete
 */
export async function deleteIn(tx: StoreTx, req: FhirRequest, ctx: RequestContext): Promise<FhirResponse> {
  const type = requireType(req);
  let id: string | undefined;
  if (req.id !== undefined) {
    id = requireId(req.id);
  } else {
    const matches = await conditionalMatches(tx, type, req.query, ctx);
    if (matches.length > 1) throw preconditionFailed(`The conditional delete matched more than one ${type}`);
    id = matches[0]?.id;
  }
  if (id === undefined) return outcome(req, 'Nothing matched; nothing was deleted');
  const op = req.preconditions.ifMatch !== undefined ? { ifMatch: req.preconditions.ifMatch } : {};
  const result = await tx.write({ type, id, resource: null, ...op });
  const res = outcome(req, result.kind === 'deleted' ? `Deleted ${type}/${id}` : `${type}/${id} was not present; nothing changed`);
  if (result.kind === 'deleted') res.etag = etagOf(result.version.version);
  return res;
}

function outcome(req: FhirRequest, message: string): FhirResponse {
  if (req.prefer.return === 'OperationOutcome') return { status: 200, body: { resource: allOk(message) as never } };
  return { status: 204 };
}

export const del: Interaction = (req, ctx) => ctx.data.transaction((tx) => deleteIn(tx, req, ctx));
