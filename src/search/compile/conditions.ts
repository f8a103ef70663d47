import type { Access } from '../access.js';
import type { CompositeValue, Condition, DateValue, IndexTable, NumberValue, QuantityValue, TokenValue } from '../plan.js';
import { type AliasCounter, inList, join, joinShallow, likeEscape, prefixUpperBound, raw, Sql, sql } from './builder.js';
import type { Dialect } from './dialect.js';
import { normalise } from '../normalise.js';

/** Looks up the stored ids of a parameter code across resource types (unknown ones omitted). */
export type PidLookup = (types: string[], code: string) => number[];

export interface CompileContext {
  aliases: AliasCounter;
  pids: PidLookup;
  dialect: Dialect;
  /** What the caller may see: applied to every resource row a query names, inner ones included. */
  access: Access;
  /** The inner searches of the plan's chains and `_has`, run before it (Resolved). */
  resolved: Resolved;
}

/** A resource by type and id. */
export interface Target {
  type: string;
  id: string;
}

/**
 * What the inner searches of a plan's chains and `_has` found, run before the plan is
 * compiled (store/sql/inner-searches.ts), keyed by the condition itself: for a chain, the
 * resources its inner search matches; for `_has`, the resources that the matches of its
 * inner search refer to by its parameter. Each is a list of at most the store's bound
 * (issue 15: an inner search may not make the work of the search that holds it grow with
 * its own size), and goes into the SQL as a list of values.
 */
export type Resolved = ReadonlyMap<Condition, readonly Target[]>;

const FALSE = raw('1 = 0');
/** ORed values each get their own index range up to this many; past it they share one subquery. */
const MAX_UNION = 32;
const TRUE = raw('1 = 1');

/**
 * How a condition on an index table is written. The one condition that drives the
 * search reads its index to produce candidate rows (`rid IN (SELECT rid FROM idx …)`);
 * every other condition probes the candidates one by one through the (rid, pid)
 * index (`EXISTS (SELECT 1 FROM idx WHERE rid = r.rid …)`). Written all as IN, SQLite
 * would build the whole list of every condition (150,000 rows for
 * `category=vital-signs`) to test thirty candidates.
 */
export type Mode = 'drive' | 'probe';

/** A date equal to a span shorter than this (a day, a month) ranks with the selective conditions. */
const NARROW_DATE_MS = 32 * 86_400_000;

/**
 * How likely a condition is to narrow the search, lowest first: the driver is the
 * lowest ranked. A static order, from what each kind of parameter usually matches.
 */
export function selectivityRank(c: Condition): number {
  switch (c.kind) {
    case 'id':
      return c.not ? 9 : 0;
    case 'compartment':
    case 'compartments':
      return 1;
    case 'reference':
      return 2;
    case 'token':
      if (c.not) return 10;
      return c.values.every((v) => v.system && v.code !== undefined) ? 3 : 6;
    case 'string':
      return c.mode === 'exact' ? 3 : c.mode === 'prefix' ? 5 : 9;
    case 'composite':
    case 'uri':
      return 4;
    case 'has':
    case 'chain':
      return 6;
    case 'text':
    case 'token-text':
    case 'token-set':
      return 7;
    case 'date':
      // Equal to a day or a month (a birth date): a narrow slice of the index, read as a range of `low`.
      return c.values.every((v) => v.prefix === 'eq' && v.high - v.low < NARROW_DATE_MS) ? 4 : 8;
    case 'number':
    case 'quantity':
    case 'lastUpdated':
      return 8;
    default:
      return 10;
  }
}

/**
 * Compiles one condition to a boolean SQL expression over the resource row `alias`
 * (a row of `resource`, whose type is one of `types`).
 * https://hl7.org/fhir/STU3/search.html
 */
