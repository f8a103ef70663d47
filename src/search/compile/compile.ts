import type { Access } from '../access.js';
import type { Condition, SearchPlan, SortKey, SortValue } from '../plan.js';
import { accessTest, confinesToCompartments } from './access.js';
import { AliasCounter, inList, join, joinShallow, limit as limitOf, raw, type Sql, sql, typeIn } from './builder.js';
import { FhirError, issue } from '../../fhir/outcome.js';
import { compileCondition, type CompileContext, guardOf, type PidLookup, type Resolved, selectivityRank } from './conditions.js';
import type { Dialect } from './dialect.js';

export interface CompiledSearch {
  /**
   * The page: rid, k0… (each sort key's value), type, id, version, last_updated, method,
   * json of up to `count + 1` rows (one more tells there is a next page), in order.
   */
  page: Sql;
  /**
   * When `page` holds only the resources that have a value of the sort key (an
   * index-driven sort, below): the resources without one, which come after them. Run only
   * when `page` found fewer than `count + 1` rows; its rows follow the page's (going
   * backwards, `page` holds those without a value and `rest` those with one, before them).
   */
  rest?: Sql;
  /** The number of matches, when wanted. */
  count?: Sql;
}

const SORT_COLUMN = {
  token: ['code', 'code'],
  string: ['norm', 'norm'],
  date: ['low', 'high'],
  number: ['value', 'value'],
  quantity: ['value', 'value'],
  reference: ['target_id', 'target_id'],
  uri: ['uri', 'uri'],
  composite: ['code1', 'code1'],
} as const;

/** One term of the order: an expression over the row `r`, its direction, and whether it can be NULL (a resource without a value: last). */
interface Term {
  expr: Sql;
  descending: boolean;
  nullable: boolean;
}

/**
 * Compiles a search plan, as seen under `access`, to SQL that both SQLite and
 * PostgreSQL run as written (the drivers only translate `?` placeholders).
 *
 * The order is the sort keys (each ascending or descending, resources without a value
 * last), then the resource row id ascending: a total order, so a page's position is its
 * last row's key values and rid (SearchPlan.after, afterKeys) and the next page is the
 * rows strictly after it (keyset paging: nothing skipped or repeated when rows are added
 * or removed between pages, and no rows read to be skipped). A page backwards
 * (SearchPlan.backward) is the rows strictly before it, read in the reverse order from the
 * position, nearest first. An inner query finds the page's rows and their key values; the
 * outer one joins their current versions for the JSON, in the search's order, so that a
 * sort never carries the JSON of rows it drops. The inner searches of its chains and `_has`
 * have been run already (`resolved`: compileInnerSearch and compileHasInnerSearch, run by
 * the store).
 */
export function compileSearch(plan: SearchPlan, access: Access, pids: PidLookup, dialect: Dialect, resolved: Resolved = new Map()): CompiledSearch {
  const ctx = { aliases: new AliasCounter(), pids, dialect, access, resolved };
  const where = compileWhere(plan, ctx, 'r');
  const terms = plan.sort.map((k) => sortTerm(k, plan.types, pids, dialect));
  const keyset = plan.after !== undefined;
  const position = keyset ? { rid: plan.after!, keys: plan.afterKeys ?? [], backward: plan.backward === true } : undefined;
  const limit = plan.count + 1;
  const driven = keyset || plan.offset === 0 ? dateDriven(plan, pids, access) : undefined;
  let page: Sql;
  let rest: Sql | undefined;
  if (driven) {
    ({ page, rest } = dateDrivenPages(dialect, driven, where, position, limit));
  } else {
    const after = position ? sql` AND ${beyond(terms, position)}` : raw('');
    const tail = sql`ORDER BY ${orderBy(terms, position?.backward)} ${limitOf(limit)} OFFSET ${keyset ? 0 : plan.offset}`;
    if (!terms.length && !position?.backward) {
      // The default order, forwards: the rows in rid order with their JSON, in one query. (Found
      // without their JSON, the rows cost SQLite's planner so little to sort that it took the
      // type index and sorted every row of the type rather than read the rids from the position.)
      page = sql`SELECT r.rid, r.type, r.id, r.version, v.last_updated, v.method, v.json FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version WHERE ${where}${after} ${tail}`;
    } else {
      const keys = terms.map((t, i) => sql`, ${t.expr} AS ${raw(`k${i}`)}`);
      page = withJson(sql`SELECT r.rid AS rid${join(keys, '')} FROM resource r WHERE ${where}${after} ${tail}`, terms);
    }
  }
  checkSize(page);
  if (rest) checkSize(rest);
  const compiled: CompiledSearch = rest ? { page, rest } : { page };
  if (plan.total) compiled.count = sql`SELECT count(*) AS n FROM resource r WHERE ${where}`;
  return compiled;
}

