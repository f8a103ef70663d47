import type { ConformanceSource, ValueSet } from '../fhir/conformance.js';
import { type CodeSystemIndex, descendants, indexCodeSystem, isSnomedId, lookup } from './code-systems.js';

/**
 * Value set membership without a terminology server. A value set is expanded once
 * (per source) from what the server holds: `compose.include` with explicit
 * `concept` lists, whole code systems, other value sets, and `is-a` /
 * `descendent-of` filters over the hierarchy of a known code system. What cannot
 * be enumerated is kept as "any code of this system" so that it never causes a
 * false error: SNOMED CT filters (the server has no SNOMED CT) accept any code
 * of valid SCTID form, other unknown systems or filters accept any code of the
 * system. https://hl7.org/fhir/STU3/valueset.html#compose
 */

export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';

export interface Expansion {
  url: string;
  name: string;
  /** system -> codes listed explicitly (or enumerated from a known code system). */
  codes: Map<string, Set<string>>;
  /** Systems of which any code is accepted (not enumerable here). */
  open: Set<string>;
  /** Systems included only partly by a filter that could not be evaluated. */
  partial: Set<string>;
  /** Some part could not be resolved (an unknown value set, an include without a system). */
  incomplete: boolean;
  /**
   * The parts not enumerated here that a terminology server might answer for: an include of a
   * code system this server does not hold (whole, or by a filter), or of a value set it does not know.
   */
  remote: RemotePart[];
}

/** A part of a value set this server cannot enumerate: one `compose.include` of a code system (as written), or a value set by URL. */
export type RemotePart = { system: string; include: Record<string, unknown> } | { valueSet: string };

/** The remote parts that could hold a code of `system`: its includes, and the value sets unknown here. */
export function remotePartsFor(exp: Expansion, system: string | undefined): RemotePart[] {
  return exp.remote.filter((p) => ('valueSet' in p ? true : p.system === system));
}

export type Member = 'yes' | 'no' | 'unknown';

interface Include {
  system?: string;
  concept?: Array<{ code?: string }>;
  filter?: Array<{ property?: string; op?: string; value?: string }>;
  valueSet?: string[];
}

export class Terminology {
  private readonly expansions = new Map<string, Expansion | null>();
  private readonly systems = new Map<string, CodeSystemIndex | null>();

  constructor(private readonly source: ConformanceSource) {}

  /** The code system, indexed, or undefined when the server does not hold it. */
  codeSystem(url: string): CodeSystemIndex | undefined {
    let cs = this.systems.get(url);
    if (cs === undefined) {
      const raw = this.source.codeSystem(url);
      cs = raw ? indexCodeSystem(raw) : null;
      // Coding.system comes from requests: unknown systems are remembered only up to a point.
      if (cs || this.systems.size < 10_000) this.systems.set(url, cs);
    }
    return cs ?? undefined;
  }

  /** The expansion of a value set, or undefined when the value set is unknown. */
  expansion(url: string): Expansion | undefined {
    const hit = this.expansions.get(url);
    if (hit) return hit;
    const bare = url.split('|')[0]!;
    let exp = this.expansions.get(bare);
    if (exp === undefined) {
      this.expansions.set(bare, null); // a cycle resolves to "unknown"
      const vs = this.source.valueSet(bare);
      exp = vs ? this.expand(vs) : null;
      if (exp || this.expansions.size < 10_000) this.expansions.set(bare, exp);
      else this.expansions.delete(bare);
    }
    return exp ?? undefined;
  }

  /** The ValueSet resource with this canonical URL, as the server holds it. */
  valueSet(url: string): ValueSet | undefined {
    return this.source.valueSet(url.split('|')[0]!);
  }

  /** The expansion of a ValueSet given as a resource (not cached: it may be anyone's). */
  expandResource(vs: ValueSet): Expansion {
    return this.expand(vs);
  }

  /** Whether `code` (in `system`, or in any system when none is given) is in the value set. */
  contains(exp: Expansion, system: string | undefined, code: string): Member {
    if (system === undefined) {
      for (const codes of exp.codes.values()) if (codes.has(code)) return 'yes';
      return exp.open.size || exp.partial.size || exp.incomplete ? 'unknown' : 'no';
    }
    if (exp.codes.get(system)?.has(code)) return 'yes';
    const cs = this.codeSystem(system);
    if (cs && !cs.caseSensitive && exp.codes.get(system)) {
      for (const c of exp.codes.get(system)!) if (c.toLowerCase() === code.toLowerCase()) return 'yes';
    }
    if (system === SNOMED && (exp.open.has(system) || exp.partial.has(system))) return isSnomedId(code) ? 'unknown' : 'no';
    if (exp.open.has(system) || exp.partial.has(system)) return 'unknown';
    return exp.incomplete ? 'unknown' : 'no';
  }