export function compileCondition(c: Condition, alias: string, types: string[], ctx: CompileContext, mode: Mode = 'drive'): Sql {
  const a = raw(alias);
  switch (c.kind) {
    case 'none':
      return FALSE;
    case 'id':
      if (!c.values.length) return c.not ? TRUE : FALSE;
      if (c.not) return sql`${a}.id NOT ${in_(c.values)}`;
      // Several ids (a page's _include targets) as one bound list: SQLite plans an IN list of bound
      // values with the statistics of the (type, id) index, so it prepared the statement again at
      // every run (34 µs against 16 for two ids).
      return c.values.length === 1 ? sql`${a}.id = ${c.values[0]!}` : sql`${a}.id ${ctx.dialect.anyOf(c.values)}`;
    case 'lastUpdated':
      return or(c.values.map((v) => dateTest(sql`${a}.last_updated`, sql`${a}.last_updated`, v)));
    case 'compartment': {
      const inCompartment =
        mode === 'drive'
          ? sql`${a}.rid IN (SELECT rid FROM compartment WHERE patient = ${c.patient}${guardOf(ctx)})`
          : sql`EXISTS (SELECT 1 FROM compartment WHERE rid = ${a}.rid AND patient = ${c.patient})`;
      if (!types.includes('Patient')) return inCompartment;
      return sql`(${inCompartment} OR (${a}.type = 'Patient' AND ${a}.id = ${c.patient}))`;
    }
    case 'compartments': {
      if (!c.patients.length) return FALSE;
      const list = in_(c.patients);
      const inAny =
        mode === 'drive'
          ? sql`${a}.rid IN (SELECT rid FROM compartment WHERE patient ${list})`
          : sql`EXISTS (SELECT 1 FROM compartment WHERE rid = ${a}.rid AND patient ${list})`;
      if (!types.includes('Patient')) return inAny;
      return sql`(${inAny} OR (${a}.type = 'Patient' AND ${a}.id ${list}))`;
    }
    case 'or':
      return or(c.any.map((x) => compileCondition(x, alias, types, ctx, mode)));
    case 'for-type':
      if (!types.includes(c.type)) return TRUE;
      // Compiled for the one type, so its parameters' ids are that type's only.
      return sql`(${a}.type <> ${c.type} OR ${compileCondition(c.where, alias, [c.type], ctx, 'probe')})`;
    case 'missing': {
      const pids = ctx.pids(types, c.param);
      if (!pids.length) return c.missing ? TRUE : FALSE;
      return sql`${raw(c.missing ? 'NOT ' : '')}EXISTS (SELECT 1 FROM ${raw(`idx_${c.table}`)} WHERE rid = ${a}.rid AND pid ${inList(pids)})`;
    }
    case 'chain':
      return compileChain(c, a, types, ctx, mode);
    case 'has':
      return compileHas(c, a, types, ctx);
    case 'text':
      return compileText(c, a, ctx);
    case 'token-set':
      // Expanded by the search interaction (interactions/terminology.ts) before compiling.
      throw new Error(`token :${c.relation} must be expanded before compiling`);
    default:
      return compileIndexed(c, a, types, ctx, mode);
  }
}

/** ` AND <guard>` over the scanned row's rid `rid`, where the dialect has one (Dialect.guard): written into every scan that builds candidates. */
export function guardOf(ctx: Pick<CompileContext, 'dialect'>, rid = 'rid'): Sql {
  return ctx.dialect.guard ? sql` AND ${ctx.dialect.guard(raw(rid))}` : raw('');
}

function in_(values: string[]): Sql {
  return sql`IN (${join(values.map((v) => sql`${v}`), ', ')})`;
}

/**
 * Conditions answered by one index table. Driving: `rid IN (SELECT rid FROM idx_x WHERE
 * pid = ? AND test UNION …)`, each ORed value an index range. Probing (and always for
 * :not, which cannot drive): `EXISTS (SELECT 1 FROM idx_x WHERE rid = r.rid AND pid = ?
 * AND (test OR …))`.
 */
function compileIndexed(c: Condition, a: Sql, types: string[], ctx: CompileContext, mode: Mode): Sql {
  const table = tableOf(c);
  const negate = c.kind === 'token' && c.not === true;
  if (!('param' in c) || !table) return FALSE;
  const pids = ctx.pids(types, c.param);
  const tests = valueTests(c);
  if (!pids.length || !tests.length) return negate ? TRUE : FALSE;
  const idx = raw(`idx_${table}`);
  if (mode === 'probe' || negate) {
    const any = tests.length === 1 ? tests[0]! : sql`(${joinShallow(tests.map((t) => sql`(${t})`), ' OR ')})`;
    return sql`${raw(negate ? 'NOT ' : '')}EXISTS (SELECT 1 FROM ${idx} WHERE rid = ${a}.rid AND pid ${inList(pids)} AND ${any})`;
  }
  if (tests.length > MAX_UNION) {
    // SQLite allows 500 terms in a compound SELECT: beyond a few dozen, one subquery with the tests ORed.
    return sql`${a}.rid IN (SELECT rid FROM ${idx} WHERE pid ${inList(pids)} AND (${joinShallow(tests.map((t) => sql`(${t})`), ' OR ')})${guardOf(ctx)})`;
  }
  const subqueries = tests.map((t) => sql`SELECT rid FROM ${idx} WHERE pid ${inList(pids)} AND ${t}${guardOf(ctx)}`);
  return sql`${a}.rid IN (${join(subqueries, ' UNION ')})`;
}

