import { badRequest } from '../fhir/outcome.js';
import { parseSearch } from '../search/parse/query.js';
import type { StoreTx, StoredVersion } from '../store/store.js';
import { expandTerminology } from '../terminology/search.js';
import type { RequestContext } from './types.js';

/** Parameters of a query that shape the answer rather than select: they never make a conditional request's criteria. */
const NOT_CRITERIA = new Set(['_format', '_pretty', '_count', '_sort', '_summary', '_elements', '_include', '_revinclude', '_total', '_cursor', '_contained', '_containedType']);

/**
 * The resources a conditional create, update or delete refers to: at most two are
 * fetched, since the interactions only distinguish none, one and several. Unknown
 * parameters are errors here (strict), for an ignored criterion would widen the match;
 * so are criteria that are empty or that are only result parameters (`_count`, `_sort`,
 * `_summary` …), which would match everything (issue 15, M2). The look and the write are
 * serialised with every other conditional write of the same type and criteria (`tx.serialise`),
 * so concurrent conditional creates make one resource, not several (H2).
 * https://hl7.org/fhir/STU3/http.html#cond-update
 */
export async function conditionalMatches(tx: StoreTx, type: string, query: Array<[string, string]>, ctx: RequestContext): Promise<StoredVersion[]> {
  const criteria = query.filter(([k]) => !NOT_CRITERIA.has(k.split(':')[0]!));
  const empty = criteria.find(([, v]) => v.trim() === '');
  if (empty) throw badRequest(`The conditional criterion '${empty[0].slice(0, 100)}' has no value; a conditional request needs criteria that select`, empty[0]);
  if (!criteria.length) throw badRequest('A conditional request needs search criteria (result parameters such as _count or _sort select nothing)');
  const parsed = parseSearch([type], criteria, ctx.registry, {
    defaultCount: 2,
    maxCount: 2,
    strict: true,
    baseUrl: ctx.config.baseUrl,
  });
  if (!parsed.plan.where.length) throw badRequest('A conditional request needs search criteria that select');
  const plan = await expandTerminology(parsed.plan, ctx.terminologyServer);
  await tx.serialise(criteriaKey(type, criteria));
  const page = await tx.search({ ...plan, count: 2, offset: 0, total: false, sort: [] });
  return page.rows;
}

/** The type and the criteria in one order: the same criteria written in another order are the same key. */
export function criteriaKey(type: string, criteria: Array<[string, string]>): string {
  const sorted = criteria.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).sort();
  return `${type}?${sorted.join('&')}`;
}

/** Parses `If-None-Exist` (a query string, with or without the leading `?` or type). */
export function parseQueryString(text: string): Array<[string, string]> {
  const q = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  return [...new URLSearchParams(q)];
}
