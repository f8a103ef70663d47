import { badRequest } from '../fhir/outcome.js';
import { parseSearch } from '../search/parse/query.js';
import type { StoreReader, StoredVersion } from '../store/store.js';
import { expandTerminology } from '../terminology/search.js';
import type { RequestContext } from './types.js';

/**
 * The resources a conditional create, update or delete refers to: at most two are
 * fetched, since the interactions only distinguish none, one and several. Unknown
 * parameters are errors here (strict), for an ignored criterion would widen the match.
 * https://hl7.org/fhir/STU3/http.html#cond-update
 */
export async function conditionalMatches(reader: StoreReader, type: string, query: Array<[string, string]>, ctx: RequestContext): Promise<StoredVersion[]> {
  const criteria = query.filter(([k]) => !['_format', '_pretty'].includes(k));
  if (!criteria.length) throw badRequest('A conditional request needs search criteria');
  const parsed = parseSearch([type], criteria, ctx.registry, {
    defaultCount: 2,
    maxCount: 2,
    strict: true,
    baseUrl: ctx.config.baseUrl,
  });
  const page = await reader.search({ ...expandTerminology(parsed.plan), count: 2, offset: 0, total: false, sort: [] });
  return page.rows;
}

/** Parses `If-None-Exist` (a query string, with or without the leading `?` or type). */
export function parseQueryString(text: string): Array<[string, string]> {
  const q = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  return [...new URLSearchParams(q)];
}
