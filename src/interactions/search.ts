import { randomUUID } from 'node:crypto';
import { parseJson } from '../fhir/json.js';
import { badRequest, issue, notFound, operationOutcome } from '../fhir/outcome.js';
import { parseSearch, type ParsedSearch } from '../search/parse/query.js';
import type { SearchPlan, SortValue } from '../search/plan.js';
import type { SearchPage, StoredVersion } from '../store/store.js';
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
  let counted: number | undefined;
  if (parsed.cursor) {
    const state = verifyCursor(ctx, scope, parsed.canonical, parsed.cursor);
    parsed.plan.offset = state.o;
    if (state.a !== undefined) {
      // A sorted search's position is the row's key values as well as its rid (signed with the query, so they match its _sort).
      if (parsed.plan.sort.length && state.k?.length !== parsed.plan.sort.length) throw badRequest('The paging cursor is not valid for this query', '_cursor');
      parsed.plan.after = state.a;
      if (parsed.plan.sort.length) parsed.plan.afterKeys = state.k;
      if (state.p === 1) parsed.plan.backward = true;
    }
    // _total=estimate: counted for the first page, which the pages after it carry (a broad search's count costs more than its page).
    if (parsed.estimate && state.t !== undefined && parsed.plan.total) {
      parsed.plan.total = false;
      counted = state.t;
    }
  }
  const countOnly = parsed.summary === 'count';
  let plan = await expandTerminology(parsed.plan, ctx.terminologyServer);
  let page = await ctx.data.search(countOnly ? { ...plan, count: 0 } : plan);
  if (plan.backward && !page.more && !countOnly) {
    // Back at the start: the first page, whole (a page backwards from near the start has fewer rows).
    const { after: _a, afterKeys: _k, backward: _b, ...first } = plan;
    plan = { ...first, offset: 0 };
    page = await ctx.data.search(plan);
  }
  if (counted !== undefined) page = { ...page, total: counted };
  const { included, cut } = countOnly ? { included: [] } : await resolveIncludes(ctx.data, ctx.registry, page.rows, parsed.includes, parsed.revincludes, ctx.config.baseUrl);
  if (cut) parsed.warnings.push(issue('too-costly', cut, undefined, 'warning'));

  const bundle: BundleData = {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: new Date(ctx.clock()).toISOString() },
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    // A count has no pages to go to.
    link: countOnly ? pageLinks(ctx, path, parsed.canonical, plan, scope, { more: false }) : pageLinks(ctx, path, parsed.canonical, plan, scope, page, parsed.estimate ? page.total : undefined),
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
 * self, first, previous and next, by keyset: `next` carries the position of the page's last
 * row (its rid and, when sorted, its sort key values), `previous` that of its first row,
 * to be read backwards (a deep page costs what the first does either way, and rows added or
 * removed between pages shift nothing). `previous` from a page that reaches back to the
 * first row is the first page. The offset (`o`) is what the pages counted; it pages only a
 * cursor of an earlier release, which had no position.
 */
function pageLinks(
  ctx: RequestContext,
  path: string,
  canonical: Array<[string, string]>,
  plan: SearchPlan,
  scope: string,
  page: Pick<SearchPage, 'more' | 'lastRid' | 'lastKeys' | 'firstRid' | 'firstKeys'>,
  /** The total the links carry to the pages after this one (_total=estimate). */
  carried?: number,
): Array<{ relation: string; url: string }> {
  const base = `${ctx.config.baseUrl}${path ? `/${path}` : ''}`;
  const url = (state: CursorState | undefined) => {
    const q: Array<[string, string]> = [...canonical];
    if (state && (state.o > 0 || state.a !== undefined)) q.push(['_cursor', signCursor(ctx, scope, canonical, state)]);
    return q.length ? `${base}?${queryString(q)}` : base;
  };
  const at = (o: number, rid: number, keys: SortValue[] | undefined, backward?: boolean): CursorState => ({
    o,
    a: rid,
    ...(plan.sort.length ? { k: keys ?? [] } : {}),
    ...(backward ? { p: 1 as const } : {}),
    ...(carried !== undefined ? { t: carried } : {}),
  });
  const self = plan.after !== undefined ? at(plan.offset, plan.after, plan.afterKeys, plan.backward) : { o: plan.offset };
  const links = [
    { relation: 'self', url: url(self) },
    { relation: 'first', url: url(undefined) },
  ];
  // Rows before: going backwards, when the page says so; forwards, on any page but the first.
  const before = plan.backward ? page.more : plan.after !== undefined || plan.offset > 0;
  if (before && page.firstRid !== undefined) links.push({ relation: 'previous', url: url(at(Math.max(0, plan.offset - plan.count), page.firstRid, page.firstKeys, true)) });
  // Rows after: going backwards, at least the row the page was read from.
  const after = plan.backward || page.more;
  if (after && page.lastRid !== undefined) links.push({ relation: 'next', url: url(at(plan.offset + plan.count, page.lastRid, page.lastKeys)) });
  return links;
}
