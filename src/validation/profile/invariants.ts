import fhirpath from 'fhirpath';
import stu3Model from 'fhirpath/fhir-context/stu3/index.js';
import { splitTopLevel, topLevel } from '../../fhir/fhirpath-text.js';
import { quietUcum } from '../../fhir/ucum.js';

/**
 * FHIRPath invariants (ElementDefinition.constraint), evaluated with fhirpath.js
 * and its STU3 model. Each (context path, expression) is compiled once and kept;
 * an expression fhirpath.js cannot compile, or that calls a function it does not
 * implement, is skipped and remembered (see {@link skippedConstraints}).
 * https://hl7.org/fhir/STU3/conformance-rules.html#constraints
 */

export interface Constraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
}

export interface CompiledConstraint extends Constraint {
  /** The FHIRPath base the expression was compiled for (`Patient.contact`, `Period`). */
  base: string;
  run: (node: unknown, env: Record<string, unknown>) => unknown[];
  /** True when the expression is certainly true for a node, so fhirpath.js need not run (see {@link guardOf}). */
  trivial?: (node: unknown) => boolean;
}

/**
 * Rules the structural walk already enforces exactly (validateStructure): evaluating
 * them again with FHIRPath on every element would only cost time.
 * ele-1 (no empty elements), ext-1 (value or extensions), dom-1, dom-2, dom-4 (contained).
 */
export const STRUCTURAL = new Set(['ele-1', 'ext-1', 'dom-1', 'dom-2', 'dom-4']);

const compiled = new Map<string, CompiledConstraint | null>();
const skipped = new Map<string, { key: string; expression: string; reason: string }>();
const options = { traceFn: () => undefined } as const;

/** Compiles a constraint for evaluation at `base`, or returns null when it has to be skipped. */
export function compileConstraint(c: Constraint, base: string): CompiledConstraint | null {
  const cacheKey = `${base}\u0000${c.key}\u0000${c.expression}`;
  let hit = compiled.get(cacheKey);
  if (hit !== undefined) return hit;
  hit = tryCompile(c, base) ?? tryCompile(c, rootOf(base));
  if (!hit) {
    skipped.set(`${c.key}\u0000${c.expression}`, { key: c.key, expression: c.expression, reason: lastError });
  }
  compiled.set(cacheKey, hit);
  return hit;
}

let lastError = '';

function tryCompile(c: Constraint, base: string): CompiledConstraint | null {
  let fn: ReturnType<typeof fhirpath.compile>;
  try {
    fn = fhirpath.compile({ base, expression: c.expression }, stu3Model as never, options);
  } catch (err) {
    lastError = firstLine(err);
    return null;
  }
  const run: CompiledConstraint['run'] = (node, env) => fn(node, env as never) as unknown[];
  try {
    // Unknown functions are only reported when evaluated: probe once on an empty node.
    run({}, { resource: {}, rootResource: {} });
  } catch (err) {
    if (/Not implemented/.test(String(err))) {
      lastError = firstLine(err);
      return null;
    }
  }
  const trivial = guardOf(c.expression);
  return trivial ? { ...c, base, run, trivial } : { ...c, base, run };
}

/**
 * Most invariants open with a test on one child element that makes them true when
 * that element is absent (`code.empty() or system`, `start.empty() or ...`,
 * `dataAbsentReason.empty() or value.empty()`, `contained.where(...).empty()`,
 * `x.exists() implies ...`), or, for ref-1, when the reference is not local. The
 * guard recognises those forms and answers "true" without running fhirpath.js;
 * every other case is evaluated in full. The result is the same, only cheaper.
 */
