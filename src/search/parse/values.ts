import { dateRange } from '../../fhir/dates.js';
import { badRequest } from '../../fhir/outcome.js';
import type { DateValue, NumberValue, Prefix, QuantityValue, ReferenceValue, TokenValue } from '../plan.js';
import { parseReference } from '../references.js';
import { canonicalQuantity } from '../ucum.js';

/**
 * Parsers for the value of each search parameter type.
 * https://hl7.org/fhir/STU3/search.html#ptypes
 */

const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);

/** Splits on an unescaped separator (`,` `|` `$`), leaving escapes in place. */
export function splitUnescaped(value: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      cur += ch + value[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

/** Removes the search escapes `\,` `\$` `\|` `\\`. */
export function unescape(value: string): string {
  return value.replace(/\\([,$|\\])/g, '$1');
}

function splitPrefix(param: string, raw: string, numeric: boolean): [Prefix, string] {
  const m = /^([a-z]{2})(.*)$/.exec(raw);
  if (m && (numeric ? /^[-+.\d]/.test(m[2]!) : /^\d/.test(m[2]!))) {
    if (!PREFIXES.has(m[1] as Prefix)) throw badRequest(`Unknown prefix '${m[1]}' in ${param}=${raw}`, param);
    return [m[1] as Prefix, m[2]!];
  }
  return ['eq', raw];
}

/**
 * A date with its prefix. For `ap` the range is widened here, by 10% of its distance
 * from `now` (at least a day), so the SQL only tests overlap and the clock is the caller's.
 */
export function parseDateValue(param: string, raw: string, now: number = Date.now()): DateValue {
  const [prefix, text] = splitPrefix(param, raw, false);
  const range = dateRange(text);
  if (!range) throw badRequest(`Invalid date '${raw}' for parameter ${param}: expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|+hh:mm]]]]`, param, 'value');
  if (prefix === 'ap') {
    const margin = Math.round(Math.max(Math.abs(now - range.low) * 0.1, 86_400_000));
    return { prefix, low: range.low - margin, high: range.high + margin };
  }
  return { prefix, low: range.low, high: range.high };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export function parseNumberValue(param: string, raw: string): NumberValue {
  const [prefix, text] = splitPrefix(param, raw, true);
  if (!NUMBER.test(text)) throw badRequest(`Invalid number '${raw}' for parameter ${param}`, param, 'value');
  const [low, high] = precisionBounds(text);
  return { prefix, value: Number(text), low, high };
}

/**
 * The range a decimal's precision implies ("100" is [99.5, 100.5), "0.0015" is
 * [0.00145, 0.00155)), computed in decimal so that a bound is exactly the double of
 * its decimal text (0.0015 - 0.00005 in doubles is 0.0014500000000000001).
 */
export function precisionBounds(text: string): [number, number] {
  const [mantissa, expText] = text.toLowerCase().split('e') as [string, string | undefined];
  const negative = mantissa.startsWith('-');
  const unsigned = mantissa.replace(/^[-+]/, '');
  const dot = unsigned.indexOf('.');
  const decimals = dot < 0 ? 0 : unsigned.length - dot - 1;
  const digits = BigInt((unsigned.replace('.', '') || '0') + '0');
  const scale = decimals + 1 - Number(expText ?? 0);
  const signed = negative ? -digits : digits;
  const asNumber = (n: bigint) => Number(scale >= 0 ? `${n < 0n ? '-' : ''}${shift(n < 0n ? -n : n, scale)}` : `${n}e${-scale}`);
  return [asNumber(signed - 5n), asNumber(signed + 5n)];
}

/** The decimal text of n / 10^scale. */
function shift(n: bigint, scale: number): string {
  const s = n.toString().padStart(scale + 1, '0');
  return scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
}

export function parseQuantityValue(param: string, raw: string): QuantityValue {
  const parts = splitUnescaped(raw, '|');
  if (parts.length !== 1 && parts.length !== 3) throw badRequest(`Invalid quantity '${raw}' for parameter ${param}: expected [prefix]number|system|code`, param, 'value');
  const number = parseNumberValue(param, parts[0]!);
  const q: QuantityValue = { ...number };
  const system = parts[1] ? unescape(parts[1]) : undefined;
  const code = parts[2] ? unescape(parts[2]) : undefined;
  if (system) q.system = system;
  if (code) q.code = code;
  if (code && (system === 'http://unitsofmeasure.org' || system === undefined)) {
    const v = canonicalQuantity(number.value, code);
    const lo = canonicalQuantity(number.low, code);
    const hi = canonicalQuantity(number.high, code);
    if (system && v && lo && hi) q.canon = { value: v.value, low: Math.min(lo.value, hi.value), high: Math.max(lo.value, hi.value), unit: v.unit };
  }
  return q;
}

export function parseTokenValue(raw: string): TokenValue {
  const parts = splitUnescaped(raw, '|');
  if (parts.length === 1) return { code: unescape(raw) };
  const system = unescape(parts[0]!);
  const code = unescape(parts.slice(1).join('|'));
  const v: TokenValue = { system: system === '' ? null : system };
  if (code !== '') v.code = code;
  return v;
}

/**
 * `Type/id`, a bare `id`, `Type/id/_history/n`, or an absolute URL (local when under
 * our base). `typeModifier` is the `:Type` modifier.
 */
export function parseReferenceValue(param: string, raw: string, targets: string[], typeModifier: string | undefined, baseUrl?: string): ReferenceValue {
  const text = unescape(raw);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    const parsed = parseReference(text, baseUrl);
    if (parsed.external || !parsed.type) return { url: text };
    return { type: parsed.type, id: parsed.id! };
  }
  if (text.includes('/')) {
    const parsed = parseReference(text);
    if (!parsed.type) throw badRequest(`Invalid reference '${raw}' for parameter ${param}: expected Type/id, id or an absolute URL`, param, 'value');
    // A value of another type than the :Type modifier names can match nothing: no id is empty.
    if (typeModifier && parsed.type !== typeModifier) return { type: typeModifier, id: '' };
    return { type: parsed.type, id: parsed.id! };
  }
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(text)) throw badRequest(`Invalid reference id '${raw}' for parameter ${param}`, param, 'value');
  const type = typeModifier ?? (targets.length === 1 ? targets[0] : undefined);
  return type ? { type, id: text } : { id: text };
}
