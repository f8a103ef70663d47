import type { FhirModel, PrimitiveDef } from '../fhir/definitions/model.js';
import { describe, quote, type WalkContext } from './context.js';
import { checkXhtml } from './xhtml.js';

/**
 * Checks of primitive values against the STU3 data type rules.
 * https://hl7.org/fhir/STU3/datatypes.html#primitive and
 * https://hl7.org/fhir/STU3/json.html#primitive
 *
 * The lexical rules are the regexes of the definitions (compiled once, by the
 * model), except where a definition's regex is unsafe or absent:
 * - `code`: the STU3 regex `[^\s]+([\s]?[^\s]+)*` backtracks exponentially on a
 *   long value ending in a space, so an equivalent linear form is used;
 * - `integer`, `positiveInt`, `unsignedInt`, `decimal` are JSON numbers and are
 *   checked as numbers (integral, 32-bit range, finite);
 * - `uri` has no regex in STU3: a URI never holds whitespace;
 * - `base64Binary` has no regex in STU3: only the base64 alphabet (and whitespace) is allowed;
 * - `xhtml` is checked by {@link checkXhtml}.
 */

const enum Kind {
  Text, // string, markdown: any non-empty text
  Pattern,
  Date, // date, dateTime, instant: pattern plus a calendar check
  Uri,
  Base64,
  Xhtml,
  Decimal,
  Integer,
  Boolean,
}