const TABLE_OF: Partial<Record<Condition['kind'], IndexTable>> = {
  token: 'token',
  'token-text': 'token',
  string: 'string',
  date: 'date',
  number: 'number',
  quantity: 'quantity',
  reference: 'reference',
  uri: 'uri',
  composite: 'composite',
};

function tableOf(c: Condition): IndexTable | undefined {
  return TABLE_OF[c.kind];
}

/** One SQL test per ORed value, on the columns of the index table. */
function valueTests(c: Condition): Sql[] {
  switch (c.kind) {
    case 'token':
      return c.values.map(tokenTest).filter((t): t is Sql => t !== undefined);
    case 'token-text':
      return c.values.map((v) => prefixTest('text', v));
    case 'string':
      return c.values.map((v) => {
        if (c.mode === 'exact') return sql`${NORM_KEY} = ${keyOf(normalise(v))} AND exact = ${v}`;
        if (c.mode === 'contains') return sql`norm LIKE ${`%${likeEscape(v)}%`} ESCAPE '\\'`;
        return stringPrefixTest(v);
      });
    case 'date':
      return c.values.map((v) => dateTest(raw('low'), raw('high'), v));
    case 'number':
      return c.values.map((v) => numberTest(raw('value'), v));
    case 'quantity':
      return c.values.map(quantityTest);
    case 'reference':
      return c.values.map((v) => {
        // `url <> ''` lets the database use the partial index on the URLs kept (external ones).
        if (v.url !== undefined) return sql`url = ${v.url} AND url <> ''`;
        return v.type ? sql`target_id = ${v.id ?? ''} AND target_type = ${v.type}` : sql`target_id = ${v.id ?? ''}`;
      });
    case 'uri':
      return c.values.map((v) => {
        if (c.mode === 'below') return uriBelowTest(v);
        if (c.mode === 'above') return sql`uri ${in_(uriAncestors(v))}`;
        return sql`uri = ${v}`;
      });
    case 'composite':
      return c.values.map(compositeTest);
    default:
      return [];
  }
}

/** The first component by (code1, system1); the second by the columns its type fills. */
function compositeTest(v: CompositeValue): Sql {
  const parts: Sql[] = [];
  if (v.first.code !== undefined) parts.push(sql`code1 = ${v.first.code}`);
  if (v.first.system === null) parts.push(raw('system1 IS NULL'));
  else if (v.first.system !== undefined) parts.push(sql`system1 = ${v.first.system}`);
  const s = v.second;
  switch (s.kind) {
    case 'token':
      if (s.value.code !== undefined) parts.push(sql`code2 = ${s.value.code}`);
      if (s.value.system === null) parts.push(raw('system2 IS NULL'));
      else if (s.value.system !== undefined) parts.push(sql`system2 = ${s.value.system}`);
      break;
    case 'number':
      parts.push(numberTest(raw('low2'), s.value));
      break;
    case 'quantity': {
      const q = s.value;
      if (q.canon) {
        parts.push(sql`unit2 = ${q.canon.unit}`, numberTest(raw('canon2'), { ...q, value: q.canon.value, low: q.canon.low, high: q.canon.high }));
      } else {
        parts.push(numberTest(raw('low2'), q));
        if (q.code !== undefined) parts.push(sql`code2 = ${q.code}`);
        if (q.system !== undefined) parts.push(sql`system2 = ${q.system}`);
      }
      break;
    }
    case 'date':
      parts.push(dateTest(raw('low2'), raw('high2'), s.value));
      break;
    case 'string':
      parts.push(prefixTest('norm2', s.value));
      break;
  }
  return join(parts, ' AND ');
}

