import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../fhir/outcome.js';
import type { BundleData } from './bundle.js';
import type { Interaction, OperationDef, OperationDefinitionSpec, Resource } from './types.js';

/**
 * The OperationDefinitions of the operations the server supports, from the operation
 * registry (never from the store): read by id at `[base]/OperationDefinition/{id}` and
 * listed by a search at `[base]/OperationDefinition` (by `_id`, `url`, `name` or `code`).
 * Their URLs name the base that serves them. https://hl7.org/fhir/STU3/operationdefinition.html
 */

export function definitionUrl(spec: OperationDefinitionSpec, baseUrl: string): string {
  return `${baseUrl}/OperationDefinition/${spec.id}`;
}

/** The OperationDefinition as a base serves it, with its URL on that base. */
export function definitionFor(spec: OperationDefinitionSpec, baseUrl: string): Resource {
  const { resourceType, id, ...rest } = spec.resource;
  return { resourceType: resourceType as string, id, url: definitionUrl(spec, baseUrl), ...rest } as Resource;
}

function specs(ops: readonly OperationDef[]): OperationDefinitionSpec[] {
  return ops.flatMap((op) => (op.definition ? [op.definition] : []));
}

export const readOperationDefinition: Interaction = async (req, ctx) => {
  const spec = specs(ctx.operations.all()).find((s) => s.id === req.id);
  if (!spec) throw notFound(`OperationDefinition/${req.id ?? ''} is not known: this server defines ${specs(ctx.operations.all()).map((s) => s.id).join(', ')}`);
  return { status: 200, body: { resource: definitionFor(spec, ctx.config.baseUrl) } };
};

const FILTERS = ['_id', 'url', 'name', 'code'];
const IGNORED = new Set(['_format', '_pretty', '_count', '_summary']);

export const searchOperationDefinitions: Interaction = async (req, ctx) => {
  let list = specs(ctx.operations.all()).map((s) => definitionFor(s, ctx.config.baseUrl));
  for (const [k, v] of req.query) {
    if (IGNORED.has(k)) continue;
    if (!FILTERS.includes(k)) throw badRequest(`OperationDefinitions are searched here by ${FILTERS.join(', ')} only, not '${k.slice(0, 100)}'`, k, 'not-supported');
    const values = v.split(',');
    const field = k === '_id' ? 'id' : k;
    list = list.filter((r) => values.some((x) => (field === 'name' ? String(r[field]).toLowerCase().startsWith(x.toLowerCase()) : r[field] === x)));
  }
  const bundle: BundleData = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date(ctx.clock()).toISOString() },
    type: 'searchset',
    total: list.length,
    link: [{ relation: 'self', url: `${ctx.config.baseUrl}/OperationDefinition${req.query.length ? `?${req.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : ''}` }],
    ...(list.length ? { entry: list.map((resource) => ({ fullUrl: `${ctx.config.baseUrl}/OperationDefinition/${String(resource.id)}`, resource, search: { mode: 'match' as const } })) } : {}),
  };
  return { status: 200, body: { bundle } };
};
