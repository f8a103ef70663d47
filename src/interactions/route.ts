import { methodNotAllowed, notFound } from '../fhir/outcome.js';
import { READ_ONLY_TYPES } from '../profiles/read-only.js';
import { capabilities } from './capabilities.js';
import { create } from './create.js';
import { del } from './delete.js';
import { history } from './history.js';
import { read, vread } from './read.js';
import { search } from './search.js';
import { transaction } from './transaction.js';
import type { FhirRequest, Interaction } from './types.js';
import { update } from './update.js';

/** A route: the interaction, and what the URL says of the request. */
export interface Route {
  interaction: Interaction;
  name: string;
  fields: Pick<FhirRequest, 'type' | 'id' | 'version' | 'compartment'>;
}

type Method = FhirRequest['method'];

/** Operations (`$validate`, `$everything`…) register here; see src/operations. */
export type OperationTable = Map<string, { interaction: Interaction; levels: Array<'system' | 'type' | 'instance'>; methods: Method[] }>;

function isType(segment: string): boolean {
  return /^[A-Z][A-Za-z]+$/.test(segment);
}

/**
 * Maps a method and the path below the base to an interaction. The HTTP layer and
 * the transaction processor both route through here, so the two cannot disagree.
 * https://hl7.org/fhir/STU3/http.html
 */
export function route(method: Method, segments: string[], operations: OperationTable = new Map()): Route {
  const s = segments;
  const r = (interaction: Interaction, name: string, fields: Route['fields'] = {}): Route => ({ interaction, name, fields });
  const op = (name: string, level: 'system' | 'type' | 'instance', fields: Route['fields']): Route => {
    const def = operations.get(name);
    if (!def || !def.levels.includes(level)) throw notFound(`Unknown operation ${name} at ${level} level`);
    if (!def.methods.includes(method)) throw methodNotAllowed(`${name} does not allow ${method}`);
    return r(def.interaction, 'operation', fields);
  };
  const allow = (name: string, ...methods: Method[]) => {
    if (!methods.includes(method)) throw methodNotAllowed(`${method} is not allowed on ${name}`);
  };
  // Every create, update and delete (conditional, or in a Bundle) passes here: the conformance types are read-only.
  const write = (interaction: Interaction, name: string, fields: Route['fields'] & { type: string }): Route => {
    if (READ_ONLY_TYPES.has(fields.type)) throw methodNotAllowed(`${fields.type} resources are read-only on this server (${name} is not allowed): they are the Care Connect conformance resources it was built with`);
    return r(interaction, name, fields);
  };

  if (s.length === 0) {
    if (method === 'POST') return r(transaction, 'transaction');
    allow('the base', 'GET');
    return r(search, 'search-system');
  }
  const [a, b, c, d] = s as [string, string?, string?, string?];
  if (s.length === 1) {
    if (a === 'metadata') return allow('metadata', 'GET'), r(capabilities, 'capabilities');
    if (a === '_history') return allow('_history', 'GET'), r(history, 'history-system');
    if (a === '_search') return allow('_search', 'GET', 'POST'), r(search, 'search-system');
    if (a.startsWith('$')) return op(a, 'system', {});
    if (!isType(a)) throw notFound(`Unknown path /${a}`);
    if (method === 'GET') return r(search, 'search-type', { type: a });
    if (method === 'POST') return write(create, 'create', { type: a });
    if (method === 'PUT') return write(update, 'update', { type: a });
    return write(del, 'delete', { type: a });
  }
  if (!isType(a)) throw notFound(`Unknown path /${s.join('/')}`);
  if (s.length === 2) {
    if (b === '_search') return allow(`${a}/_search`, 'GET', 'POST'), r(search, 'search-type', { type: a });
    if (b === '_history') return allow(`${a}/_history`, 'GET'), r(history, 'history-type', { type: a });
    if (b!.startsWith('$')) return op(b!, 'type', { type: a });
    if (method === 'GET') return r(read, 'read', { type: a, id: b! });
    if (method === 'PUT') return write(update, 'update', { type: a, id: b! });
    if (method === 'DELETE') return write(del, 'delete', { type: a, id: b! });
    throw methodNotAllowed(`POST is not allowed on ${a}/${b}; use PUT to update`);
  }
  if (s.length === 3) {
    if (c === '_history') return allow(`${a}/${b}/_history`, 'GET'), r(history, 'history-instance', { type: a, id: b! });
    if (c!.startsWith('$')) return op(c!, 'instance', { type: a, id: b! });
    if (c === '*' || isType(c!)) return allow('a compartment', 'GET'), r(search, 'search-compartment', { type: c!, compartment: { type: a, id: b! } });
  }
  if (s.length === 4 && c === '_history') return allow('a version', 'GET'), r(vread, 'vread', { type: a, id: b!, version: d! });
  throw notFound(`Unknown path /${s.join('/')}`);
}