export function guardOf(expression: string): ((node: unknown) => boolean) | undefined {
  const e = expression.trim();
  const ident = '([a-z][A-Za-z0-9]*)';
  let m: RegExpExecArray | null;
  // `x.empty() or REST`, `x implies REST`, `x.exists() implies REST`: true when x is absent
  // (`or` binds tighter than `implies`, so REST must hold no further implies).
  if ((m = new RegExp(`^${ident}\\.empty\\(\\) or (.*)$`, 's').exec(e)) || (m = new RegExp(`^${ident}(?:\\.exists\\(\\))? implies (.*)$`, 's').exec(e))) {
    if (topLevelWords(m[2]!).includes('implies')) return undefined;
    const name = m[1]!;
    return (node) => absent(node, name);
  }
  // ref-1: true when the reference is absent or not local.
  if ((m = new RegExp(`^${ident}\\.startsWith\\('#'\\)\\.not\\(\\) or (.*)$`, 's').exec(e))) {
    if (topLevelWords(m[2]!).includes('implies')) return undefined;
    const name = m[1]!;
    return (node) => {
      if (absent(node, name)) return true;
      const v = (node as Record<string, unknown>)[name];
      return typeof v === 'string' && !v.startsWith('#');
    };
  }
  // `x.y.where(...).empty()`: a chain of members and filters over x ends empty when x is absent.
  const steps = chain(e);
  if (steps && steps.length >= 2 && steps[steps.length - 1] === 'empty()' && /^[a-z][A-Za-z0-9]*$/.test(steps[0]!)) {
    const middle = steps.slice(1, -1);
    if (middle.every((st) => /^[a-z][A-Za-z0-9]*$/.test(st) || /^(?:where|select|ofType)\(.*\)$/s.test(st) || st === 'first()' || st === 'last()')) {
      const name = steps[0]!;
      return (node) => absent(node, name);
    }
  }
  return undefined;
}

/** The steps of an expression that is one invocation chain (`a.where(b = 'c').empty()`), or undefined. */
function chain(e: string): string[] | undefined {
  for (const [c] of topLevel(e)) if (/\s/.test(c)) return undefined;
  return splitTopLevel(e, '.');
}

/** The words of an expression outside parentheses and strings (to find top-level operators). */
function topLevelWords(e: string): string[] {
  let out = '';
  for (const [c] of topLevel(e)) out += c;
  return out.split(/\s+/);
}

/** No property for the element `name` (its value, its `_name`, or any choice form `nameX`). */
function absent(node: unknown, name: string): boolean {
  if (typeof node !== 'object' || node === null) return false;
  for (const key in node) {
    if (key === name || key === `_${name}`) return false;
    if (key.length > name.length && key.startsWith(name) && key.charCodeAt(name.length) >= 65 && key.charCodeAt(name.length) <= 90) return false;
  }
  return true;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 160);
}

/** `Patient.contact` -> `Patient`: fhirpath.js does not know every backbone path as a base. */
function rootOf(base: string): string {
  const dot = base.indexOf('.');
  return dot < 0 ? base : base.slice(0, dot);
}

export type Outcome = 'pass' | 'fail' | { error: string };

let guards = true;

/** Turns the guards of {@link guardOf} off (tests compare the results with and without them). */
export function useGuards(on: boolean): void {
  guards = on;
}

/**
 * Evaluates a compiled constraint on a node. `resource` is %resource (the resource
 * holding the node). An empty result passes (the FHIRPath boolean rules make an
 * expression over absent elements empty); false fails.
 */
export function evaluate(c: CompiledConstraint, node: unknown, resource: unknown): Outcome {
  if (guards && c.trivial?.(node)) return 'pass';
  try {
    // fhirpath.js's comparisons of Quantities reach the UCUM library, which prints what it cannot parse.
    const result = quietUcum(() => c.run(node, { resource, rootResource: resource, context: node }));
    if (result.length === 1 && result[0] === false) return 'fail';
    return 'pass';
  } catch (err) {
    return { error: firstLine(err) };
  }
}

/** The constraints met so far whose expressions could not be compiled (for the documentation). */
export function skippedConstraints(): Array<{ key: string; expression: string; reason: string }> {
  return [...skipped.values()];
}
