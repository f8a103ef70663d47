import { randomUUID } from 'node:crypto';
import { parseJson } from '../fhir/json.js';
import { badRequest, issue, notFound, operationOutcome } from '../fhir/outcome.js';
import { parseSearch, type ParsedSearch } from '../search/parse/query.js';
import type { StoredVersion } from '../store/store.js';
import { type BundleData, type BundleEntry, entryFor, fullUrl } from './bundle.js';
import { requireId, requireType } from './checks.js';
import { type CursorState, queryString, signCursor, verifyCursor } from './cursor.js';
import { resolveIncludes } from './includes.js';
import { subset } from './summary.js';
import { expandTerminology } from '../terminology/search.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext, Resource } from './types.js';

/**
 * search at type level, system level (`GET [base]?…`, `_type`), and in the patient
 * compartment (`GET [base]/Patient/{id}/{type}`), by GET or POST `_search`.
 * https://hl7.org/fhir/STU3/search.html
 */
export const search: Interaction = async (req, ctx) => {
  const { types, path, compartment } = searchScope(req, ctx);
  const parsed = parseSearch(types, req.query, ctx.registry, {
    defaultCount: ctx.config.defaultCount,
    maxCount: ctx.config.maxCount,
    strict: req.prefer.strict ?? ctx.config.searchHandling === 'strict',
    baseUrl: ctx.config.baseUrl,
    now: ctx.clock(),
  });
  if (compartment) parsed.plan.where.unshift({ kind: 'compartment', patient: compartment });
  const scope = `search ${path}`;
  if (parsed.cursor) {
    const state = verifyCursor(ctx, scope, parsed.canonical, parsed.cursor);
    parsed.plan.offset = state.o;
    if (state.a !== undefined && Number.isInteger(state.a)) parsed.plan.after = state.a;
  }
  const countOnly = parsed.summary === 'count';
  const plan = await expandTerminology(parsed.plan, ctx.terminologyServer);
  const page = await ctx.data.search(countOnly ? { ...plan, count: 0 } : plan);
  const { included, cut } = countOnly ? { included: [] } : await resolveIncludes(ctx.data, ctx.registry, page.rows, parsed.includes, parsed.revincludes, ctx.config.baseUrl);
  if (cut) parsed.warnings.push(issue('too-costly', cut, undefined, 'warning'));

  const bundle: BundleData = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date(ctx.clock()).toISOString() },
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    // A count has no pages to go to.
    link: pageLinks(ctx, path, parsed, scope, !countOnly && page.more, page.lastRid),
  };
  if (!countOnly) {
    const entries: BundleEntry[] = [
      ...page.rows.map((v) => entry(ctx, v, 'match', parsed)),
      ...included.map((v) => entry(ctx, v, 'include', parsed)),
    ];
    if (parsed.warnings.length) entries.push({ resource: operationOutcome(parsed.warnings) as unknown as Resource, search: { mode: 'outcome' } });
    if (entries.length) bundle.entry = entries;
  }
  return { status: 200, body: { bundle } } satisfies FhirResponse;
};

/** The types searched, the path the links repeat, and the compartment, if any. */
function searchScope(req: FhirRequest, ctx: RequestContext): { types: string[]; path: string; compartment?: string } {
  if (req.compartment) {
    if (req.compartment.type !== 'Patient') throw notFound(`Compartment ${req.compartment.type} is not supported; only Patient`);
    const patient = requireId(req.compartment.id);
    const all = ctx.registry.types().filter((t) => t === 'Patient' || ctx.registry.compartmentParams(t).length);
    let types: string[];
    if (req.type === undefined || req.type === '*') types = all;
    else {
      types = [requireType(req)];
      if (!all.includes(types[0]!)) throw notFound(`${types[0]} is not in the Patient compartment`);
    }
    return { types, path: `Patient/${patient}/${req.type ?? '*'}`, compartment: patient };
  }
  if (req.type !== undefined) return { types: [requireType(req)], path: req.type };
  const typeParam = req.query.filter(([k]) => k === '_type').flatMap(([, v]) => v.split(','));
  const types = typeParam.length ? typeParam.map((t) => t.trim()) : ctx.registry.types();
  for (const t of types) if (!ctx.registry.types().includes(t)) throw badRequest(`Unknown resource type '${t}' in _type`, '_type');
  return { types, path: '' };
}

function entry(ctx: RequestContext, v: StoredVersion, mode: 'match' | 'include', parsed: ParsedSearch): BundleEntry {
  if ((!parsed.summary || parsed.summary === 'false') && !parsed.elements) return entryFor(ctx.config.baseUrl, v, mode);
  const resource = subset(parseJson(v.json!) as Resource, parsed.summary, parsed.elements);
  return { fullUrl: fullUrl(ctx.config.baseUrl, v.type, v.id), resource, search: { mode } };
}

/**
 * self, first, previous and next. In the default order, `self` and `next` carry the row
 * to continue after (keyset paging: deep pages cost the same as the first); `previous`
 * goes back by offset.
 */
function pageLinks(ctx: RequestContext, path: string, parsed: ParsedSearch, scope: string, more: boolean, lastRid?: number): Array<{ relation: string; url: string }> {
  const base = `${ctx.config.baseUrl}${path ? `/${path}` : ''}`;
  const { canonical, plan } = parsed;
  const url = (state: CursorState | undefined) => {
    const q: Array<[string, string]> = [...canonical];
    if (state && state.o > 0) q.push(['_cursor', signCursor(ctx, scope, canonical, state)]);
    return q.length ? `${base}?${queryString(q)}` : base;
  };
  const keyset = !plan.sort.length;
  const self: CursorState = plan.after !== undefined ? { o: plan.offset, a: plan.after } : { o: plan.offset };
  const links = [
    { relation: 'self', url: url(self) },
    { relation: 'first', url: url(undefined) },
  ];
  if (plan.offset > 0) links.push({ relation: 'previous', url: url({ o: Math.max(0, plan.offset - plan.count) }) });
  if (more) {
    const next: CursorState = keyset && lastRid !== undefined ? { o: plan.offset + plan.count, a: lastRid } : { o: plan.offset + plan.count };
    links.push({ relation: 'next', url: url(next) });
  }
  return links;
}

