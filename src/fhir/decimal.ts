/**
 * Decimals kept exactly as written.
 *
 * FHIR decimals carry their precision in their text ("1.50" is not "1.5";
 * https://hl7.org/fhir/STU3/datatypes.html#decimal). JavaScript numbers do not,
 * so where the written text differs from the number's shortest form, the text is
 * remembered beside the number: `holder[EXACT][key] = "1.50"`. The symbol is
 * non-enumerable, so FHIRPath, Object.keys and JSON.stringify never see it; the
 * JSON and XML writers do. Every object whose subtree holds such a decimal is
 * flagged with HAS_EXACT so the writers know to look.
 */

export const EXACT: unique symbol = Symbol('ccri.exactDecimal');
export const HAS_EXACT: unique symbol = Symbol('ccri.hasExactDecimal');

type Holder = Record<string | symbol, unknown> & { [EXACT]?: Record<string, string>; [HAS_EXACT]?: true };

const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;

/** Remember that `holder[key]` was written as `text`, when that differs from the number's own form. */
export function rememberExact(holder: object, key: string | number, text: string): void {
  const value = Number(text);
  if (String(value) === text || !DECIMAL.test(text)) return;
  const h = holder as Holder;
  if (!h[EXACT]) Object.defineProperty(h, EXACT, { value: {}, enumerable: false, writable: true });
  h[EXACT]![String(key)] = text;
}

/** Flag `obj` as holding exact decimals somewhere beneath it. */
export function flagExact(obj: object): void {
  if (!(obj as Holder)[HAS_EXACT]) Object.defineProperty(obj, HAS_EXACT, { value: true, enumerable: false });
}

export function hasExact(obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && (obj as Holder)[HAS_EXACT] === true;
}

/** The text to write for the number at `holder[key]`: as written, when still the same number. */
export function decimalText(holder: object, key: string | number, value: number): string {
  const exact = (holder as Holder)[EXACT]?.[String(key)];
  if (exact !== undefined && Number(exact) === value) return exact;
  return plainNumber(value);
}

/** A number in plain decimal notation (never an exponent, which the STU3 decimal does not allow). */
export function plainNumber(value: number): string {
  const s = String(value);
  if (!/e/i.test(s)) return s;
  const [mantissa, expText] = s.split(/e/i) as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const pointAt = (mantissa.replace('-', '').indexOf('.') === -1 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (pointAt <= 0) out = '0.' + '0'.repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = digits.slice(0, pointAt) + '.' + digits.slice(pointAt);
  return (negative ? '-' : '') + out;
}
