import { methodNotAllowed } from '../fhir/outcome.js';
import { EVERYTHING } from '../search/access.js';
import type { Caller, FhirRequest, Incoming } from '../interactions/types.js';
import type { Target } from './route.js';

/**
 * How a base decides who is asking and what they may do: the identify and authorise
 * steps of the pipeline (dispatch.ts). The open base allows everything; the secure
 * base identifies callers by their bearer tokens and authorises by their scopes.
 */
export interface Policy {
  /** Who sent the request. Throws a 401 FhirError when the request's credentials are missing or bad. */
  identify(incoming: Incoming): Promise<Caller>;
  /** Throws a 403 FhirError when the caller may not do what the target does. */
  authorise(caller: Caller, target: Target, req: FhirRequest): void;
}

/**
 * Everyone sees everything: the open base, and the commands on the operator's own store.
 * Read-only (a public demo server), every write is a 405 that points to the secure base.
 */
export function openPolicy(kind: Caller['kind'] = 'anonymous', options: { readOnly?: { secureBase: string } } = {}): Policy {
  const readOnly = options.readOnly;
  return {
    identify: async (incoming) => ({ kind, access: EVERYTHING, ...(incoming.address ? { address: incoming.address } : {}) }),
    authorise: (_caller, target) => {
      if (readOnly && target.writes) throw methodNotAllowed(`This base is read-only: writes need the secure base, ${readOnly.secureBase}, and a token that allows them`);
    },
  };
}
