/**
 * Exact decimals for the in-memory search evaluator: `m × 10^e` with a BigInt
 * mantissa. FHIR decimals are decimal, and search compares them within the
 * precision they were written with (https://hl7.org/fhir/STU3/search.html#number),
 * so the oracle must not round where the server may.
 */
export interface Dec {
  m: bigint;
  e: number;
}

const DECIMAL = /^([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$/;

/** A JS number (via its shortest round-trip text) or a decimal literal. */
export function dec(x: number | string): Dec {
  const text = typeof x === 'number' ? String(x) : x;
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new Error(`not a decimal: ${text}`);
  const [, sign, int, frac = '', exp = '0'] = m;
  return { m: BigInt(`${sign === '-' ? '-' : ''}${int || '0'}${frac}`), e: Number(exp) - frac.length };
}

/** a × 10^k. */
export function shift(a: Dec, k: number): Dec {
  return { m: a.m, e: a.e + k };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  if (a.e === b.e) return [a.m, b.m, a.e];
  if (a.e > b.e) return [a.m * 10n ** BigInt(a.e - b.e), b.m, b.e];
  return [a.m, b.m * 10n ** BigInt(b.e - a.e), a.e];
}

export function cmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, e] = align(a, b);
  return { m: x + y, e };
}

export function sub(a: Dec, b: Dec): Dec {
  return add(a, { m: -b.m, e: b.e });
}

export function mul(a: Dec, b: Dec): Dec {
  return { m: a.m * b.m, e: a.e + b.e };
}

export function toText(a: Dec): string {
  const neg = a.m < 0n;
  const digits = (neg ? -a.m : a.m).toString();
  if (a.e >= 0) return `${neg ? '-' : ''}${digits}${'0'.repeat(a.e)}`;
  const pad = digits.padStart(-a.e + 1, '0');
  return `${neg ? '-' : ''}${pad.slice(0, pad.length + a.e)}.${pad.slice(pad.length + a.e)}`;
}