  private expand(vs: ValueSet): Expansion {
    const exp: Expansion = {
      url: vs.url,
      name: typeof vs.title === 'string' ? vs.title : typeof vs.name === 'string' ? vs.name : vs.url,
      codes: new Map(),
      open: new Set(),
      partial: new Set(),
      incomplete: false,
      remote: [],
    };
    const compose = vs.compose as { include?: Include[]; exclude?: Include[] } | undefined;
    if (compose?.include) {
      for (const inc of compose.include) this.include(exp, inc);
      for (const exc of compose.exclude ?? []) {
        if (!exc.system || exc.filter?.length) continue; // exclusions by filter are not applied (lenient)
        for (const c of exc.concept ?? []) if (c.code) exp.codes.get(exc.system)?.delete(c.code);
      }
    } else {
      const expansion = vs.expansion as { contains?: ExpansionItem[] } | undefined;
      if (expansion?.contains) addContains(exp, expansion.contains);
      else {
        exp.incomplete = true;
        if (typeof vs.url === 'string') addRemote(exp, { valueSet: vs.url });
      }
    }
    return exp;
  }

  private include(exp: Expansion, inc: Include): void {
    for (const url of inc.valueSet ?? []) {
      const other = this.expansion(url);
      if (!other) {
        exp.incomplete = true;
        if (typeof url === 'string') addRemote(exp, { valueSet: url.split('|')[0]! });
      } else merge(exp, other);
    }
    const system = inc.system;
    if (!system) {
      if (!inc.valueSet?.length) exp.incomplete = true;
      return;
    }
    if (inc.concept?.length) {
      const codes = codesOf(exp, system);
      for (const c of inc.concept) if (typeof c.code === 'string') codes.add(c.code);
      return;
    }
    const cs = this.codeSystem(system);
    if (inc.filter?.length) {
      if (!cs || !cs.complete) {
        exp.partial.add(system);
        addRemote(exp, { system, include: asWritten(inc) });
        return;
      }
      let selected: Set<string> | undefined;
      for (const f of inc.filter) {
        const codes = filterCodes(cs, f);
        if (!codes) {
          exp.partial.add(system);
          addRemote(exp, { system, include: asWritten(inc) });
          return;
        }
        selected = selected ? new Set([...selected].filter((c) => codes.has(c))) : codes;
      }
      const codes = codesOf(exp, system);
      for (const c of selected ?? []) codes.add(c);
      return;
    }
    if (cs?.complete) {
      const codes = codesOf(exp, system);
      for (const code of cs.concepts.keys()) codes.add(code);
    } else {
      exp.open.add(system);
      addRemote(exp, { system, include: asWritten(inc) });
    }
  }
}

/** An include as the value set wrote it, without the value sets it names (those are parts of their own). */
function asWritten(inc: Include): Record<string, unknown> {
  const { valueSet: _valueSet, ...rest } = inc as Include & Record<string, unknown>;
  return rest;
}

/** The most remote parts one expansion keeps (value sets are definitions, but a request may send one). */
const MAX_REMOTE_PARTS = 100;

function addRemote(exp: Expansion, part: RemotePart): void {
  const key = JSON.stringify(part);
  if (exp.remote.length >= MAX_REMOTE_PARTS || exp.remote.some((p) => JSON.stringify(p) === key)) return;
  exp.remote.push(part);
}

interface ExpansionItem {
  system?: string;
  code?: string;
  contains?: ExpansionItem[];
}

function addContains(exp: Expansion, items: ExpansionItem[]): void {
  for (const item of items) {
    if (item.system && item.code) codesOf(exp, item.system).add(item.code);
    if (item.contains) addContains(exp, item.contains);
  }
}

function codesOf(exp: Expansion, system: string): Set<string> {
  let codes = exp.codes.get(system);
  if (!codes) {
    codes = new Set();
    exp.codes.set(system, codes);
  }
  return codes;
}

function merge(into: Expansion, other: Expansion): void {
  for (const [system, codes] of other.codes) {
    const target = codesOf(into, system);
    for (const c of codes) target.add(c);
  }
  for (const s of other.open) into.open.add(s);
  for (const s of other.partial) into.partial.add(s);
  if (other.incomplete) into.incomplete = true;
  for (const p of other.remote) addRemote(into, p);
}

/** The codes a filter selects, or undefined when it cannot be evaluated here. */
function filterCodes(cs: CodeSystemIndex, f: { property?: string; op?: string; value?: string }): Set<string> | undefined {
  if (f.property !== 'concept' || typeof f.value !== 'string') return undefined;
  if (f.op === 'is-a') return new Set(descendants(cs, f.value, true));
  if (f.op === 'descendent-of') return new Set(descendants(cs, f.value, false));
  if (f.op === '=' && lookup(cs, f.value)) return new Set([f.value]);
  return undefined;
}
