import { type UcumLibrary, withUcum } from '../fhir/ucum.js';

/**
 * UCUM-canonical quantities, so that `1 g` matches `1000 mg` in quantity search.
 * Conversion is by @lhncbc/ucum-lhc; the factor of each linear unit is cached.
 * https://hl7.org/fhir/STU3/search.html#quantity
 */

type Converted = ReturnType<UcumLibrary['convertToBaseUnits']>;

interface UnitInfo {
  unit: string;
  factor: number;
  special: boolean;
}
const cache = new Map<string, UnitInfo | null>();
const MAX_CACHE = 10_000;

function unitInfo(code: string): UnitInfo | null {
  let info = cache.get(code);
  if (info !== undefined) return info;
  // Whitespace is never valid UCUM.
  if (!code || /\s/.test(code)) return null;
  let r: Converted;
  try {
    r = withUcum((ucum) => ucum.convertToBaseUnits(code, 1));
  } catch {
    r = { status: 'invalid' };
  }
  info =
    r.status === 'succeeded' && r.magnitude !== undefined && r.unitToExp
      ? { unit: canonicalUnit(r.unitToExp), factor: r.magnitude, special: Boolean(r.fromUnitIsSpecial) }
      : null;
  if (cache.size < MAX_CACHE) cache.set(code, info);
  return info;
}

function canonicalUnit(exps: Record<string, number>): string {
  const parts = Object.entries(exps)
    .filter(([, e]) => e !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([u, e]) => (e === 1 ? u : `${u}${e}`));
  return parts.length ? parts.join('.') : '1';
}

/** The value in UCUM base units and the canonical unit, or undefined when the code is not UCUM. */
export function canonicalQuantity(value: number, code: string): { value: number; unit: string } | undefined {
  const info = unitInfo(code);
  if (!info) return undefined;
  if (!info.special) return { value: round(value * info.factor), unit: info.unit };
  const r = withUcum((ucum) => ucum.convertToBaseUnits(code, value));
  return r.status === 'succeeded' && r.magnitude !== undefined ? { value: round(r.magnitude), unit: info.unit } : undefined;
}

/** 1.45 mg is 0.00145 g, not 0.0014500000000000001: canonical values keep 15 significant digits. */
function round(x: number): number {
  return Number(x.toPrecision(15));
}
