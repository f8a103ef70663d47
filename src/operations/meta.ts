import { parseJson } from '../fhir/json.js';
import { badRequest, gone, methodNotAllowed, notFound } from '../fhir/outcome.js';
import { requireBody, requireId, requireType } from '../interactions/checks.js';
import type { FhirResponse, Interaction, RequestContext, Resource } from '../interactions/types.js';
import { READ_ONLY_TYPES } from '../profiles/read-only.js';
import type { Condition } from '../search/plan.js';
import { operationDefinition } from './definition.js';
import { operationParams } from './params.js';

/**
 * `$meta`, `$meta-add` and `$meta-delete` (https://hl7.org/fhir/STU3/resource-operations.html#meta).
 *
 * `$meta` at instance level answers the resource's profiles, tags and security labels; at
 * type and system level, those in use on any current resource of the type (or of any type)
 * the caller may see. `$meta-add` and `$meta-delete` change a resource's; where STU3 says
 * such a change need not make a version, here it makes one (the store keeps every version
 * as served), and only when something changed.
 */

interface Coding {
  system?: string;
  version?: string;
  code?: string;
  display?: string;
  userSelected?: boolean;
}

interface Meta {
  profile?: string[];
  security?: Coding[];
  tag?: Coding[];
}

const param = (name: string, documentation: string) => ({ name, use: 'in' as const, min: 1, max: '1', type: 'Meta', documentation });
const out = { name: 'return', use: 'out' as const, min: 1, max: '1', type: 'Meta', documentation: 'The profiles, tags and security labels' };

export const META_DEFINITION = operationDefinition({
  id: 'Resource-meta',
  code: 'meta',
  title: 'Profiles, tags and security labels in use',
  description: 'At instance level the meta of the resource; at type or system level every profile, tag and security label in use on a current resource the caller may see.',
  system: true,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-meta',
  parameter: [out],
});
export const META_ADD_DEFINITION = operationDefinition({
  id: 'Resource-meta-add',
  code: 'meta-add',
  title: 'Add profiles, tags and security labels',
  description: "Adds the profiles, tags and security labels of the meta given to the resource's (a new version when anything was added).",
  system: false,
  type: false,
  instance: true,
  affectsState: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-meta-add',
  parameter: [param('meta', 'What to add'), { ...out, documentation: 'The meta of the resource afterwards' }],
});
export const META_DELETE_DEFINITION = operationDefinition({
  id: 'Resource-meta-delete',
  code: 'meta-delete',
  title: 'Remove profiles, tags and security labels',
  description: "Removes the profiles (by URL), tags and security labels (by system and code) of the meta given from the resource's (a new version when anything was removed).",
  system: false,
  type: false,
  instance: true,
  affectsState: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-meta-delete',
  parameter: [param('meta', 'What to remove'), { ...out, documentation: 'The meta of the resource afterwards' }],
});

export const meta: Interaction = async (req, ctx) => {
  noParameters(req.query, '$meta');
  if (req.id !== undefined) {
    const type = requireType(req);
    const resource = await current(ctx, type, requireId(req.id));
    return answer(summary((resource.meta ?? {}) as Meta));
  }
  const types = req.type !== undefined ? [requireType(req)] : ctx.registry.types();
  return answer(await inUse(ctx, types));
};

export const metaAdd: Interaction = (req, ctx) => change(req, ctx, '$meta-add', (have, given) => {
  const profile = [...(have.profile ?? [])];
  for (const p of given.profile ?? []) if (!profile.includes(p)) profile.push(p);
  const add = (list: Coding[] | undefined, more: Coding[] | undefined) => {
    const out = [...(list ?? [])];
    for (const c of more ?? []) if (!out.some((x) => same(x, c))) out.push(c);
    return out;
  };
  return { profile, security: add(have.security, given.security), tag: add(have.tag, given.tag) };
});

export const metaDelete: Interaction = (req, ctx) => change(req, ctx, '$meta-delete', (have, given) => ({
  profile: (have.profile ?? []).filter((p) => !(given.profile ?? []).includes(p)),
  security: (have.security ?? []).filter((c) => !(given.security ?? []).some((x) => same(x, c))),
  tag: (have.tag ?? []).filter((c) => !(given.tag ?? []).some((x) => same(x, c))),
}));