export function tokenTest(v: TokenValue): Sql | undefined {
  const parts: Sql[] = [];
  if (v.code !== undefined) parts.push(sql`code = ${v.code}`);
  if (v.system === null) parts.push(raw('system IS NULL'));
  else if (v.system !== undefined) parts.push(sql`system = ${v.system}`);
  return parts.length ? join(parts, ' AND ') : undefined;
}

/** The indexed key of a folded string: its first 100 characters (idx_string_prefix). */
const NORM_KEY = raw('substr(norm, 1, 100)');
const keyOf = (folded: string) => [...folded].slice(0, 100).join('');

/** A folded prefix, through the index on the key, checked on the whole value when longer than the key. */
function stringPrefixTest(prefix: string): Sql {
  if (!prefix) return raw('norm IS NOT NULL');
  const key = keyOf(prefix);
  if (key === prefix) return sql`${NORM_KEY} >= ${prefix} AND ${NORM_KEY} < ${prefixUpperBound(prefix)}`;
  return sql`${NORM_KEY} = ${key} AND norm >= ${prefix} AND norm < ${prefixUpperBound(prefix)}`;
}

function prefixTest(column: string, prefix: string): Sql {
  const col = raw(column);
  if (!prefix) return sql`${col} IS NOT NULL`;
  return sql`${col} >= ${prefix} AND ${col} < ${prefixUpperBound(prefix)}`;
}

/** `:below` by path segments: the URI itself, or anything under `uri/`. */
function uriBelowTest(v: string): Sql {
  const base = v.endsWith('/') ? v.slice(0, -1) : v;
  return sql`(uri = ${base} OR (uri >= ${`${base}/`} AND uri < ${`${base}0`}))`;
}

/** `http://a/b/c` is `:above` `http://a/b/c`, `http://a/b` and `http://a`. */
export function uriAncestors(uri: string): string[] {
  const out = [uri];
  const scheme = uri.indexOf('://');
  let cut = uri.lastIndexOf('/');
  while (scheme >= 0 && cut > scheme + 2) {
    out.push(uri.slice(0, cut));
    cut = uri.lastIndexOf('/', cut - 1);
  }
  return out;
}

/**
 * A date test with STU3 prefix semantics, over a stored range [low, high] and a search
 * range [v.low, v.high] (both inclusive). https://hl7.org/fhir/STU3/search.html#prefix
 */
export function dateTest(low: Sql, high: Sql, v: DateValue): Sql {
  switch (v.prefix) {
    case 'eq':
      // Within the value's range. `low <= v.high` follows for any range whose low is not past its high,
      // and bounds the scan of the index on low from both sides.
      return sql`(${low} >= ${v.low} AND ${low} <= ${v.high} AND ${high} <= ${v.high})`;
    case 'ne':
      return sql`(${low} < ${v.low} OR ${high} > ${v.high})`;
    case 'gt':
      return sql`${high} > ${v.high}`;
    case 'lt':
      return sql`${low} < ${v.low}`;
    case 'ge':
      return sql`(${high} > ${v.high} OR (${low} >= ${v.low} AND ${high} <= ${v.high}))`;
    case 'le':
      return sql`(${low} < ${v.low} OR (${low} >= ${v.low} AND ${high} <= ${v.high}))`;
    case 'sa':
      return sql`${low} > ${v.high}`;
    case 'eb':
      return sql`${high} < ${v.low}`;
    case 'ap':
      // The parser has already widened the range (search/parse/values.ts): here it is an overlap.
      return sql`(${low} <= ${v.high} AND ${high} >= ${v.low})`;
  }
}

/** Number tests: equality is within the precision the value was written with. */
export function numberTest(column: Sql, v: NumberValue): Sql {
  switch (v.prefix) {
    case 'eq':
      return sql`(${column} >= ${v.low} AND ${column} < ${v.high})`;
    case 'ne':
      return sql`(${column} < ${v.low} OR ${column} >= ${v.high})`;
    case 'gt':
    case 'sa':
      return sql`${column} > ${v.value}`;
    case 'lt':
    case 'eb':
      return sql`${column} < ${v.value}`;
    case 'ge':
      return sql`${column} >= ${v.value}`;
    case 'le':
      return sql`${column} <= ${v.value}`;
    case 'ap':
      return sql`(${column} >= ${v.value - Math.abs(v.value) * 0.1} AND ${column} <= ${v.value + Math.abs(v.value) * 0.1})`;
  }
}

