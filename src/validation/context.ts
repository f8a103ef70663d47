import type { ElementDef, FhirModel } from '../fhir/definitions/model.js';
import type { Issue, IssueCode, IssueSeverity } from '../fhir/outcome.js';

/**
 * The state carried through one validation walk: the issues found so far, the
 * location of the value being looked at, and the nesting depth.
 *
 * The location is kept as a stack of segments (property names and array
 * indexes) and only turned into a FHIRPath string when an issue is reported,
 * so a clean resource costs no string building at all.
 */

/** JSON objects nested deeper than this are not descended into (protects the stack). */
export const MAX_DEPTH = 64;

/** Issues collected before the walk gives up (a hostile body must not turn into a huge OperationOutcome). */
export const MAX_ISSUES = 1000;

/** Longest piece of user text (a value or a property name) quoted in a diagnostic. */
const QUOTE_LIMIT = 64;
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Characters shown escaped in diagnostics: controls, and whitespace that looks like a space or nothing. */
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/g;

/**
 * Called for each element value the structural walk has accepted the shape of:
 * the hook a profile validator (slicing, bindings, invariants) builds on.
 * `type` is the concrete type (for a choice, the one the JSON name says);
 * `element` is the base definition. The location is `ctx.location()`.
 */
export type ElementHook = (value: unknown, type: string, element: ElementDef, ctx: WalkContext) => void;

/**
 * One walk's state: issues, the location stack, the depth. Locations are FHIRPath
 * (https://hl7.org/fhir/STU3/fhirpath.html) as OperationOutcome.issue.expression wants them.
 */
export class WalkContext {
  readonly issues: Issue[] = [];
  /** Location segments: the root expression, then property names and array indexes. */
  private readonly segments: Array<string | number>;
  depth = 0;
  /** Set once MAX_ISSUES issues have been reported: the walk stops. */
  stopped = false;
  private tooDeepReported = false;

  constructor(
    readonly model: FhirModel,
    root: string,
    readonly onElement?: ElementHook,
  ) {
    this.segments = [root];
  }

  push(segment: string | number): void {
    this.segments.push(segment);
  }

  pop(): void {
    this.segments.pop();
  }

  /** The FHIRPath location of the current value, e.g. `Patient.name[0].given[1]`. */
  location(): string {
    const segs = this.segments;
    let out = String(segs[0]);
    for (let i = 1; i < segs.length; i++) {
      const s = segs[i]!;
      out += typeof s === 'number' ? `[${s}]` : `.${identifier(s)}`;
    }
    return out;
  }

  /** Reports an issue located at the current value (or at `expression` when given). */
  report(code: IssueCode, diagnostics: string, expression = this.location(), severity: IssueSeverity = 'error'): void {
    if (this.stopped) return;
    if (this.issues.length >= MAX_ISSUES) {
      this.stopped = true;
      this.issues.push({ severity: 'error', code: 'too-costly', diagnostics: `More than ${MAX_ISSUES} issues; validation stopped here`, expression: [expression] });
      return;
    }
    this.issues.push({ severity, code, diagnostics, expression: [expression] });
  }

  /** Reports an issue about the current value, its diagnostics prefixed with the location. */
  reportHere(code: IssueCode, message: string, severity: IssueSeverity = 'error'): void {
    const at = this.location();
    this.report(code, `${at}: ${message}`, at, severity);
  }

  /** Reports an issue about the current value, as a sentence: `Patient.name must be an array ...`. */
  reportSentence(code: IssueCode, rest: string): void {
    const at = this.location();
    this.report(code, `${at} ${rest}`, at);
  }

  /** Reports, once per walk, that nesting went deeper than MAX_DEPTH. */
  tooDeep(): void {
    if (this.tooDeepReported) return;
    this.tooDeepReported = true;
    this.reportHere('structure', `nesting deeper than ${MAX_DEPTH} levels; the content below was not checked`);
  }
}

/** A property name as a FHIRPath identifier: delimited with backticks unless it is a plain name. */
export function identifier(name: string): string {
  return PLAIN_NAME.test(name) ? name : `\`${quote(name.replace(/[`\\]/g, '\\$&'))}\``;
}

/** A piece of user text made safe to quote: long text is cut, control characters escaped. */
export function quote(text: string): string {
  const cut = text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT)}…` : text;
  return cut.replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What a JSON value is, in words, for diagnostics. Never throws, whatever the value. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string '${quote(value)}'`;
    case 'number':
      return `the number ${String(value)}`;
    case 'boolean':
      return `the boolean ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return `${typeof value} (not a JSON value)`;
  }
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `key` is an own property of `obj` (works for null-prototype objects too). */
export const hasOwn = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);