/** How one primitive type is checked (https://hl7.org/fhir/STU3/datatypes.html#primitive). */
export interface PrimitiveRule {
  readonly name: string;
  readonly jsonType: PrimitiveDef['jsonType'];
  readonly kind: Kind;
  readonly pattern?: RegExp;
  readonly min?: number;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** Equivalent to the STU3 code regex, without its nested quantifier. */
const CODE = /^\S+(?:\s\S+)*$/;
const WHITESPACE = /\s/;
const NON_WHITESPACE = /\S/;
const BASE64 = /^[A-Za-z0-9+/=\s]+$/;

const rulesByModel = new WeakMap<FhirModel, Map<string, PrimitiveRule>>();

/** The rule for each primitive type of the model (built once per model). */
export function primitiveRules(model: FhirModel): Map<string, PrimitiveRule> {
  let rules = rulesByModel.get(model);
  if (!rules) {
    rules = new Map();
    for (const [name, def] of model.primitives) rules.set(name, ruleFor(name, def));
    rulesByModel.set(model, rules);
  }
  return rules;
}

function ruleFor(name: string, def: PrimitiveDef & { pattern?: RegExp }): PrimitiveRule {
  const jsonType = def.jsonType;
  switch (name) {
    case 'boolean':
      return { name, jsonType, kind: Kind.Boolean };
    case 'decimal':
      return { name, jsonType, kind: Kind.Decimal };
    case 'integer':
      return { name, jsonType, kind: Kind.Integer, min: INT32_MIN };
    case 'positiveInt':
      return { name, jsonType, kind: Kind.Integer, min: 1 };
    case 'unsignedInt':
      return { name, jsonType, kind: Kind.Integer, min: 0 };
    case 'code':
      return { name, jsonType, kind: Kind.Pattern, pattern: CODE };
    case 'uri':
      return { name, jsonType, kind: Kind.Uri };
    case 'base64Binary':
      return { name, jsonType, kind: Kind.Base64 };
    case 'xhtml':
      return { name, jsonType, kind: Kind.Xhtml };
    case 'date':
    case 'dateTime':
    case 'instant':
      return def.pattern ? { name, jsonType, kind: Kind.Date, pattern: def.pattern } : { name, jsonType, kind: Kind.Text };
    default:
      if (jsonType === 'number') return { name, jsonType, kind: Kind.Decimal };
      if (jsonType === 'boolean') return { name, jsonType, kind: Kind.Boolean };
      return def.pattern ? { name, jsonType, kind: Kind.Pattern, pattern: def.pattern } : { name, jsonType, kind: Kind.Text };
  }
}

/**
 * Checks one primitive value (never null, never an array: the caller has dealt
 * with those) and reports what is wrong at the context's current location.
 * Returns whether the value is acceptable.
 */
export function checkPrimitive(rule: PrimitiveRule, value: unknown, ctx: WalkContext): boolean {
  if (typeof value !== rule.jsonType) {
    if (typeof value === 'object' && value !== null) {
      ctx.reportHere('structure', `a ${rule.name} must be a JSON ${rule.jsonType}, not an object`);
    } else {
      ctx.reportHere('value', `a ${rule.name} must be a JSON ${rule.jsonType}, but found ${describe(value)}`);
    }
    return false;
  }
  switch (rule.kind) {
    case Kind.Boolean:
      return true;
    case Kind.Decimal:
      if (Number.isFinite(value)) return true;
      ctx.reportHere('value', `${String(value)} is not a valid decimal`);
      return false;
    case Kind.Integer: {
      const n = value as number;
      if (Number.isInteger(n) && n >= rule.min! && n <= INT32_MAX) return true;
      ctx.reportHere('value', `${String(n)} is not a valid ${rule.name} (${integerRange(rule)})`);
      return false;
    }
    default:
      return checkText(rule, value as string, ctx);
  }
}

function integerRange(rule: PrimitiveRule): string {
  return `a whole number from ${rule.min} to ${INT32_MAX}`;
}

function checkText(rule: PrimitiveRule, value: string, ctx: WalkContext): boolean {
  if (value.length === 0) {
    ctx.reportHere('value', `a ${rule.name} must not be an empty string; leave the property out instead (https://hl7.org/fhir/STU3/json.html)`);
    return false;
  }
  if (UNREPRESENTABLE.test(value)) {
    ctx.reportHere('value', `a ${rule.name} must not hold control characters (other than tab, line feed and carriage return) or unpaired surrogates: XML cannot carry them, nor can the database`);
    return false;
  }
  switch (rule.kind) {
    case Kind.Text:
      if (mayBeBlank(value.charCodeAt(0)) && !NON_WHITESPACE.test(value)) {
        // json.html only forbids empty strings; xml.html forbids whitespace-only values,
        // so such a value cannot be served as XML: a warning, not an error.
        ctx.reportHere('value', `a ${rule.name} should hold some non-whitespace content (it cannot be represented in XML)`, 'warning');
      }
      return true;
    case Kind.Pattern:
      if (rule.pattern!.test(value)) return true;
      break;
    case Kind.Date:
      if (rule.pattern!.test(value) && isCalendarDate(value)) return true;
      break;
    case Kind.Uri:
      if (!WHITESPACE.test(value)) return true;
      ctx.reportHere('value', `'${quote(value)}' is not a valid uri (a uri holds no whitespace)`);
      return false;
    case Kind.Base64:
      if (BASE64.test(value) && NON_WHITESPACE.test(value)) return true;
      break;
    case Kind.Xhtml: {
      const problem = checkXhtml(value);
      if (problem === undefined) return true;
      ctx.reportHere('value', `the narrative XHTML ${problem} (https://hl7.org/fhir/STU3/narrative.html#xhtml)`);
      return false;
    }
    default:
      return true;
  }
  ctx.reportHere('value', `'${quote(value)}' is not a valid ${rule.name}`);
  return false;
}

/** Characters no FHIR string may hold: C0 controls but tab, LF, CR (XML 1.0), and lone UTF-16 surrogates. */
const UNREPRESENTABLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A first character that could be whitespace (ASCII space and controls, or non-ASCII): worth the regex. */
function mayBeBlank(c: number): boolean {
  return c <= 32 || c >= 127;
}

/** After the regex has matched: the day, when present, exists in its month. */
function isCalendarDate(value: string): boolean {
  const o = value.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  if (value.length < o + 10) return true;
  const year = digits(value, o, 4);
  const month = digits(value, o + 5, 2);
  const day = digits(value, o + 8, 2);
  if (day === 0) return false; // the STU3 date regex lets '00' through
  return day <= daysInMonth(year, month);
}

/** The number written by `count` ASCII digits at `from` (the regex has checked they are digits). */
function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