async function change(req: Parameters<Interaction>[0], ctx: RequestContext, name: string, apply: (have: Meta, given: Meta) => Meta): Promise<FhirResponse> {
  const type = requireType(req);
  const id = requireId(req.id);
  if (READ_ONLY_TYPES.has(type)) throw methodNotAllowed(`${type} resources are read-only on this server, so ${name} cannot change them`);
  const params = operationParams(req, name);
  if (req.body === undefined) throw badRequest(`${name} needs a Parameters body with a 'meta' parameter (valueMeta)`, undefined, 'required');
  const parts = params.parts('meta');
  if (parts.length !== 1 || !parts[0]!.valueMeta || typeof parts[0]!.valueMeta !== 'object') throw badRequest(`${name} needs exactly one 'meta' parameter holding a valueMeta`, 'Parameters.parameter', 'required');
  const given = checkMeta(parts[0]!.valueMeta as Record<string, unknown>, name);
  return ctx.data.transaction(async (tx) => {
    const v = await tx.read(type, id);
    if (!v) throw notFound(`${type}/${id} is not known`);
    if (v.deleted || v.json === null) throw gone(`${type}/${id} was deleted`);
    const resource = parseJson(v.json) as Resource;
    const have = (resource.meta ?? {}) as Meta & Record<string, unknown>;
    const next = apply(have, given);
    if (sameMeta(have, next)) return answer(summary(have));
    const { profile, security, tag, ...rest } = have;
    void profile, void security, void tag;
    const meta: Record<string, unknown> = { ...rest };
    if (next.profile?.length) meta.profile = next.profile;
    if (next.security?.length) meta.security = next.security;
    if (next.tag?.length) meta.tag = next.tag;
    const updated: Resource = { ...resource, meta };
    // Checked as an update would be: claiming a profile the resource does not meet is refused.
    const { body } = await requireBody({ method: 'PUT', type, id, query: [], body: updated, preconditions: {}, prefer: {} }, type, ctx);
    const result = await tx.write({ type, id, resource: body, ifMatch: v.version });
    return answer(summary(((parseJson(result.version.json!) as Resource).meta ?? {}) as Meta));
  });
}

/** Every profile, tag and security label on a current resource of `types`, paged through the caller's reader. */
async function inUse(ctx: RequestContext, types: string[]): Promise<Meta> {
  const profile = new Set<string>();
  const tag: Coding[] = [];
  const security: Coding[] = [];
  const any: Condition[] = ['_profile', '_tag', '_security']
    .filter((code) => types.some((t) => ctx.registry.param(t, code)))
    .map((code) => ({ kind: 'missing', param: code, table: code === '_profile' ? 'uri' : 'token', missing: false }));
  const where: Condition[] = any.length ? [{ kind: 'or', any }] : [];
  let after: number | undefined;
  for (;;) {
    const page = await ctx.data.search({ types, where, sort: [], count: 1000, offset: 0, total: false, ...(after !== undefined ? { after } : {}) });
    for (const v of page.rows) {
      if (!v.json) continue;
      const m = (parseJson(v.json) as Resource).meta as Meta | undefined;
      for (const p of m?.profile ?? []) profile.add(p);
      for (const c of m?.tag ?? []) if (!tag.some((x) => same(x, c))) tag.push(c);
      for (const c of m?.security ?? []) if (!security.some((x) => same(x, c))) security.push(c);
    }
    if (!page.more || page.lastRid === undefined) break;
    after = page.lastRid;
  }
  return { ...(profile.size ? { profile: [...profile].sort() } : {}), ...(security.length ? { security } : {}), ...(tag.length ? { tag } : {}) };
}

function same(a: Coding, b: Coding): boolean {
  return (a.system ?? '') === (b.system ?? '') && a.code === b.code;
}

function sameMeta(a: Meta, b: Meta): boolean {
  const n = (m: Meta) => JSON.stringify([m.profile ?? [], (m.security ?? []).map((c) => [c.system, c.code]), (m.tag ?? []).map((c) => [c.system, c.code])]);
  return n(a) === n(b);
}

/** The parts of a meta these operations are about. */
function summary(m: Meta): Meta {
  return { ...(m.profile?.length ? { profile: m.profile } : {}), ...(m.security?.length ? { security: m.security } : {}), ...(m.tag?.length ? { tag: m.tag } : {}) };
}

function checkMeta(raw: Record<string, unknown>, name: string): Meta {
  const out: Meta = {};
  if (raw.profile !== undefined) {
    if (!Array.isArray(raw.profile) || !raw.profile.every((p) => typeof p === 'string' && p.length > 0)) throw badRequest(`${name}: meta.profile must be a list of URLs`, 'meta.profile');
    out.profile = raw.profile as string[];
  }
  for (const key of ['tag', 'security'] as const) {
    const list = raw[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((c) => c && typeof c === 'object' && typeof (c as Coding).code === 'string' && ((c as Coding).system === undefined || typeof (c as Coding).system === 'string'))) {
      throw badRequest(`${name}: meta.${key} must be a list of Codings, each with a code`, `meta.${key}`);
    }
    out[key] = list as Coding[];
  }
  if (!out.profile?.length && !out.tag?.length && !out.security?.length) throw badRequest(`${name}: the meta names no profile, tag or security label`, 'meta');
  return out;
}

async function current(ctx: RequestContext, type: string, id: string): Promise<Resource> {
  const v = await ctx.data.read(type, id);
  if (!v) throw notFound(`${type}/${id} is not known`);
  if (v.deleted || v.json === null) throw gone(`${type}/${id} was deleted`);
  return parseJson(v.json) as Resource;
}

function noParameters(query: Array<[string, string]>, name: string): void {
  const extra = query.find(([k]) => k !== '_format' && k !== '_pretty');
  if (extra) throw badRequest(`${name} takes no parameters, not '${extra[0].slice(0, 100)}'`, extra[0], 'not-supported');
}

function answer(m: Meta): FhirResponse {
  return { status: 200, body: { resource: { resourceType: 'Parameters', parameter: [{ name: 'return', valueMeta: m }] } as Resource } };
}