/** The inner query's rows (rid, k0…) with their resources' current versions, in the order of `terms`. */
function withJson(rows: Sql, terms: Term[]): Sql {
  const keys = terms.map((_, i) => raw(`, s.k${i}`));
  const order = join([...terms.map((t, i) => direction(raw(`s.k${i}`), t)), raw('s.rid')], ', ');
  return sql`SELECT s.rid${join(keys, '')}, r.type, r.id, r.version, v.last_updated, v.method, v.json FROM (${rows}) s JOIN resource r ON r.rid = s.rid JOIN resource_version v ON v.rid = r.rid AND v.version = r.version ORDER BY ${order}`;
}

/** The inner query's ORDER BY: its key columns (k0…, by their names), then the rid; all reversed going backwards. */
function orderBy(terms: Term[], backward = false): Sql {
  return join([...terms.map((t, i) => direction(raw(`k${i}`), t, backward)), raw(backward ? 'r.rid DESC' : 'r.rid')], ', ');
}

/** A term's direction, resources without a value last (first, going backwards). */
function direction(expr: Sql, t: Term, backward = false): Sql {
  return sql`${expr} ${raw(t.descending !== backward ? 'DESC' : 'ASC')}${raw(t.nullable ? (backward ? ' NULLS FIRST' : ' NULLS LAST') : '')}`;
}

/**
 * The rows strictly after `position` in the order of `terms` then rid (strictly before it,
 * going backwards): for some i, equal on the first i keys and after on key i (or, equal on
 * all, a higher rid). A NULL comes after every value; after a NULL there is only another
 * NULL with a higher rid (before a NULL, every value). A first key that cannot be NULL also
 * bounds the range (`k >= v`), so that an index on it can seek to the position.
 */
function beyond(terms: Term[], position: { rid: number; keys: SortValue[]; backward: boolean }, rid = raw('r.rid')): Sql {
  const { backward } = position;
  const alternatives: Sql[] = [];
  const equal: Sql[] = [];
  terms.forEach((t, i) => {
    const v = position.keys[i] ?? null;
    if (v !== null) {
      const past = sql`${t.expr} ${raw(t.descending !== backward ? '<' : '>')} ${v}`;
      alternatives.push(join([...equal, t.nullable && !backward ? sql`(${past} OR ${t.expr} IS NULL)` : past], ' AND '));
      equal.push(sql`${t.expr} = ${v}`);
    } else {
      if (backward) alternatives.push(join([...equal, sql`${t.expr} IS NOT NULL`], ' AND '));
      equal.push(sql`${t.expr} IS NULL`);
    }
  });
  alternatives.push(join([...equal, sql`${rid} ${raw(backward ? '<' : '>')} ${position.rid}`], ' AND '));
  const all = sql`(${join(alternatives.map((a) => sql`(${a})`), ' OR ')})`;
  const first = terms[0];
  const v = position.keys[0] ?? null;
  if (!first || first.nullable || v === null) return all;
  return sql`${first.expr} ${raw(first.descending !== backward ? '<=' : '>=')} ${v} AND ${all}`;
}

/**
 * The inner search of a chain or `_has` (`where` over `types`), run on its own before the
 * search that holds it: the rid, type and id of at most `limit` matches, as seen under
 * `access` (narrowed as any search is: it finds, and so counts, only what the caller may
 * see). Its own chains and `_has` are in `resolved` already (innermost first).
 */
export function compileInnerSearch(types: string[], where: Condition, access: Access, pids: PidLookup, dialect: Dialect, resolved: Resolved, limit: number): Sql {
  const ctx = { aliases: new AliasCounter(), pids, dialect, access, resolved };
  return checkSize(sql`SELECT r.rid, r.type, r.id FROM resource r WHERE ${compileWhere({ types, where: [where] }, ctx, 'r')} ${limitOf(limit)}`);
}

/** SQLite binds at most 32,766 values in a statement, and a statement's text is parsed whole: past these bounds a search is refused, not failed. */
function checkSize(q: Sql): Sql {
  if (q.params.length > MAX_SQL_PARAMS || q.text.length > MAX_SQL_TEXT) {
    throw new FhirError(400, issue('too-costly', `The search is too large to run (${q.params.length} values, ${q.text.length} characters of SQL); ask for fewer values, parameters or includes at once`));
  }
  return q;
}

/**
 * A `_has`'s inner search (`where` over `type`; compileInnerSearch, at most `limit` matches)
 * with what each match refers to by the parameter ids `pids` among resources of `types`:
 * a row per reference (a match without one: a row of nulls), at most 2 × `limit` rows in
 * all. Fewer than that, the rows are every match and every reference; that many, the matches
 * or the references number `limit` or more.
 */
