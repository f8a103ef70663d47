import { methodNotAllowed, notFound } from '../fhir/outcome.js';
import { type Access, EVERYTHING } from '../search/access.js';
import type { Caller, FhirRequest, Incoming } from '../interactions/types.js';
import type { Target } from './route.js';

/**
 * How a base decides who is asking and what they may do: the identify and authorise
 * steps of the pipeline (dispatch.ts). The open base allows everything; the secure
 * base identifies callers by their bearer tokens and authorises by their scopes.
 */
export interface Policy {
  /** Who sent the request, at once when no work need be awaited. Throws (or rejects with) a 401 FhirError when the request's credentials are missing or bad. */
  identify(incoming: Incoming): Caller | Promise<Caller>;
  /** Throws a 403 FhirError when the caller may not do what the target does. */
  authorise(caller: Caller, target: Target, req: FhirRequest): void;
  /**
   * Whose allowance the rate limit counts a request with this `Authorization` header against:
   * the client and the user its bearer token was issued to, once the token's signature and
   * claims verify, as one key; undefined (the request's address) for anything else. Never throws.
   */
  rateKeyOf?(authorization: string): string | undefined | Promise<string | undefined>;
  /** Resource types the base does not serve at all: every request naming one is a 404, and searches never see them. */
  unserved?: readonly string[];
}

/** What the open base serves: everything but the audit trail, which only the secure base serves (docs/audit.md). */
export const OPEN_ACCESS: Access = Object.freeze({ default: 'all', types: Object.freeze({ AuditEvent: 'none' }), patients: Object.freeze([]) as readonly string[] });
const OPEN_UNSERVED: readonly string[] = Object.freeze(['AuditEvent']);

/**
 * Everyone sees everything: the commands on the operator's own store (`system`), and the
 * open base (`anonymous`), which sees everything but the audit trail. Read-only (a public
 * demo server), every write is a 405 that points to the secure base.
 */
export function openPolicy(kind: Caller['kind'] = 'anonymous', options: { readOnly?: { secureBase: string } } = {}): Policy {
  const readOnly = options.readOnly;
  const access = kind === 'system' ? EVERYTHING : OPEN_ACCESS;
  const unserved = kind === 'system' ? [] : OPEN_UNSERVED;
  return {
    identify: (incoming) => ({ kind, access, ...(incoming.address ? { address: incoming.address } : {}) }),
    authorise: (_caller, target) => {
      const type = target.fields.type;
      if (type && unserved.includes(type)) throw notFound(`${type} is not served on this base: the audit trail is searchable on the secure base, with a token that allows it`);
      if (readOnly && target.writes) throw methodNotAllowed(`This base is read-only: writes need the secure base, ${readOnly.secureBase}, and a token that allows them`);
    },
    ...(unserved.length ? { unserved } : {}),
  };
}
