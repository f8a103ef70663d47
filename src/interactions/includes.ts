import { parseJson } from '../fhir/json.js';
import { compilePath, type PathFn } from '../search/paths.js';
import type { IncludeSpec } from '../search/parse/query.js';
import { parseReference } from '../search/references.js';
import type { SearchRegistry } from '../search/registry.js';
import type { Condition } from '../search/plan.js';
import type { StoreReader, StoredVersion } from '../store/store.js';

/** At most this many included resources per page, and this many :iterate rounds. */
const MAX_INCLUDED = 1000;
const MAX_ROUNDS = 4;

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
): Promise<StoredVersion[]> {
  const seen = new Set(matches.map(key));
  const included: StoredVersion[] = [];
  let frontier = matches;
  for (let round = 0; round < MAX_ROUNDS && frontier.length && included.length < MAX_INCLUDED; round++) {
    const fresh: StoredVersion[] = [];
    const add = (v: StoredVersion) => {
      if (seen.has(key(v)) || included.length + fresh.length >= MAX_INCLUDED) return;
      seen.add(key(v));
      fresh.push(v);
    };
    const forward = includes.filter((s) => round === 0 || s.iterate);
    const backward = revincludes.filter((s) => round === 0 || s.iterate);
    // Another request's turn between rounds (SQLite's driver does not yield by itself).
    if (round > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const v of await forwardTargets(reader, registry, frontier, forward, baseUrl)) add(v);
    for (const v of await backwardSources(reader, registry, frontier, backward)) add(v);
    included.push(...fresh);
    frontier = fresh;
  }
  return included;
}

async function forwardTargets(reader: StoreReader, registry: SearchRegistry, from: StoredVersion[], specs: IncludeSpec[], baseUrl: string): Promise<StoredVersion[]> {
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
    const page = await reader.search({ types: [type], where: [{ kind: 'id', values: [...ids] }], sort: [], count: MAX_INCLUDED, offset: 0, total: false });
    out.push(...page.rows);
  }
  return out;
}

/**
 * The resources referring to `to` through the specs' parameters: one search per source
 * type, its parameters ORed (so `_revinclude=*` is one query per type that can refer to
 * the matches, not one per parameter).
 */
async function backwardSources(reader: StoreReader, registry: SearchRegistry, to: StoredVersion[], specs: IncludeSpec[]): Promise<StoredVersion[]> {
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
      const page = await reader.search({
        types: [type],
        where: [any.length === 1 ? any[0]! : { kind: 'or', any }],
        sort: [],
        count: MAX_INCLUDED,
        offset: 0,
        total: false,
      });
      out.push(...page.rows);
    }
  }
  return out;
}
