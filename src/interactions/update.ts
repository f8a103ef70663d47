import { randomUUID } from 'node:crypto';
import { badRequest, preconditionFailed } from '../fhir/outcome.js';
import type { StoreTx } from '../store/store.js';
import { requireBody, requireId, requireType } from './checks.js';
import { conditionalMatches } from './conditional.js';
import { writeResponse } from './respond.js';
import { askTerminologyAhead } from './validate-write.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext } from './types.js';

/**
 * update (create-by-update when the id is new), with If-Match for optimistic
 * locking, and conditional update by search criteria.
 * https://hl7.org/fhir/STU3/http.html#update
 */
export async function updateIn(tx: StoreTx, req: FhirRequest, ctx: RequestContext): Promise<FhirResponse> {
  const type = requireType(req);
  const { body, warnings } = await requireBody(req, type, ctx);
  let id: string;
  if (req.id !== undefined) {
    id = requireId(req.id);
    if (body.id === undefined) throw badRequest(`The ${type} in the body has no id; an update needs id '${id}'`, `${type}.id`, 'required');
    if (body.id !== id) throw badRequest(`The id in the body ('${String(body.id)}') differs from the id in the URL ('${id}')`, `${type}.id`);
  } else {
    const matches = await conditionalMatches(tx, type, req.query, ctx);
    if (matches.length > 1) throw preconditionFailed(`The conditional update matched more than one ${type}`);
    if (matches.length === 1) {
      id = matches[0]!.id;
      if (body.id !== undefined && body.id !== id) throw badRequest(`The id in the body ('${String(body.id)}') is not that of the matching resource ('${id}')`, `${type}.id`);
    } else {
      id = body.id !== undefined ? requireId(String(body.id)) : randomUUID();
    }
  }
  const op = req.preconditions.ifMatch !== undefined ? { ifMatch: req.preconditions.ifMatch } : {};
  const result = await tx.write({ type, id, resource: body, ...op });
  const created = result.kind === 'created';
  return writeResponse(req, ctx.config.baseUrl, created ? 201 : 200, result.version, `${created ? 'Created' : 'Updated'} ${type}/${id}`, warnings);
}

export const update: Interaction = async (req, ctx) => {
  await askTerminologyAhead([req.body], ctx);
  return ctx.data.transaction((tx) => updateIn(tx, req, ctx));
};
