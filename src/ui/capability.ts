import type { FhirResponse, Incoming } from '../interactions/types.js';

/**
 * The CapabilityStatement as `GET [base]/metadata` answers it: the same request,
 * dispatched in process through the base's pipeline (so it is authorised and
 * recorded like any other), for the OpenAPI document.
 */
export async function servedCapabilityStatement(dispatch: (incoming: Incoming) => Promise<FhirResponse>): Promise<Record<string, unknown>> {
  const res = await dispatch({ method: 'GET', path: ['metadata'], query: [], preconditions: {}, prefer: {} });
  const body = res.body;
  if (res.status !== 200 || !body) throw new Error(`GET metadata answered ${res.status}`);
  if ('json' in body) return JSON.parse(body.json) as Record<string, unknown>;
  if ('resource' in body) return body.resource as unknown as Record<string, unknown>;
  throw new Error('GET metadata answered with a Bundle');
}
