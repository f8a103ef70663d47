import type { CodeSystem } from '../fhir/conformance.js';

/**
 * A CodeSystem indexed for lookups: its codes, their displays and designations,
 * and the is-a hierarchy (nested concepts, or the `parent` / `subsumedBy`
 * properties). https://hl7.org/fhir/STU3/codesystem.html
 */
export interface Concept {
  code: string;
  display?: string;
  /** Every display and designation value, lower-cased (for display checks). */
  names: Set<string>;
  /** The designations as the code system gives them. */
  designations?: Designation[];
  children: Concept[];
  /** Whether the concept is abstract (`notSelectable`). */
  abstract?: boolean;
}

export interface Designation {
  language?: string;
  use?: { system?: string; code?: string; display?: string };
  value: string;
}

export interface CodeSystemIndex {
  url: string;
  name: string;
  /** `content` is complete: a code not listed is not in the system. */
  complete: boolean;
  caseSensitive: boolean;
  concepts: Map<string, Concept>;
  /** Lower-cased codes, for systems that are not case-sensitive. */
  folded: Map<string, Concept>;
}

interface RawConcept {
  code?: unknown;
  display?: unknown;
  designation?: Array<{ value?: unknown; language?: unknown; use?: unknown }>;
  property?: Array<{ code?: unknown; valueCode?: unknown; valueBoolean?: unknown }>;
  concept?: RawConcept[];
}

export function indexCodeSystem(cs: CodeSystem): CodeSystemIndex {
  const concepts = new Map<string, Concept>();
  const parents: Array<[Concept, string]> = [];
  const add = (raw: RawConcept, parent: Concept | undefined): void => {
    if (typeof raw.code !== 'string') return;
    const c: Concept = { code: raw.code, names: new Set(), children: [] };
    if (typeof raw.display === 'string') {
      c.display = raw.display;
      c.names.add(normalise(raw.display));
    }
    for (const d of raw.designation ?? []) {
      if (typeof d.value !== 'string') continue;
      c.names.add(normalise(d.value));
      (c.designations ??= []).push({
        ...(typeof d.language === 'string' ? { language: d.language } : {}),
        ...(d.use && typeof d.use === 'object' ? { use: d.use as Designation['use'] } : {}),
        value: d.value,
      });
    }
    for (const p of raw.property ?? []) {
      if ((p.code === 'notSelectable' || p.code === 'abstract') && p.valueBoolean === true) c.abstract = true;
      if ((p.code === 'parent' || p.code === 'subsumedBy') && typeof p.valueCode === 'string') parents.push([c, p.valueCode]);
    }
    if (!concepts.has(c.code)) concepts.set(c.code, c);
    parent?.children.push(c);
    for (const child of raw.concept ?? []) add(child, c);
  };
  for (const raw of (cs.concept as RawConcept[] | undefined) ?? []) add(raw, undefined);
  for (const [child, parentCode] of parents) concepts.get(parentCode)?.children.push(child);
  const caseSensitive = cs.caseSensitive !== false;
  const folded = new Map<string, Concept>();
  if (!caseSensitive) for (const [code, c] of concepts) folded.set(code.toLowerCase(), c);
  const content = cs.content;
  return {
    url: cs.url,
    name: typeof cs.title === 'string' ? cs.title : typeof cs.name === 'string' ? cs.name : cs.url,
    complete: (content === undefined || content === 'complete') && concepts.size > 0,
    caseSensitive,
    concepts,
    folded,
  };
}

/** The concept with this code, honouring the system's case sensitivity. */
export function lookup(cs: CodeSystemIndex, code: string): Concept | undefined {
  return cs.concepts.get(code) ?? (cs.caseSensitive ? undefined : cs.folded.get(code.toLowerCase()));
}

/** The codes of a concept and everything below it (is-a), or only below it (descendent-of). */
export function descendants(cs: CodeSystemIndex, code: string, includeSelf: boolean): string[] {
  const root = lookup(cs, code);
  if (!root) return [];
  const out: string[] = [];
  const seen = new Set<Concept>();
  const visit = (c: Concept, self: boolean) => {
    if (seen.has(c)) return;
    seen.add(c);
    if (self) out.push(c.code);
    for (const child of c.children) visit(child, true);
  };
  visit(root, includeSelf);
  return out;
}

/** Displays are compared ignoring case and runs of white space. */
export function normalise(display: string): string {
  return display.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * SNOMED CT identifiers: 6-18 digits, no leading zero, the last a Verhoeff check digit.
 * https://confluence.ihtsdotools.org/display/DOCRELFMT/6.1+SCTID+Representation
 */
export function isSnomedId(code: string): boolean {
  if (!/^[1-9]\d{5,17}$/.test(code)) return false;
  let c = 0;
  const digits = code.split('').reverse();
  for (let i = 0; i < digits.length; i++) c = D[c]![P[i % 8]![Number(digits[i])]!]!;
  return c === 0;
}

const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];
