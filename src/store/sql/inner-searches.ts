import { FhirError, issue } from '../../fhir/outcome.js';
import type { Access } from '../../search/access.js';
import type { Sql } from '../../search/compile/builder.js';
import { compileHasInnerSearch, compileInnerSearch } from '../../search/compile/compile.js';
import type { Resolved, Target } from '../../search/compile/conditions.js';
import type { Dialect } from '../../search/compile/dialect.js';
import type { Condition, SearchPlan } from '../../search/plan.js';
import type { SqlConnection, SqlValue } from './driver.js';
import type { ParamIds } from './param-ids.js';

/**
 * The most resources the inner search of one chain or `_has` may match by default (issue 15,
 * "queries cannot run away"; CCRI_INNER_SEARCH_MAX), and the most it may be set to. At
 * 10,000, reading an inner search to the bound costs some tens of milliseconds (docs/limits.md),
 * and one practitioner's patients, one organisation's practitioners or the patients with a
 * rare condition pass; a code, a status or a gender across a population does not. The list
 * goes into the search as one bound value (Dialect.anyOf), so its length is not bounded by
 * the values of a statement; past 100,000 the rows read and held would be the cost again.
 */
export const INNER_SEARCH_MAX = 10_000;
export const INNER_SEARCH_MAX_SETTING = 100_000;

/**
 * Runs the inner searches of a plan's chains and `_has`, innermost first, each on its own
 * and narrowed to `access` (compileInnerSearch), before the plan itself: their matches go
 * into its SQL as lists (compileSearch's `resolved`). Each inner search reads at most `max`
 * + 1 matches (a `_has`'s, with their references: at most 2 × (`max` + 1) rows): one that
 * matches more than `max` resources, or whose matches hold more than `max` references,
 * refuses the search with a 400 too-costly naming the parameter. The work of a chain or
 * `_has` is so bounded at each level, not by how much of the store its inner search matches.
 * As the inner search sees only what the caller may see, whether the bound is passed says
 * nothing of anything else.
 */
export async function runInnerSearches(conn: SqlConnection, pids: ParamIds, dialect: Dialect, plan: SearchPlan, access: Access, max: number): Promise<Resolved> {
  const resolved = new Map<Condition, readonly Target[]>();
  const lookup = (types: string[], code: string) => pids.lookup(types, code);
  const rows = <T>(q: Sql) => conn.all<T>(q.text, q.params as SqlValue[]);

  /** `c` under a resource row of `types`; `top` is the parameter of the plan that holds it. */
  const visit = async (c: Condition, types: string[], top: Condition): Promise<void> => {
    switch (c.kind) {
      case 'or':
        for (const x of c.any) await visit(x, types, top);
        return;
      case 'for-type':
        return visit(c.where, [c.type], top);
      case 'chain': {
        // A chain through a parameter the types do not have is false without looking (conditions.ts, compileChain).
        if (!lookup(types, c.param).length || !c.targetTypes.length) {
          resolved.set(c, []);
          return;
        }
        await visit(c.where, c.targetTypes, top);
        const found = await rows<{ type: string; id: string }>(compileInnerSearch(c.targetTypes, c.where, access, lookup, dialect, resolved, max + 1));
        if (found.length > max) throw tooBroad(c, types, top, max);
        resolved.set(c, found.map((r) => ({ type: r.type, id: r.id })));
        return;
      }
      case 'has': {
        const refPids = lookup([c.type], c.param);
        if (!refPids.length) {
          resolved.set(c, []);
          return;
        }
        await visit(c.where, [c.type], top);
        const found = await rows<{ rid: number | string; target_type: string | null; target_id: string | null }>(
          compileHasInnerSearch(c.type, c.where, refPids, types, access, lookup, dialect, resolved, max + 1),
        );
        const matches = new Set(found.map((r) => String(r.rid)));
        if (matches.size > max) throw tooBroad(c, types, top, max);
        const refs = found.filter((r) => r.target_type !== null && r.target_id !== null);
        // The rows stop at 2 × (max + 1), a row per reference or per match without one: cut there, the one or the other passed the bound.
        if (refs.length > max) throw tooBroad(c, types, top, max, true);
        const targets = new Map(refs.map((r) => [`${r.target_type}/${r.target_id}`, { type: r.target_type!, id: r.target_id! }]));
        resolved.set(c, [...targets.values()]);
        return;
      }
      default:
        return;
    }
  };
  for (const c of plan.where) await visit(c, plan.types, c);
  return resolved;
}

/**
 * The refusal of an inner search past the bound. It names the parameter as written and the
 * level that passed it, and says how to ask instead; it gives no count (the count is of
 * what the caller may see only, but the bound is all a client needs).
 */
function tooBroad(c: Extract<Condition, { kind: 'chain' | 'has' }>, types: string[], top: Condition, max: number, referred = false): FhirError {
  const param = nameOf(top);
  const level = nameOf(c);
  const of = level === param ? 'the' : `the ${level}`;
  const bound = String(max).replace(/\B(?=(\d{3})+$)/g, ',');
  const outer = types[0]!;
  const inner = `${c.kind === 'chain' ? c.targetTypes.join(',') : c.type}?${nameOf(c.where)}=…`;
  const limit = `a chain or _has may follow at most ${bound} on this server`;
  const text =
    c.kind === 'chain'
      ? `${param}: more than ${bound} ${c.targetTypes.join(',')} resources match ${of} chain's inner search (${inner}); ${limit}. ` +
        `Give it a more specific value, or search the other way round (${inner}&_has:${outer}:${c.param}:…)`
      : referred
        ? `${param}: the matches of ${of} _has's inner search (${inner}) hold more than ${bound} references to ${types.join(',')} by ${c.param}; ${limit}. Give it a more specific value`
        : `${param}: more than ${bound} ${c.type} resources match ${of} _has's inner search (${inner}); ${limit}. ` +
          `Give it a more specific value, or search the other way round (${inner}&${c.param}:${outer}.…=…)`;
  return new FhirError(400, issue('too-costly', text, param));
}

/** A condition's parameter name as a client would write it (the value left out): `subject:Patient.gender`, `_has:Observation:patient:code`. */
export function nameOf(c: Condition): string {
  switch (c.kind) {
    case 'chain':
      return `${c.param}:${c.targetTypes.join(',')}.${nameOf(c.where)}`;
    case 'has':
      return `_has:${c.type}:${c.param}:${nameOf(c.where)}`;
    case 'or':
      return c.any.length ? nameOf(c.any[0]!) : '';
    case 'for-type':
      return nameOf(c.where);
    case 'id':
      return c.not ? '_id:not' : '_id';
    case 'lastUpdated':
      return '_lastUpdated';
    case 'text':
      return c.content ? '_content' : '_text';
    case 'missing':
      return `${c.param}:missing`;
    case 'token':
      return c.not ? `${c.param}:not` : c.param;
    case 'token-text':
      return `${c.param}:text`;
    case 'token-set':
      return `${c.param}:${c.relation}`;
    case 'string':
    case 'uri':
      return c.mode === 'exact' || c.mode === 'prefix' || c.mode === 'eq' ? c.param : `${c.param}:${c.mode}`;
    case 'compartment':
    case 'compartments':
    case 'none':
      return '';
    default:
      return c.param;
  }
}