export function compileHasInnerSearch(type: string, where: Condition, refPids: number[], types: string[], access: Access, pids: PidLookup, dialect: Dialect, resolved: Resolved, limit: number): Sql {
  const inner = compileInnerSearch([type], where, access, pids, dialect, resolved, limit);
  return sql`SELECT m.rid, ref.target_type, ref.target_id FROM (${inner}) m LEFT JOIN idx_reference ref ON ref.rid = m.rid AND ref.pid ${inList(refPids)} AND ref.target_type ${inList(types)} ${limitOf(2 * limit)}`;
}

/** Bounds on one compiled search (issue 15, M4). */
export const MAX_SQL_PARAMS = 20_000;
export const MAX_SQL_TEXT = 1_000_000;

/** Ranked as the compartment condition is (conditions.ts, selectivityRank): one patient's records. */
const COMPARTMENT_RANK = 1;

/** The WHERE clause of a plan over the resource row `alias`, narrowed to what `ctx.access` lets the caller see. */
function compileWhere(plan: Pick<SearchPlan, 'types' | 'where'>, ctx: CompileContext, alias: string): Sql {
  const a = raw(alias);
  // The most selective condition drives; the others probe its candidates (conditions.ts, Mode).
  // Access confined to compartments is itself a condition, and drives when nothing ranks lower.
  const ranks = plan.where.map(selectivityRank);
  const best = Math.min(...ranks);
  const accessDrives = confinesToCompartments(ctx.access, plan.types) && COMPARTMENT_RANK < best;
  const driver = accessDrives ? -1 : ranks.indexOf(best);
  // SQLite: `+type` when a condition gives the candidates (`rid IN (…)`), so that they are read
  // by rid rather than every row of the type tested against them. Without statistics (a new
  // store, or one grown by requests until PRAGMA optimize), SQLite walked the type's index:
  // `Observation?subject=Patient/X&_count=10` read every Observation of the store (4,000 on the
  // demo data: 1.05 ms against 0.22).
  const byCandidates = ctx.dialect.name === 'sqlite' && driver >= 0 && drivesByRid(plan.where[driver]!);
  const parts = [sql`${raw(byCandidates ? '+' : '')}${a}.type ${typeIn(plan.types)}`, sql`${a}.deleted = 0`];
  const narrowed = accessTest(ctx.access, alias, plan.types, accessDrives ? 'drive' : 'probe');
  if (narrowed) parts.push(narrowed);
  plan.where.forEach((c, i) => parts.push(compileCondition(c, alias, plan.types, ctx, i === driver ? 'drive' : 'probe')));
  // Last, so that it is asked of each candidate row (SQLite's time limit: Dialect.guard).
  return sql`${joinShallow(parts, ' AND ')}${guardOf(ctx, `${alias}.rid`)}`;
}

/** Whether a condition, driving, is a list of candidate rids (`rid IN (SELECT rid …)`): the indexed kinds and the compartment. */
function drivesByRid(c: Condition): boolean {
  switch (c.kind) {
    case 'compartment':
    case 'compartments':
    case 'reference':
    case 'string':
    case 'date':
    case 'number':
    case 'quantity':
    case 'uri':
    case 'composite':
    case 'token-text':
      return true;
    case 'token':
      return !c.not;
    default:
      return false;
  }
}

/** One sort key as a term of the order; a key no resource of these types is indexed on sorts nothing (every value NULL). */
function sortTerm(key: SortKey, types: string[], pids: PidLookup, dialect: Dialect): Term {
  const { descending } = key;
  if (key.param === '_id') return { expr: raw('r.id'), descending, nullable: false };
  if (key.param === '_lastUpdated') return { expr: raw('r.last_updated'), descending, nullable: false };
  const ids = key.table ? pids(types, key.param) : [];
  if (!key.table || !ids.length) return { expr: raw('CAST(NULL AS TEXT)'), descending, nullable: true };
  const column = raw(SORT_COLUMN[key.table][descending ? 1 : 0]);
  const agg = raw(descending ? 'MAX' : 'MIN');
  // SQLite: `+pid`, so the value is looked up through the (rid, pid) index, among the few
  // rows of one resource. Left free to choose, SQLite without statistics took the (pid, value)
  // index for MIN/MAX and scanned every row of the parameter once per resource sorted (H1 of
  // issue 15: a sort on a token parameter over 40,000 Observations never finished). PostgreSQL
  // chooses (rid, pid) by itself, and `+pid` only raised its cost estimate past the JIT's
  // inlining threshold (250 ms of JIT on a 200 ms query).
  const pid = raw(dialect.name === 'sqlite' ? '+pid' : 'pid');
  return { expr: sql`(SELECT ${agg}(${column}) FROM ${raw(`idx_${key.table}`)} WHERE rid = r.rid AND ${pid} ${inList(ids)})`, descending, nullable: true };
}

