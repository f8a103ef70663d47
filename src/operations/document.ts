import { randomUUID } from 'node:crypto';
import { parseJson } from '../fhir/json.js';
import { badRequest, gone, notFound } from '../fhir/outcome.js';
import { type BundleData, type BundleEntry, fullUrl, RawResource } from '../interactions/bundle.js';
import { requireId } from '../interactions/checks.js';
import type { Interaction, RequestContext } from '../interactions/types.js';
import { parseReference } from '../search/references.js';
import type { StoredVersion } from '../store/store.js';
import { operationDefinition } from './definition.js';
import { booleanParam, operationParams } from './params.js';

/**
 * `Composition/{id}/$document` (https://hl7.org/fhir/STU3/composition-operations.html#document):
 * a document Bundle of the Composition first, then every resource it refers to (subject,
 * author, attester, custodian, encounter, section entries…) and those they refer to in
 * turn, up to MAX_DEPTH references away and MAX_RESOURCES in all. References to what the
 * caller cannot see, or that the server does not hold, are left out (a document Bundle has
 * no place for an OperationOutcome); the Composition itself must be visible (404 otherwise).
 */

const MAX_DEPTH = 3;
const MAX_RESOURCES = 1000;

export const DEFINITION = operationDefinition({
  id: 'Composition-document',
  code: 'document',
  title: 'Generate a document',
  description: 'A document Bundle: the Composition and every resource it refers to, directly or through those, that the caller may see.',
  resource: ['Composition'],
  system: false,
  type: false,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Composition-document',
  parameter: [
    { name: 'persist', use: 'in', min: 0, max: '1', type: 'boolean', documentation: 'Only false (the default) is supported: the document is not stored' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle', documentation: 'The document Bundle' },
  ],
});

export const document: Interaction = async (req, ctx) => {
  const params = operationParams(req, '$document');
  for (const name of params.names()) if (!['persist', '_format', '_pretty'].includes(name)) throw badRequest(`$document has no parameter '${name.slice(0, 100)}'`, name, 'not-supported');
  if (booleanParam(params, 'persist', '$document')) throw badRequest('$document with persist=true is not supported: this server does not keep documents it generates', 'persist', 'not-supported');
  const id = requireId(req.id);
  const composition = await ctx.data.read('Composition', id);
  if (!composition) throw notFound(`Composition/${id} is not known`);
  if (composition.deleted || composition.json === null) throw gone(`Composition/${id} was deleted`);

  const resources = await gather(ctx, composition);
  const now = new Date(ctx.clock()).toISOString();
  const entries: BundleEntry[] = resources.map((v) => ({ fullUrl: fullUrl(ctx.config.baseUrl, v.type, v.id), resource: new RawResource(v.json!) }));
  const bundle: BundleData & { identifier: unknown } = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: now },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    type: 'document',
    entry: entries,
  };
  return { status: 200, body: { bundle } };
};

/** The Composition and what it refers to, breadth first, each once, as the caller may see it. */
async function gather(ctx: RequestContext, composition: StoredVersion): Promise<StoredVersion[]> {
  const out = [composition];
  const seen = new Set([`Composition/${composition.id}`]);
  let frontier = [composition];
  for (let depth = 0; depth < MAX_DEPTH && frontier.length && out.length < MAX_RESOURCES; depth++) {
    const wanted = new Map<string, Set<string>>();
    for (const v of frontier) {
      for (const ref of references(parseJson(v.json!), ctx.config.baseUrl)) {
        const key = `${ref.type}/${ref.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (!wanted.has(ref.type)) wanted.set(ref.type, new Set());
        wanted.get(ref.type)!.add(ref.id);
      }
    }
    const fresh: StoredVersion[] = [];
    for (const [type, ids] of wanted) {
      const list = [...ids].slice(0, MAX_RESOURCES - out.length - fresh.length);
      if (!list.length) break;
      const page = await ctx.data.search({ types: [type], where: [{ kind: 'id', values: list }], sort: [], count: list.length, offset: 0, total: false });
      fresh.push(...page.rows.filter((v) => v.json));
    }
    out.push(...fresh);
    frontier = fresh;
  }
  return out;
}

/** The local references in a resource (contained resources' included). */
function references(node: unknown, baseUrl: string, out: Array<{ type: string; id: string }> = []): Array<{ type: string; id: string }> {
  if (Array.isArray(node)) {
    for (const x of node) references(x, baseUrl, out);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'reference' && typeof v === 'string') {
        const ref = parseReference(v, baseUrl);
        if (ref.type && ref.id) out.push({ type: ref.type, id: ref.id });
      } else if (v && typeof v === 'object') references(v, baseUrl, out);
    }
  }
  return out;
}
