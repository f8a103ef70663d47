import type { Access } from '../access.js';
import type { Condition, SearchPlan, SortKey } from '../plan.js';
import { accessTest, confinesToCompartments } from './access.js';
import { AliasCounter, inList, join, joinShallow, raw, type Sql, sql } from './builder.js';
import { FhirError, issue } from '../../fhir/outcome.js';
import { compileCondition, type CompileContext, guardOf, type PidLookup, type Resolved, selectivityRank } from './conditions.js';
import type { Dialect } from './dialect.js';

export interface CompiledSearch {
  /** The page: type, id, version, last_updated, method, json of `count + 1` rows (one more tells there is a next page). */
  page: Sql;
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

/**
 * Compiles a search plan, as seen under `access`, to SQL that both SQLite and
 * PostgreSQL run as written (the drivers only translate `?` placeholders). Matching rows
 * are selected on `resource` and joined to their current version for the JSON. The
 * inner searches of its chains and `_has` have been run already (`resolved`:
 * compileInnerSearch and compileReferred, run by the store).
 */
export function compileSearch(plan: SearchPlan, access: Access, pids: PidLookup, dialect: Dialect, resolved: Resolved = new Map()): CompiledSearch {
  const where = compileWhere(plan, { aliases: new AliasCounter(), pids, dialect, access, resolved }, 'r');
  const order = join([...plan.sort.map((k) => sortExpression(k, plan.types, pids, dialect)), raw('r.rid')], ', ');
  const keyset = plan.after !== undefined && !plan.sort.length;
  const pageWhere = keyset ? sql`${where} AND r.rid > ${plan.after!}` : where;
  const page = sql`SELECT r.rid, r.type, r.id, v.version, v.last_updated, v.method, v.json FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version WHERE ${pageWhere} ORDER BY ${order} LIMIT ${plan.count + 1} OFFSET ${keyset ? 0 : plan.offset}`;
  checkSize(page);
  if (!plan.total) return { page };
  return { page, count: sql`SELECT count(*) AS n FROM resource r WHERE ${where}` };
}

/**
 * The inner search of a chain or `_has` (`where` over `types`), run on its own before the
 * search that holds it: the rid, type and id of at most `limit` matches, as seen under
 * `access` (narrowed as any search is: it finds, and so counts, only what the caller may
 * see). Its own chains and `_has` are in `resolved` already (innermost first).
 */
export function compileInnerSearch(types: string[], where: Condition, access: Access, pids: PidLookup, dialect: Dialect, resolved: Resolved, limit: number): Sql {
  const ctx = { aliases: new AliasCounter(), pids, dialect, access, resolved };
  return checkSize(sql`SELECT r.rid, r.type, r.id FROM resource r WHERE ${compileWhere({ types, where: [where] }, ctx, 'r')} LIMIT ${limit}`);
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
  return sql`SELECT m.rid, ref.target_type, ref.target_id FROM (${inner}) m LEFT JOIN idx_reference ref ON ref.rid = m.rid AND ref.pid ${inList(refPids)} AND ref.target_type ${inList(types)} LIMIT ${2 * limit}`;
}

/** Bounds on one compiled search (issue 15, M4). */
export const MAX_SQL_PARAMS = 20_000;
export const MAX_SQL_TEXT = 1_000_000;

/** Ranked as the compartment condition is (conditions.ts, selectivityRank): one patient's records. */
const COMPARTMENT_RANK = 1;

/** The WHERE clause of a plan over the resource row `alias`, narrowed to what `ctx.access` lets the caller see. */
function compileWhere(plan: Pick<SearchPlan, 'types' | 'where'>, ctx: CompileContext, alias: string): Sql {
  const a = raw(alias);
  const parts = [sql`${a}.type ${inList(plan.types)}`, sql`${a}.deleted = 0`];
  // The most selective condition drives; the others probe its candidates (conditions.ts, Mode).
  // Access confined to compartments is itself a condition, and drives when nothing ranks lower.
  const ranks = plan.where.map(selectivityRank);
  const best = Math.min(...ranks);
  const accessDrives = confinesToCompartments(ctx.access, plan.types) && COMPARTMENT_RANK < best;
  const driver = accessDrives ? -1 : ranks.indexOf(best);
  const narrowed = accessTest(ctx.access, alias, plan.types, accessDrives ? 'drive' : 'probe');
  if (narrowed) parts.push(narrowed);
  plan.where.forEach((c, i) => parts.push(compileCondition(c, alias, plan.types, ctx, i === driver ? 'drive' : 'probe')));
  // Last, so that it is asked of each candidate row (SQLite's time limit: Dialect.guard).
  return sql`${joinShallow(parts, ' AND ')}${guardOf(ctx, `${alias}.rid`)}`;
}

/** One ORDER BY term; resources without a value sort last either way. */
function sortExpression(key: SortKey, types: string[], pids: PidLookup, dialect: Dialect): Sql {
  const dir = raw(key.descending ? 'DESC' : 'ASC');
  if (key.param === '_id') return sql`r.id ${dir}`;
  if (key.param === '_lastUpdated') return sql`r.last_updated ${dir}`;
  const ids = key.table ? pids(types, key.param) : [];
  if (!key.table || !ids.length) return sql`r.rid ${dir}`;
  const column = raw(SORT_COLUMN[key.table][key.descending ? 1 : 0]);
  const agg = raw(key.descending ? 'MAX' : 'MIN');
  // SQLite: `+pid`, so the value is looked up through the (rid, pid) index, among the few
  // rows of one resource. Left free to choose, SQLite without statistics took the (pid, value)
  // index for MIN/MAX and scanned every row of the parameter once per resource sorted (H1 of
  // issue 15: a sort on a token parameter over 40,000 Observations never finished). PostgreSQL
  // chooses (rid, pid) by itself, and `+pid` only raised its cost estimate past the JIT's
  // inlining threshold (250 ms of JIT on a 200 ms query).
  const pid = raw(dialect.name === 'sqlite' ? '+pid' : 'pid');
  return sql`(SELECT ${agg}(${column}) FROM ${raw(`idx_${key.table}`)} WHERE rid = r.rid AND ${pid} ${inList(ids)}) ${dir} NULLS LAST`;
}
