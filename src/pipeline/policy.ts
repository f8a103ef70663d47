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

/** Everyone may do everything, and sees everything: the open base, and the commands on the operator's own store. */
export function openPolicy(kind: Caller['kind'] = 'anonymous'): Policy {
  return {
    identify: async (incoming) => ({ kind, access: EVERYTHING, ...(incoming.address ? { address: incoming.address } : {}) }),
    authorise: () => undefined,
  };
}