/**
 * A search sorted on one date parameter indexed under one parameter id (`Observation?_sort=date`,
 * `AuditEvent?_sort=-date`) reads the date index in order instead of sorting every match, when
 * nothing narrows it: no condition, and the caller sees every resource of its types. A narrowed
 * search sorts its matches instead: walking the index, it would test the rows of every match
 * of the sort until it found a page of its own, and all of them when it has fewer (a condition's
 * rank says nothing of how many it keeps: `date=ge2026` may keep ten). Undefined when the plan is
 * not one.
 */
function dateDriven(plan: SearchPlan, pids: PidLookup, access: Access): { pid: number; descending: boolean } | undefined {
  if (plan.sort.length !== 1) return undefined;
  if (plan.where.length || confinesToCompartments(access, plan.types)) return undefined;
  const [key] = plan.sort as [SortKey];
  if (key.table !== 'date') return undefined;
  const ids = pids(plan.types, key.param);
  return ids.length === 1 ? { pid: ids[0]!, descending: key.descending } : undefined;
}

/**
 * The pages of a date-driven sort. The key of a resource is its lowest start (ascending)
 * or highest end (descending) among its rows of the parameter; the rows of `idx_date` in
 * the order of the (pid, low) or (pid, high) index are the resources in key order when each
 * keeps only the row that holds its key (no row of the same resource before it); the rows of
 * one instant are sorted by rid. `valued` walks that index from the position; `unvalued` is the resources
 * without a row, by rid. Forwards, a position whose key was NULL is among those already:
 * only they follow it, after its rid; otherwise they follow the valued ones. Backwards,
 * from a NULL position the unvalued before its rid come first, then the valued from the end.
 */
function dateDrivenPages(
  dialect: Dialect,
  d: { pid: number; descending: boolean },
  where: Sql,
  position: { rid: number; keys: SortValue[]; backward: boolean } | undefined,
  limit: number,
): { page: Sql; rest?: Sql } {
  const term: Term = { expr: raw(''), descending: d.descending, nullable: true };
  const backward = position?.backward ?? false;
  const unvalued = (afterRid: Sql) =>
    withJson(
      sql`SELECT r.rid AS rid, NULL AS k0 FROM resource r WHERE ${where} AND NOT EXISTS (SELECT 1 FROM idx_date WHERE rid = r.rid AND pid = ${d.pid})${afterRid} ORDER BY ${raw(backward ? 'r.rid DESC' : 'r.rid')} ${limitOf(limit)}`,
      [term],
    );
  const column = raw(d.descending ? 'd.high' : 'd.low');
  // SQLite: `+`, so that the other rows of the resource are found through the (rid, pid) index,
  // not by a range over the (pid, value) one (as in sortTerm).
  const plus = dialect.name === 'sqlite' ? '+' : '';
  // Two rows of one resource holding the same key: the first stored (SQLite's rowid, PostgreSQL's ctid) holds it.
  const stored = dialect.name === 'sqlite' ? 'rowid' : 'ctid';
  const [col, cmp] = d.descending ? ['high', '>'] : ['low', '<'];
  const first = raw(`(${plus}e.${col} ${cmp} d.${col} OR (${plus}e.${col} = d.${col} AND ${plus}e.${stored} < d.${stored}))`);
  const valued = (from: Sql) =>
    // CROSS JOIN: SQLite walks the date index and looks each resource up, as it should when nothing
    // narrows the search (dateDriven); left to choose on a first page, it took the type index and
    // sorted every resource of the type. (PostgreSQL takes CROSS JOIN as any join.)
    withJson(
      sql`SELECT d.rid AS rid, ${column} AS k0 FROM idx_date d CROSS JOIN resource r WHERE r.rid = d.rid AND d.pid = ${d.pid} AND NOT EXISTS (SELECT 1 FROM idx_date e WHERE e.rid = d.rid AND e.pid = d.pid AND ${first}) AND ${where}${from} ORDER BY k0 ${raw(d.descending !== backward ? 'DESC' : 'ASC')}, ${raw(backward ? 'rid DESC' : 'rid')} ${limitOf(limit)}`,
      [term],
    );
  const key = position?.keys[0] ?? null;
  if (!position) return { page: valued(raw('')), rest: unvalued(raw('')) };
  const fromRid = sql` AND r.rid ${raw(backward ? '<' : '>')} ${position.rid}`;
  if (key === null) return backward ? { page: unvalued(fromRid), rest: valued(raw('')) } : { page: unvalued(fromRid) };
  const from = sql` AND ${beyond([{ expr: column, descending: d.descending, nullable: false }], { ...position, keys: [key] }, raw('d.rid'))}`;
  return backward ? { page: valued(from) } : { page: valued(from), rest: unvalued(raw('')) };
}
