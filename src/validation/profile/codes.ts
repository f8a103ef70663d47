import type { IssueSeverity } from '../../fhir/outcome.js';
import { withUcum } from '../../fhir/ucum.js';
import { quote } from '../context.js';
import { isSnomedId, lookup, normalise } from '../../terminology/code-systems.js';
import type { Binding } from './plan-types.js';
import type { Session } from './session.js';
import { type Expansion, remotePartsFor, SNOMED, UCUM, type Member } from '../../terminology/terminology.js';
import { isRecord } from './values.js';

/**
 * Terminology checks: a coded value against a binding (required: error,
 * extensible: warning, preferred and example: not checked), and a Coding against
 * its code system when the server holds it (unknown code, wrong display), UCUM
 * unit codes, and the form of SNOMED CT identifiers.
 * https://hl7.org/fhir/STU3/terminologies.html#strength
 */

/** Severity of a display that matches none of the concept's displays or designations. */
export const DISPLAY_SEVERITY: IssueSeverity = 'error';

const QUANTITY_TYPES = new Set(['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'Money', 'SimpleQuantity', 'MoneyQuantity']);

interface Code {
  system?: string;
  code: string;
  /** Where the code sits, for the issue. */
  at: string;
}

/**
 * Checks a value (code, Coding, CodeableConcept, Quantity, string, uri) against a binding.
 * `owner` names what the binding belongs to, for the message (`Patient.gender`,
 * `CareConnect-Patient-1 (Patient.name:official.use)`). `base`: the binding is the STU3
 * base definition's; when it is required and the server can expand its value set
 * completely, a code outside it is certain to be wrong and goes with the session's
 * base errors (a 400 on write, like a wrong type).
 */
export function checkBinding(s: Session, binding: Binding, value: unknown, type: string, location: string, owner: string, base = false): void {
  const strength = binding.strength;
  if (strength !== 'required' && strength !== 'extensible') return;
  const codes = codesOf(value, type, location);
  if (codes === undefined) return;
  const term = s.engine.terminology;
  const exp = term.expansion(binding.valueSet);
  const severity: IssueSeverity = strength === 'required' ? 'error' : 'warning';
  const verb = strength === 'required' ? 'must' : 'should';
  if (!exp) {
    const message = `the value set ${binding.valueSet} (${strength} binding of ${owner}) is not known to this server, so the code was not checked`;
    if (!codes.length) s.report('warning', 'code-invalid', location, message);
    // A terminology server may know it (asked once the walk is done; without one, the warning).
    else {
      s.ask({
        kind: 'binding',
        codes: codes.map((c) => ({ ...(c.system ? { system: c.system } : {}), code: c.code, parts: [{ valueSet: binding.valueSet.split('|')[0]! }] })),
        no: notIn(codes, location, `the value set ${binding.valueSet}`, verb, strength, owner, severity),
        binding: `the value set ${binding.valueSet} (${strength} binding of ${owner})`,
        fallback: s.issue('warning', 'code-invalid', location, message),
      });
    }
    return;
  }
  const name = `'${exp.name}' (${exp.url})`;
  const certain = base && strength === 'required' && isComplete(exp);
  if (codes.length === 0) {
    if (type === 'CodeableConcept') {
      const verb = strength === 'required' ? 'is required' : 'should be given';
      s.report(severity, 'code-invalid', location, `no code is given, and a code from the value set ${name} ${verb} (${strength} binding of ${owner})`, certain);
    }
    return;
  }
  let best: Member = 'no';
  const unknown: Code[] = [];
  for (const c of codes) {
    const m = term.contains(exp, c.system, c.code);
    if (m === 'yes') return;
    if (m === 'unknown') {
      best = 'unknown';
      unknown.push(c);
    }
  }
  if (best === 'unknown') {
    // Parts of the value set this server cannot enumerate (a SNOMED CT filter …): a terminology server may say.
    const asking = unknown.map((c) => ({ ...(c.system ? { system: c.system } : {}), code: c.code, parts: remotePartsFor(exp, c.system) })).filter((c) => c.parts.length);
    if (asking.length) s.ask({ kind: 'binding', codes: asking, no: notIn(codes, location, `the value set ${name}`, verb, strength, owner, severity), binding: `the value set ${name} (${strength} binding of ${owner})` });
    return;
  }
  const no = notIn(codes, location, `the value set ${name}`, verb, strength, owner, severity);
  s.report(severity, 'code-invalid', no.at, no.message, certain);
}

/** The issue of codes outside a binding's value set. */
function notIn(codes: Code[], location: string, valueSet: string, verb: string, strength: string, owner: string, severity: IssueSeverity): { severity: IssueSeverity; at: string; message: string } {
  const shown = codes.map((c) => (c.system ? `${c.system}#${quote(c.code)}` : `'${quote(c.code)}'`)).join(', ');
  const at = codes.length === 1 ? codes[0]!.at : location;
  const what = codes.length === 1 ? `the code ${shown} is` : `none of the codes ${shown} is`;
  return { severity, at, message: `${what} not in ${valueSet}; codes ${verb} come from it (${strength} binding of ${owner})` };
}

/** Whether every code of a value set is known here (nothing left as "any code of this system"), so that membership is certain. */
export function isComplete(exp: Expansion): boolean {
  return exp.open.size === 0 && exp.partial.size === 0 && !exp.incomplete;
}

/** The codes of a value, or undefined when the type is not a coded one. */
function codesOf(value: unknown, type: string, location: string): Code[] | undefined {
  if (typeof value === 'string') return type === 'code' || type === 'string' || type === 'uri' ? [{ code: value, at: location }] : undefined;
  if (!isRecord(value)) return undefined;
  if (type === 'Coding') return typeof value.code === 'string' ? [codeOf(value, `${location}.code`)] : undefined;
  if (type === 'CodeableConcept') {
    const out: Code[] = [];
    const codings = Array.isArray(value.coding) ? value.coding : [];
    codings.forEach((c, i) => {
      if (isRecord(c) && typeof c.code === 'string') out.push(codeOf(c, `${location}.coding[${i}].code`));
    });
    return out;
  }
  if (QUANTITY_TYPES.has(type)) return typeof value.code === 'string' ? [codeOf(value, `${location}.code`)] : undefined;
  return undefined;
}

function codeOf(c: Record<string, unknown>, at: string): Code {
  const code: Code = { code: c.code as string, at };
  if (typeof c.system === 'string') code.system = c.system;
  return code;
}

/**
 * A Coding (or a Quantity's unit) against its code system: the code must exist in a
 * complete code system the server holds, and a display must be one of the concept's;
 * UCUM codes must parse; SNOMED CT codes must be well-formed SCTIDs.
 */
export function checkCoding(s: Session, coding: Record<string, unknown>, location: string): void {
  const system = coding.system;
  const code = coding.code;
  if (typeof system !== 'string' || typeof code !== 'string') return;
  if (system === UCUM) {
    if (!isUcum(code)) s.report('error', 'code-invalid', `${location}.code`, `'${quote(code)}' is not a valid UCUM unit code (http://unitsofmeasure.org)`);
    return;
  }
  if (system === SNOMED && /^\d+$/.test(code) && !isSnomedId(code)) {
    s.report('error', 'code-invalid', `${location}.code`, `'${quote(code)}' is not a valid SNOMED CT identifier (6-18 digits ending in a Verhoeff check digit)`);
    return;
  }
  const cs = s.engine.terminology.codeSystem(system);
  if (!cs || !cs.complete) {
    // Not held here (SNOMED CT, LOINC …): a terminology server may say, once the walk is done.
    const display = coding.display;
    s.ask({ kind: 'coding', system, code, ...(typeof display === 'string' ? { display } : {}), at: location });
    return;
  }
  const concept = lookup(cs, code);
  if (!concept) {
    s.report('error', 'code-invalid', `${location}.code`, `unknown code '${quote(code)}' in the code system '${cs.name}' (${system})`);
    return;
  }
  const display = coding.display;
  if (typeof display === 'string' && concept.names.size && !concept.names.has(normalise(display))) {
    s.report(DISPLAY_SEVERITY, 'invalid', `${location}.display`, `wrong display '${quote(display)}' for ${system}#${quote(code)}: the code system's display is '${concept.display ?? ''}'`);
  }
}

/** A Quantity with a UCUM system: its code must be a UCUM unit. */
export function checkQuantity(s: Session, q: Record<string, unknown>, location: string): void {
  if (q.system === UCUM && typeof q.code === 'string' && !isUcum(q.code)) {
    s.report('error', 'code-invalid', `${location}.code`, `'${quote(q.code)}' is not a valid UCUM unit code (http://unitsofmeasure.org)`);
  }
}

export function isQuantityType(type: string): boolean {
  return QUANTITY_TYPES.has(type);
}

const ucumCache = new Map<string, boolean>();

function isUcum(code: string): boolean {
  if (code.length > 256) return false; // no unit is that long; spare the parser hostile input
  let ok = ucumCache.get(code);
  if (ok === undefined) {
    try {
      ok = withUcum((ucum) => ucum.validateUnitString(code).status === 'valid');
    } catch {
      ok = false;
    }
    if (ucumCache.size < 10_000) ucumCache.set(code, ok);
  }
  return ok;
}
