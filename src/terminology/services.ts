import type { CodeSystem, ValueSet } from '../fhir/conformance.js';
import { type CodeSystemIndex, type Concept, type Designation, indexCodeSystem, lookup, normalise } from './code-systems.js';
import type { Expansion, Terminology } from './terminology.js';

/**
 * The terminology services over what the server holds (https://hl7.org/fhir/STU3/terminology-service.html):
 * the concepts of a value set with their displays and designations ($expand), whether a
 * code is in a value set or a code system ($validate-code), what a code system says of a
 * code ($lookup), and what a ConceptMap maps a code to ($translate). Pure: the operations
 * (src/operations/terminology.ts) read the parameters and the store.
 */

export interface ExpandedConcept {
  system: string;
  code: string;
  display?: string;
  designation?: Designation[];
  abstract?: boolean;
}

/** Why a value set cannot be enumerated here, or its concepts in order. */
export type Enumeration = { concepts: ExpandedConcept[] } | { cannot: string };

/** The concepts of a value set (its compose, or the expansion it carries), with displays from it or from the code systems. */
export function enumerate(t: Terminology, vs: ValueSet, exp: Expansion): Enumeration {
  if (exp.open.size || exp.partial.size || exp.incomplete) {
    const systems = [...exp.open, ...exp.partial];
    return { cannot: systems.length ? `it includes codes of ${systems.join(', ')} that this server cannot list (it does not hold the code system, or the filter)` : 'it includes a value set or a part this server does not hold' };
  }
  const stated = statedDetails(t, vs);
  const concepts: ExpandedConcept[] = [];
  for (const [system, codes] of exp.codes) {
    const cs = t.codeSystem(system);
    for (const code of codes) {
      const own = stated.get(`${system}|${code}`);
      const concept = cs ? lookup(cs, code) : undefined;
      const display = own?.display ?? concept?.display;
      const designation = [...(own?.designation ?? []), ...(concept?.designations ?? [])];
      concepts.push({ system, code, ...(display ? { display } : {}), ...(designation.length ? { designation } : {}), ...(concept?.abstract ? { abstract: true } : {}) });
    }
  }
  return { concepts };
}

/** Displays and designations a value set states itself (compose concepts, a carried expansion), through the value sets it includes. */
function statedDetails(t: Terminology, vs: ValueSet, out = new Map<string, { display?: string; designation?: Designation[] }>(), seen = new Set<string>()): Map<string, { display?: string; designation?: Designation[] }> {
  if (seen.has(vs.url)) return out;
  seen.add(vs.url);
  type Raw = { code?: unknown; display?: unknown; designation?: Array<{ value?: unknown; language?: unknown; use?: unknown }> };
  const put = (system: unknown, c: Raw) => {
    if (typeof system !== 'string' || typeof c.code !== 'string') return;
    const key = `${system}|${c.code}`;
    if (out.has(key)) return;
    const designation = (c.designation ?? []).filter((d) => typeof d.value === 'string').map((d) => ({ ...(typeof d.language === 'string' ? { language: d.language } : {}), ...(d.use && typeof d.use === 'object' ? { use: d.use as Designation['use'] } : {}), value: d.value as string }));
    out.set(key, { ...(typeof c.display === 'string' ? { display: c.display } : {}), ...(designation.length ? { designation } : {}) });
  };
  const compose = vs.compose as { include?: Array<{ system?: unknown; concept?: Raw[]; valueSet?: unknown[] }> } | undefined;
  for (const inc of compose?.include ?? []) {
    for (const c of inc.concept ?? []) put(inc.system, c);
    for (const url of inc.valueSet ?? []) {
      const other = typeof url === 'string' ? t.valueSet(url) : undefined;
      if (other) statedDetails(t, other, out, seen);
    }
  }
  const walk = (items: Array<Raw & { system?: unknown; contains?: unknown[] }> | undefined) => {
    for (const item of items ?? []) {
      put(item.system, item);
      walk(item.contains as never);
    }
  };
  walk((vs.expansion as { contains?: never } | undefined)?.contains);
  return out;
}

/** Concepts whose code or display matches a text filter: each word of the filter starts a word of the display, or the filter starts the code. */
export function filterConcepts(concepts: ExpandedConcept[], filter: string): ExpandedConcept[] {
  const words = normalise(filter).split(' ').filter(Boolean);
  if (!words.length) return concepts;
  const lowered = filter.trim().toLowerCase();
  return concepts.filter((c) => {
    if (c.code.toLowerCase().startsWith(lowered)) return true;
    const names = [c.display, ...(c.designation ?? []).map((d) => d.value)].filter((n): n is string => typeof n === 'string');
    return names.some((n) => {
      const have = normalise(n).split(/[\s\-\/(),.]+/).filter(Boolean);
      return words.every((w) => have.some((h) => h.startsWith(w)));
    });
  });
}

