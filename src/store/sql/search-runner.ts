import { type Access, splitTypes } from '../../search/access.js';
import { typeIn } from '../../search/compile/builder.js';
import { type CompiledSearch, compileSearch } from '../../search/compile/compile.js';
import type { Dialect } from '../../search/compile/dialect.js';
import type { Condition, SearchPlan, SortValue } from '../../search/plan.js';
import type { SearchPage } from '../store.js';
import type { SqlConnection, SqlValue } from './driver.js';
import { runInnerSearches } from './inner-searches.js';
import type { ParamIds } from './param-ids.js';
import { toStoredVersion, type VersionRow } from './version-row.js';

/**
 * Runs a search plan as seen under `access`: its chains' and `_has`'s inner searches (each
 * matching at most `innerMax` resources: inner-searches.ts), then compile, execute the page
 * (and the count), map the rows.
 */
export async function runSearch(conn: SqlConnection, pids: ParamIds, dialect: Dialect, plan: SearchPlan, access: Access, innerMax: number): Promise<SearchPage> {
  const compiled = await compileForStore(conn, pids, dialect, plan, access, innerMax);
  type Row = VersionRow & { rid: number | string } & Record<string, SortValue>;
  let rows = await conn.all<Row>(compiled.page.text, compiled.page.params as SqlValue[]);
  if (compiled.rest && rows.length <= plan.count) {
    // The resources without a value of an index-driven sort key come after those with one (going backwards, those with one before).
    const rest = await conn.all<Row>(compiled.rest.text, compiled.rest.params as SqlValue[]);
    rows = plan.backward ? [...rest, ...rows] : [...rows, ...rest];
  }
  const more = rows.length > plan.count;
  // Going backwards, the rows nearest the position are the last ones.
  const kept = plan.backward ? rows.slice(Math.max(0, rows.length - plan.count)) : rows.slice(0, plan.count);
  const page: SearchPage = { rows: kept.map(toStoredVersion), more };
  const keys = (row: Row) => plan.sort.map((_, i) => row[`k${i}`] ?? null);
  const first = kept[0];
  const last = kept[kept.length - 1];
  if (first && last) {
    page.lastRid = Number(last.rid);
    page.firstRid = Number(first.rid);
    if (plan.sort.length) {
      page.lastKeys = keys(last);
      page.firstKeys = keys(first);
    }
  }
  if (plan.total) {
    if (!plan.where.length && splitTypes(access, plan.types).all.length === plan.types.length) {
      // Unfiltered, and the caller sees every row: the per-type counts kept at write time answer without a scan.
      const counts = await conn.all<{ n: number | string }>(`SELECT n FROM type_count_part WHERE type ${typeIn(plan.types).text}`);
      page.total = counts.reduce((sum, r) => sum + Number(r.n), 0);
    } else if (!more && plan.offset === 0 && plan.after === undefined) {
      page.total = page.rows.length;
    } else {
      const n = await conn.get<{ n: number | string }>(compiled.count!.text, compiled.count!.params as SqlValue[]);
      page.total = Number(n?.n ?? 0);
    }
  }
  return page;
}

/** Compiles a plan with the store's parameter ids (loading any this node has not seen yet), once its inner searches have run. */
export async function compileForStore(conn: SqlConnection, pids: ParamIds, dialect: Dialect, plan: SearchPlan, access: Access, innerMax: number): Promise<CompiledSearch> {
  await pids.ensureParams(conn, paramPairs(plan));
  const resolved = await runInnerSearches(conn, pids, dialect, plan, access, innerMax);
  return compileSearch(plan, access, (types, code) => pids.lookup(types, code), dialect, resolved);
}

/** Every (type, parameter) the plan mentions, so unknown ids can be loaded before compiling. */
function paramPairs(plan: SearchPlan): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const visit = (c: Condition, types: string[]) => {
    if (c.kind === 'chain') {
      types.forEach((t) => out.push([t, c.param]));
      visit(c.where, c.targetTypes);
    } else if (c.kind === 'has') {
      out.push([c.type, c.param]);
      visit(c.where, [c.type]);
    } else if (c.kind === 'or') {
      c.any.forEach((x) => visit(x, types));
    } else if (c.kind === 'for-type') {
      visit(c.where, [c.type]);
    } else if ('param' in c) {
      types.forEach((t) => out.push([t, c.param]));
    }
  };
  plan.where.forEach((c) => visit(c, plan.types));
  plan.sort.forEach((k) => plan.types.forEach((t) => out.push([t, k.param])));
  return out.filter(([, code]) => code !== '_id' && code !== '_lastUpdated');
}
