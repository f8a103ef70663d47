/**
 * The small language in which the Care Connect conformance resources are written.
 * A profile states only its differential: what it changes of the base resource.
 * `src/profiles/build/` turns these definitions into standard STU3 StructureDefinition,
 * ValueSet and CodeSystem resources (see docs/profiles.md).
 *
 * https://hl7.org/fhir/STU3/profiling.html
 */

export type Max = number | '*';

/** One allowed type of an element (STU3 ElementDefinition.type: one targetProfile per entry). */
export interface TypeRef {
  code: string;
  profile?: string;
  targetProfile?: string;
}

export type BindingStrength = 'required' | 'extensible' | 'preferred' | 'example';

export interface Binding {
  strength: BindingStrength;
  /** Canonical URL of the value set; absent to change only the strength of the base binding. */
  valueSet?: string;
}

export interface Discriminator {
  type: 'value' | 'pattern' | 'type' | 'profile' | 'exists';
  path: string;
}

export interface Slicing {
  discriminator: Discriminator[];
  rules: 'open' | 'closed' | 'openAtEnd';
  ordered?: boolean;
}

/**
 * A value with its FHIR type, e.g. `{ uri: 'http://snomed.info/sct' }`, which becomes
 * `fixedUri` (or `patternUri`). There are no default values: STU3 forbids them in profiles.
 */
export type TypedValue = Readonly<Record<string, string | number | boolean>>;

/** An extension slot: a named slice of an `extension` element holding the extension `url`. */
export interface ExtensionSlot {
  url: string;
  min?: number;
  /** Defaults to the maximum of the extension definition's root element. */
  max?: Max;
}

/** The constraints on one element and, through `children` and `slices`, on the elements under it. */
export interface Rule {
  min?: number;
  max?: Max;
  /** Replaces the element's types (to restrict a choice, or to name target profiles). */
  type?: TypeRef[];
  fixed?: TypedValue;
  pattern?: TypedValue;
  binding?: Binding;
  slicing?: Slicing;
  /** Slice name -> the slice's own rule. */
  slices?: Record<string, Rule>;
  /** Slot name -> extension, on this element's `extension` (sliced by url). */
  extensions?: Record<string, ExtensionSlot>;
  /** Relative path (dots allowed) -> rule. */
  children?: Rules;
}

/** Relative element path (dots allowed, e.g. `identifier.system`) -> rule. */
export type Rules = Record<string, Rule>;

interface Described {
  /** The canonical URL. */
  url: string;
  /** The computer name, which is also the resource id's source: `CareConnect-Patient-1`. */
  name: string;
  title: string;
  description: string;
}

export interface ProfileDef extends Described {
  kind: 'profile';
  /** The base resource type. */
  type: string;
  /** Extension slots on the resource's root `extension` element. */
  extensions?: Record<string, ExtensionSlot>;
  rules: Rules;
}

export interface ExtensionDef extends Described {
  kind: 'extension';
  /** Where the extension may be used (STU3 StructureDefinition.context, contextType `resource`). */
  context: string[];
  min?: number;
  max?: Max;
  /** A simple extension: the rule on `Extension.value[x]` (give `type`). */
  value?: Rule;
  /** A complex extension: part name (its relative url) -> the part. `Extension.value[x]` is then prohibited. */
  parts?: Record<string, { min?: number; max?: Max; value: Rule }>;
}

export interface Concept {
  code: string;
  display: string;
}

export interface CodeSystemDef extends Described {
  kind: 'codesystem';
  caseSensitive?: boolean;
  concepts: Concept[];
}

export interface Filter {
  property: string;
  op: '=' | 'is-a' | 'descendent-of' | 'is-not-a' | 'regex' | 'in' | 'not-in';
  value: string;
}

/** One `compose.include`: a whole code system, listed codes of one, or a filter on one. */
export interface Include {
  system: string;
  concepts?: Concept[];
  filters?: Filter[];
}

export interface ValueSetDef extends Described {
  kind: 'valueset';
  include: Include[];
}

export type ConformanceDef = ProfileDef | ExtensionDef | CodeSystemDef | ValueSetDef;

/**
 * A table of codes, one per line: the code, then whitespace, then the display.
 * Blank lines are skipped. Codes never contain whitespace.
 */
export function table(text: string): Concept[] {
  const concepts: Concept[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(\S+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`A code table line needs a code and a display: '${line}'`);
    concepts.push({ code: m[1]!, display: m[2]! });
  }
  return concepts;
}

export const required = (valueSet: string): Binding => ({ strength: 'required', valueSet });
export const extensible = (valueSet: string): Binding => ({ strength: 'extensible', valueSet });
export const preferred = (valueSet: string): Binding => ({ strength: 'preferred', valueSet });
export const example = (valueSet: string): Binding => ({ strength: 'example', valueSet });

/** Slicing by the value of one path (e.g. `system`, `url`, `use`). */
export function sliceBy(path: string, rules: Slicing['rules'] = 'open', ordered: boolean | undefined = false): Slicing {
  return { discriminator: [{ type: 'value', path }], rules, ...(ordered === undefined ? {} : { ordered }) };
}

export function slot(url: string, min?: number, max?: Max): ExtensionSlot {
  return { url, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
}

export const uri = (value: string): TypedValue => ({ uri: value });
export const code = (value: string): TypedValue => ({ code: value });

/** A rule with only a minimum (`min: 1` is the common "must be present"). */
export const atLeast = (min: number): Rule => ({ min });
/** Element prohibited (0..0). */
export const prohibited: Rule = { max: 0 };
