import { quote } from '../context.js';

/**
 * Comparisons of JSON values for fixed[x] (exactly equal) and pattern[x] (the
 * instance holds at least what the pattern holds; each pattern array item is
 * matched by some instance item). https://hl7.org/fhir/STU3/elementdefinition-definitions.html#ElementDefinition.fixed_x_
 */

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => k !== 'id');
  const kb = Object.keys(b).filter((k) => k !== 'id');
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (pattern === null || typeof pattern !== 'object') return value === pattern;
  if (Array.isArray(pattern)) {
    const items = Array.isArray(value) ? value : [value];
    return pattern.every((p) => items.some((v) => matchesPattern(v, p)));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const [k, p] of Object.entries(pattern)) {
    if (k === 'id') continue;
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || !matchesPattern(v, p)) return false;
  }
  return true;
}

/** A value shown in a message: short JSON, cut when long. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `'${quote(value)}'`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The resource type a reference string names (`Patient/1`, `http://x/fhir/Patient/1/_history/2`), if any. */
export function referenceType(reference: string): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference);
  return m?.[1];
}