/** Quantity: UCUM-canonical comparison where the unit allows it, else as written. */
function quantityTest(v: QuantityValue): Sql {
  if (v.canon) {
    const canon = { ...v, value: v.canon.value, low: v.canon.low, high: v.canon.high };
    return sql`canon_unit = ${v.canon.unit} AND ${numberTest(raw('canon_value'), canon)}`;
  }
  const parts = [numberTest(raw('value'), v)];
  // With a system, the code must match; without one, the code or the human-readable unit (STU3 search.html#quantity).
  if (v.code !== undefined) parts.push(v.system !== undefined ? sql`code = ${v.code}` : sql`(code = ${v.code} OR unit = ${v.code})`);
  if (v.system !== undefined) parts.push(sql`system = ${v.system}`);
  return join(parts, ' AND ');
}

function or(parts: Sql[]): Sql {
  if (!parts.length) return FALSE;
  return parts.length === 1 ? parts[0]! : sql`(${joinShallow(parts, ' OR ')})`;
}

/** `subject:Patient.name=x`: the reference points at one of the resources the chain's inner search found (Resolved). */
function compileChain(c: Extract<Condition, { kind: 'chain' }>, a: Sql, types: string[], ctx: CompileContext, mode: Mode): Sql {
  const pids = ctx.pids(types, c.param);
  if (!pids.length || !c.targetTypes.length) return FALSE;
  const targets = resolvedOf(c, ctx);
  if (!targets.length) return FALSE;
  const test = byType(targets, (type, ids) => sql`target_type = ${type} AND target_id ${inValues(ids, ctx)}`);
  if (mode === 'probe') return sql`EXISTS (SELECT 1 FROM idx_reference WHERE rid = ${a}.rid AND pid ${inList(pids)} AND ${test})`;
  return sql`${a}.rid IN (SELECT rid FROM idx_reference WHERE pid ${inList(pids)} AND ${test}${guardOf(ctx)})`;
}

/** `_has:Observation:patient:code=x`: this resource is one that the matches of the inner search refer to (Resolved). */
function compileHas(c: Extract<Condition, { kind: 'has' }>, a: Sql, types: string[], ctx: CompileContext): Sql {
  const targets = resolvedOf(c, ctx).filter((t) => types.includes(t.type));
  if (!targets.length) return FALSE;
  // The row's type is one of `types`: with one, its id alone is the test (through the (type, id) key).
  return byType(targets, (type, ids) => (types.length === 1 ? sql`${a}.id ${inValues(ids, ctx)}` : sql`${a}.type = ${type} AND ${a}.id ${inValues(ids, ctx)}`));
}

/** `= ?` for one value; for several, the dialect's test against them all bound as one value, whatever their number (Dialect.anyOf). */
function inValues(values: readonly string[], ctx: Pick<CompileContext, 'dialect'>): Sql {
  return values.length === 1 ? sql`= ${values[0]!}` : ctx.dialect.anyOf(values);
}

function resolvedOf(c: Condition, ctx: CompileContext): readonly Target[] {
  const targets = ctx.resolved.get(c);
  // Run by the store before compiling (store/sql/inner-searches.ts).
  if (!targets) throw new Error(`the inner search of ${c.kind} must be run before compiling`);
  return targets;
}

/** One test per type of `targets`, given the type and its ids; ORed when there are several. */
function byType(targets: readonly Target[], test: (type: string, ids: string[]) => Sql): Sql {
  const ids = new Map<string, string[]>();
  for (const t of targets) {
    const list = ids.get(t.type);
    if (list) list.push(t.id);
    else ids.set(t.type, [t.id]);
  }
  const parts = [...ids].map(([type, list]) => test(type, list));
  return parts.length === 1 ? parts[0]! : sql`(${joinShallow(parts.map((p) => sql`(${p})`), ' OR ')})`;
}

/** `_text` and `_content`: every word must start a word of the narrative (or of any text in the resource). */
function compileText(c: Extract<Condition, { kind: 'text' }>, a: Sql, ctx: CompileContext): Sql {
  if (!c.values.length) return FALSE;
  return sql`${a}.rid IN (${ctx.dialect.textMatch(c.content ? 'content' : 'narrative', c.values)})`;
}
