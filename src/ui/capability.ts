import { capabilities } from '../interactions/capabilities.js';
import type { RequestContext } from '../interactions/types.js';

/**
 * The CapabilityStatement exactly as `GET [base]/metadata` serves it (the same
 * interaction, without the HTTP round trip), for the OpenAPI document.
 */
export async function servedCapabilityStatement(ctx: RequestContext): Promise<Record<string, unknown>> {
  const res = await capabilities({ method: 'GET', query: [], preconditions: {}, prefer: {} }, ctx);
  const body = res.body;
  if (!body || !('json' in body)) throw new Error('The capabilities interaction returned no JSON');
  return JSON.parse(body.json) as Record<string, unknown>;
}
