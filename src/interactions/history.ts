import { dateRange } from '../fhir/dates.js';
import { badRequest, notFound } from '../fhir/outcome.js';
import type { StoredVersion } from '../store/store.js';
import { type BundleData, type BundleEntry, etagOf, fullUrl, RawResource } from './bundle.js';
import { requireId, requireType } from './checks.js';
import { queryString, signCursor, verifyCursor } from './cursor.js';
import type { FhirResponse, Interaction } from './types.js';

/**
 * history at instance, type and system level, newest first, with _count, _since and
 * signed paging cursors. https://hl7.org/fhir/STU3/http.html#history
 */
export const history: Interaction = async (req, ctx) => {
  const type = req.type === undefined ? undefined : requireType(req);
  const id = req.id === undefined ? undefined : requireId(req.id);
  if (type && id && !(await ctx.data.read(type, id))) throw notFound(`${type}/${id} is not known`);

  let count = ctx.config.defaultCount;
  let since: number | undefined;
  let cursor: string | undefined;
  const canonical: Array<[string, string]> = [];
  for (const [k, v] of req.query) {
    if (k === '_count') {
      if (!/^\d+$/.test(v)) throw badRequest(`_count must be a non-negative integer, not '${v}'`, '_count');
      count = Math.min(Number(v), ctx.config.maxCount);
    } else if (k === '_since') {
      const r = /T/.test(v) ? dateRange(v) : undefined;
      if (!r) throw badRequest(`_since must be an instant (e.g. 2017-01-01T00:00:00Z), not '${v}'`, '_since', 'value');
      since = r.low;
    } else if (k === '_cursor') {
      cursor = v;
      continue;
    } else if (k === '_format' || k === '_pretty') {
      continue;
    }
    canonical.push([k, v]);
  }
  const scope = `history ${type ?? ''}/${id ?? ''}`;
  const state = cursor ? verifyCursor(ctx, scope, canonical, cursor) : { o: 0 };
  const page = await ctx.data.history({
    ...(type ? { type } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(state.s !== undefined ? { beforeSeq: state.s } : {}),
    count,
  });
  const base = `${ctx.config.baseUrl}${type ? `/${type}` : ''}${id ? `/${id}` : ''}/_history`;
  const link = (extra: Array<[string, string]>) => `${base}${canonical.length || extra.length ? `?${queryString([...canonical, ...extra])}` : ''}`;
  const links = [{ relation: 'self', url: link(cursor ? [['_cursor', cursor]] : []) }, { relation: 'first', url: link([]) }];
  const last = page.versions[page.versions.length - 1];
  const remaining = page.total - state.o - page.versions.length;
  if (last && remaining > 0) {
    links.push({ relation: 'next', url: link([['_cursor', signCursor(ctx, scope, canonical, { o: state.o + page.versions.length, s: last.seq })]]) });
  }
  const bundle: BundleData = {
    resourceType: 'Bundle',
    type: 'history',
    total: page.total,
    link: links,
    entry: page.versions.map((v) => historyEntry(ctx.config.baseUrl, v)),
  };
  return { status: 200, body: { bundle } } satisfies FhirResponse;
};

function historyEntry(baseUrl: string, v: StoredVersion): BundleEntry {
  const e: BundleEntry = { fullUrl: fullUrl(baseUrl, v.type, v.id) };
  if (v.json) e.resource = new RawResource(v.json);
  e.request = { method: v.method, url: v.method === 'POST' ? v.type : `${v.type}/${v.id}` };
  e.response = {
    status: v.method === 'POST' ? '201' : v.method === 'DELETE' ? '204' : '200',
    etag: etagOf(v.version),
    lastModified: v.lastUpdated,
  };
  return e;
}
