import { randomUUID } from 'node:crypto';
import { preconditionFailed } from '../fhir/outcome.js';
import type { StoreTx } from '../store/store.js';
import { requireBody, requireType } from './checks.js';
import { conditionalMatches, parseQueryString } from './conditional.js';
import { writeResponse } from './respond.js';
import { askTerminologyAhead } from './validate-write.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext } from './types.js';

/**
 * create, and conditional create with If-None-Exist: no match creates, one match
 * answers 200 with it and creates nothing, several is a 412.
 * https://hl7.org/fhir/STU3/http.html#create
 */
export async function createIn(tx: StoreTx, req: FhirRequest, ctx: RequestContext, id: string = randomUUID()): Promise<FhirResponse> {
  const type = requireType(req);
  const { body, warnings } = await requireBody(req, type, ctx);
  if (req.preconditions.ifNoneExist !== undefined) {
    const matches = await conditionalMatches(tx, type, parseQueryString(req.preconditions.ifNoneExist), ctx);
    if (matches.length > 1) throw preconditionFailed(`If-None-Exist matched more than one ${type}`);
    if (matches.length === 1) return writeResponse(req, ctx.config.baseUrl, 200, matches[0]!, `${type}/${matches[0]!.id} already exists; nothing was created`, warnings);
  }
  // The server chooses the id of a created resource; any id in the body is ignored.
  const result = await tx.write({ type, id, resource: body, mustNotExist: true, newId: true });
  return writeResponse(req, ctx.config.baseUrl, 201, result.version, `Created ${type}/${id}`, warnings);
}

export const create: Interaction = async (req, ctx) => {
  await askTerminologyAhead([req.body], ctx);
  return ctx.data.transaction((tx) => createIn(tx, req, ctx));
};