/** The answer of a $validate-code. */
export interface CodeCheck {
  result: boolean;
  message?: string;
  display?: string;
  /** True when the server could not decide (the code system is not held): `result` is then false. */
  undecided?: boolean;
}

/** Whether a code is in a value set, and its display right. */
export function checkInValueSet(t: Terminology, exp: Expansion, system: string | undefined, code: string, display: string | undefined): CodeCheck {
  const member = t.contains(exp, system, code);
  const where = `the value set ${exp.url}`;
  const label = system ? `${system}|${code}` : code;
  if (member === 'no') return { result: false, message: `The code ${label} is not in ${where}` };
  if (member === 'unknown') return { result: false, undecided: true, message: `The code ${label} could not be checked against ${where}: it includes codes of ${system ?? 'a code system'} that this server does not hold` };
  const cs = system ? t.codeSystem(system) : undefined;
  const concept = cs ? lookup(cs, code) : undefined;
  return displayCheck(concept, display, label, true);
}

/** Whether a code is in a code system, and its display right. */
export function checkInCodeSystem(cs: CodeSystemIndex, code: string, display: string | undefined): CodeCheck {
  const concept = lookup(cs, code);
  const label = `${cs.url}|${code}`;
  if (!concept) {
    if (!cs.complete) return { result: false, undecided: true, message: `The code ${label} could not be checked: this server holds only part of ${cs.url}` };
    return { result: false, message: `The code ${label} is not in the code system ${cs.url}` };
  }
  return displayCheck(concept, display, label, true);
}

function displayCheck(concept: Concept | undefined, display: string | undefined, label: string, member: boolean): CodeCheck {
  const right = concept?.display;
  if (display !== undefined && concept && concept.names.size && !concept.names.has(normalise(display))) {
    return { result: false, message: `The display '${display}' is not a display of ${label}${right ? `: it is '${right}'` : ''}`, ...(right ? { display: right } : {}) };
  }
  return { result: member, ...(right ? { display: right } : {}) };
}

/** What a code system says of a code: its display, designations, and the codes above and below it. */
export function lookupDetails(cs: CodeSystemIndex, code: string): { concept: Concept; parents: string[] } | undefined {
  const concept = lookup(cs, code);
  if (!concept) return undefined;
  const parents: string[] = [];
  for (const c of cs.concepts.values()) if (c.children.includes(concept)) parents.push(c.code);
  return { concept, parents };
}

/** A CodeSystem resource (one given in a request) indexed as the server's are. */
export function indexGiven(cs: CodeSystem): CodeSystemIndex {
  return indexCodeSystem(cs);
}

export interface TranslateMatch {
  equivalence: string;
  concept?: { system?: string; code?: string; display?: string };
  /** The ConceptMap's url. */
  source?: string;
}

interface Group {
  source?: string;
  target?: string;
  element?: Array<{ code?: string; display?: string; target?: Array<{ code?: string; display?: string; equivalence?: string }> }>;
}

/** The matches a ConceptMap gives a code (or, reversed, the codes it maps to this one). https://hl7.org/fhir/STU3/conceptmap-operations.html#translate */
export function translate(map: Record<string, unknown>, system: string | undefined, code: string, options: { targetSystem?: string; reverse?: boolean } = {}): TranslateMatch[] {
  const url = typeof map.url === 'string' ? map.url : undefined;
  const out: TranslateMatch[] = [];
  for (const g of (Array.isArray(map.group) ? map.group : []) as Group[]) {
    if (options.reverse) {
      if (system !== undefined && g.target !== system) continue;
      if (options.targetSystem && g.source !== options.targetSystem) continue;
      for (const e of g.element ?? []) {
        for (const tgt of e.target ?? []) {
          if (tgt.code !== code) continue;
          out.push({ equivalence: tgt.equivalence ?? 'equivalent', concept: { ...(g.source ? { system: g.source } : {}), ...(e.code ? { code: e.code } : {}), ...(e.display ? { display: e.display } : {}) }, ...(url ? { source: url } : {}) });
        }
      }
      continue;
    }
    if (system !== undefined && g.source !== system) continue;
    if (options.targetSystem && g.target !== options.targetSystem) continue;
    for (const e of g.element ?? []) {
      if (e.code !== code) continue;
      for (const tgt of e.target ?? []) {
        out.push({ equivalence: tgt.equivalence ?? 'equivalent', ...(tgt.code || g.target ? { concept: { ...(g.target ? { system: g.target } : {}), ...(tgt.code ? { code: tgt.code } : {}), ...(tgt.display ? { display: tgt.display } : {}) } } : {}), ...(url ? { source: url } : {}) });
      }
    }
  }
  return out;
}

/** Equivalences that say the concepts do not match. */
export const NOT_A_MATCH: ReadonlySet<string> = new Set(['unmatched', 'disjoint']);
