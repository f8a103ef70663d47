import { parseJson } from '../fhir/json.js';
import { compilePath, type PathFn } from '../search/paths.js';
import type { IncludeSpec } from '../search/parse/query.js';
import { parseReference } from '../search/references.js';
import type { SearchRegistry } from '../search/registry.js';
import type { Condition } from '../search/plan.js';
import type { StoreReader, StoredVersion } from '../store/store.js';

/** At most this many included resources per page, and this many :iterate rounds. */
export const MAX_INCLUDED = 1000;
export const MAX_ROUNDS = 4;
/**
 * At most this many rows read by one page's include queries, kept or not (already seen,
 * or past MAX_INCLUDED): `_revinclude=*` asks every type that can refer to the matches,
 * and each may answer MAX_INCLUDED rows. docs/limits.md.
 */
export const MAX_CONSIDERED = 5000;

/** The included resources of a page, and why they were cut short, when they were. */
export interface Included {
  included: StoredVersion[];
  /** Says what stopped the includes before all were found (a warning for the Bundle). */
  cut?: string;
}

const paths = new Map<string, PathFn>();
function pathOf(expression: string): PathFn {
  let fn = paths.get(expression);
  if (!fn) {
    fn = compilePath(expression);
    paths.set(expression, fn);
  }
  return fn;
}

const key = (v: { type: string; id: string }) => `${v.type}/${v.id}`;

/**
 * `_include` and `_revinclude` (with `:iterate`): the resources the matches refer to,
 * and those referring to the matches. https://hl7.org/fhir/STU3/search.html#include
 */
export async function resolveIncludes(
  reader: StoreReader,
  registry: SearchRegistry,
  matches: StoredVersion[],
  includes: IncludeSpec[],
  revincludes: IncludeSpec[],
  baseUrl: string,
): Promise<Included> {
  const seen = new Set(matches.map(key));
  const included: StoredVersion[] = [];
  const budget: Budget = { left: MAX_CONSIDERED, stopped: false, overflowed: false };
  let cut: string | undefined;
  const overflow = `The included resources were cut at ${MAX_INCLUDED}: this page's _include and _revinclude found more. Ask for fewer matches a page (_count) to see them all.`;
  let frontier = matches;
  let round = 0;
  for (; round < MAX_ROUNDS && frontier.length && !cut; round++) {
    const fresh: StoredVersion[] = [];
    const add = (v: StoredVersion) => {
      if (seen.has(key(v))) return;
      if (included.length + fresh.length >= MAX_INCLUDED) {
        cut ??= overflow;
        return;
      }
      seen.add(key(v));
      fresh.push(v);
    };
    const forward = includes.filter((s) => round === 0 || s.iterate);
    const backward = revincludes.filter((s) => round === 0 || s.iterate);
    if (!forward.length && !backward.length) break;
    // Another request's turn between rounds (SQLite's driver does not yield by itself).
    if (round > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const v of await forwardTargets(reader, registry, frontier, forward, baseUrl, budget)) add(v);
    for (const v of await backwardSources(reader, registry, frontier, backward, budget)) add(v);
    if (budget.overflowed) cut ??= overflow;
    if (budget.stopped) cut ??= `The _include and _revinclude of this page stopped after reading ${MAX_CONSIDERED} rows: the included resources may be incomplete. Ask for fewer matches a page (_count) or fewer includes.`;
    included.push(...fresh);
    frontier = fresh;
  }
  // :iterate rounds left with resources to follow from.
  if (!cut && round === MAX_ROUNDS && frontier.length && [...includes, ...revincludes].some((s) => s.iterate)) {
    cut = `_include:iterate and _revinclude:iterate stop after ${MAX_ROUNDS} rounds: the included resources may be incomplete.`;
  }
  return cut ? { included, cut } : { included };
}

/** What one page's include queries may still read, and whether one of them was stopped short by it. */
interface Budget {
  left: number;
  stopped: boolean;
  /** A query found more than MAX_INCLUDED. */
  overflowed: boolean;
}

/** The rows the next query may read; 0 (and stopped) when the budget is spent. */
function take(budget: Budget): number {
  const count = Math.max(0, Math.min(MAX_INCLUDED, budget.left));
  if (!count) budget.stopped = true;
  return count;
}

/** Charges a query's rows to the budget; a query that had more than the budget let it read stopped short. */
function charge(budget: Budget, count: number, page: { rows: unknown[]; more: boolean }): void {
  budget.left -= page.rows.length;
  if (page.more && count < MAX_INCLUDED) budget.stopped = true;
  else if (page.more) budget.overflowed = true;
}

async function forwardTargets(reader: StoreReader, registry: SearchRegistry, from: StoredVersion[], specs: IncludeSpec[], baseUrl: string, budget: Budget): Promise<StoredVersion[]> {
  if (!specs.length) return [];
  const wanted = new Map<string, Set<string>>();
  for (const v of from) {
    const specsHere = specs.filter((s) => s.sourceType === v.type || (s.wildcard && s.sourceType === '*'));
    if (!specsHere.length || !v.json) continue;
    const resource = parseJson(v.json) as Record<string, unknown>;
    for (const spec of specsHere) {
      const params = spec.wildcard
        ? registry.params(v.type).filter((p) => p.type === 'reference' && p.expression)
        : [registry.param(v.type, spec.param)].filter((p) => p?.expression);
      for (const p of params) {
        for (const { value } of pathOf(p!.expression!)(resource)) {
          const ref = typeof value === 'object' && value !== null ? (value as { reference?: unknown }).reference : undefined;
          if (typeof ref !== 'string') continue;
          const target = parseReference(ref, baseUrl);
          if (!target.type || !target.id || (spec.targetType && spec.targetType !== target.type)) continue;
          if (!wanted.has(target.type)) wanted.set(target.type, new Set());
          wanted.get(target.type)!.add(target.id);
        }
      }
    }
  }
  const out: StoredVersion[] = [];
  for (const [type, ids] of wanted) {
    const count = take(budget);
    if (!count) break;
    const page = await reader.search({ types: [type], where: [{ kind: 'id', values: [...ids] }], sort: [], count, offset: 0, total: false });
    charge(budget, count, page);
    out.push(...page.rows);
  }
  return out;
}

/**
 * The resources referring to `to` through the specs' parameters: one search per source
 * type, its parameters ORed (so `_revinclude=*` is one query per type that can refer to
 * the matches, not one per parameter).
 */
async function backwardSources(reader: StoreReader, registry: SearchRegistry, to: StoredVersion[], specs: IncludeSpec[], budget: Budget): Promise<StoredVersion[]> {
  const out: StoredVersion[] = [];
  for (const spec of specs) {
    const types = spec.sourceType === '*' ? registry.types() : [spec.sourceType];
    for (const type of types) {
      const params = spec.wildcard ? registry.params(type).filter((p) => p.type === 'reference' && p.expression) : [registry.param(type, spec.param)!];
      const any: Condition[] = [];
      for (const p of params) {
        const targets = to.filter((v) => !p.targets || p.targets.includes(v.type)).filter((v) => !spec.targetType || v.type === spec.targetType);
        if (targets.length) any.push({ kind: 'reference', param: p.code, values: targets.map((v) => ({ type: v.type, id: v.id })) });
      }
      if (!any.length) continue;
      const count = take(budget);
      if (!count) return out;
      const page = await reader.search({
        types: [type],
        where: [any.length === 1 ? any[0]! : { kind: 'or', any }],
        sort: [],
        count,
        offset: 0,
        total: false,
      });
      charge(budget, count, page);
      out.push(...page.rows);
    }
  }
  return out;
}
