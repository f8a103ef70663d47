import { methodNotAllowed, notFound } from '../fhir/outcome.js';
import { capabilities } from '../interactions/capabilities.js';
import { create } from '../interactions/create.js';
import { del } from '../interactions/delete.js';
import { history } from '../interactions/history.js';
import { readOperationDefinition, searchOperationDefinitions } from '../interactions/operation-definitions.js';
import { read, vread } from '../interactions/read.js';
import { search } from '../interactions/search.js';
import { smartConfiguration } from '../interactions/smart-configuration.js';
import { transaction } from '../interactions/transaction.js';
import type { FhirRequest, Interaction, Method, OperationDef, OperationRegistry } from '../interactions/types.js';
import { update } from '../interactions/update.js';
import { READ_ONLY_TYPES, readOnlyReason } from '../profiles/read-only.js';

/**
 * The restful interaction codes of STU3 (http://hl7.org/fhir/restful-interaction), and
 * `capabilities` and `search-compartment`, which are searches and reads of their own.
 */
export type InteractionCode =
  | 'read' | 'vread' | 'update' | 'delete' | 'create' | 'history-instance' | 'history-type' | 'history-system'
  | 'search-type' | 'search-system' | 'search-compartment' | 'capabilities' | 'transaction' | 'operation';

/** Where a request goes: the interaction, what kind it is, and what the URL says of the request. */
export interface Target {
  interaction: Interaction;
  code: InteractionCode;
  fields: Pick<FhirRequest, 'type' | 'id' | 'version' | 'compartment'>;
  /** The operation, when the target is one. */
  operation?: OperationDef;
  /** Whether the target changes data (authorisation needs a scope to write). */
  writes: boolean;
}

const METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'DELETE'];
const WRITES: ReadonlySet<InteractionCode> = new Set(['create', 'update', 'delete']);

function isType(segment: string): boolean {
  return /^[A-Z][A-Za-z]+$/.test(segment);
}

/**
 * Maps a method and the path below the base to a target. Every request passes here
 * (HTTP, bundle entries, in-process callers), with the one operation registry, so they
 * cannot disagree. https://hl7.org/fhir/STU3/http.html
 */
export function route(verb: string, segments: readonly string[], operations: OperationRegistry): Target {
  if (verb === 'PATCH') throw methodNotAllowed('PATCH is not part of FHIR STU3; use PUT to update');
  if (!METHODS.includes(verb)) throw methodNotAllowed(`${verb} is not a method of the FHIR RESTful API`);
  const method = verb as Method;
  const s = segments;
  const r = (interaction: Interaction, code: InteractionCode, fields: Target['fields'] = {}): Target => ({ interaction, code, fields, writes: WRITES.has(code) });
  const op = (name: string, level: 'system' | 'type' | 'instance', fields: Target['fields']): Target => {
    const def = operations.find(name, level, fields.type);
    if (!def) {
      const same = operations.named(name);
      if (!same.length) throw notFound(`Unknown operation ${name}`);
      const where = same.map((d) => `${d.levels.join('/')} level${d.types ? ` on ${d.types.join(', ')}` : ''}`).join('; ');
      throw notFound(`The operation ${name} is not available ${fields.type ? `on ${fields.type} ` : ''}at ${level} level (it is: ${where})`);
    }
    if (!def.methods.includes(method)) throw methodNotAllowed(`${name} does not allow ${method}`);
    return { interaction: def.interaction, code: 'operation', fields, operation: def, writes: def.affectsState };
  };
  const allow = (name: string, ...methods: Method[]) => {
    if (!methods.includes(method)) throw methodNotAllowed(`${method} is not allowed on ${name}`);
  };
  // Every create, update and delete (conditional, or in a Bundle) passes here: the conformance types and AuditEvent are read-only.
  const write = (interaction: Interaction, code: InteractionCode, fields: Target['fields'] & { type: string }): Target => {
    if (READ_ONLY_TYPES.has(fields.type)) throw methodNotAllowed(`${fields.type} resources are read-only on this server (${code} is not allowed): ${readOnlyReason(fields.type)}`);
    return r(interaction, code, fields);
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
    if (a === 'OperationDefinition' && method === 'GET') return r(searchOperationDefinitions, 'search-type', { type: a });
    if (method === 'GET') return r(search, 'search-type', { type: a });
    if (method === 'POST') return write(create, 'create', { type: a });
    if (method === 'PUT') return write(update, 'update', { type: a });
    return write(del, 'delete', { type: a });
  }
  if (s.length === 2 && a === '.well-known' && b === 'smart-configuration') return allow('the SMART configuration', 'GET'), r(smartConfiguration, 'capabilities');
  if (!isType(a)) throw notFound(`Unknown path /${s.join('/')}`);
  if (s.length === 2) {
    if (b === '_search') return allow(`${a}/_search`, 'GET', 'POST'), r(a === 'OperationDefinition' ? searchOperationDefinitions : search, 'search-type', { type: a });
    if (b === '_history') return allow(`${a}/_history`, 'GET'), r(history, 'history-type', { type: a });
    if (b!.startsWith('$')) return op(b!, 'type', { type: a });
    if (a === 'OperationDefinition' && method === 'GET') return r(readOperationDefinition, 'read', { type: a, id: b! });
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

