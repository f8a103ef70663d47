/**
 * Generated dates are relative to one fixed reference date, never to the clock, so
 * the same seed always gives the same data.
 */

export const DAY = 86_400_000;
export const YEAR = 365.25 * DAY;

/** The default reference date ("today" for the generated records). */
export const REFERENCE_DATE = '2026-01-01';

export function parseDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** A FHIR date (YYYY-MM-DD) in UTC. */
export function fhirDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** A FHIR dateTime to the second, written with the UTC offset +00:00. */
export function fhirDateTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** Whole years between two instants. */
export function ageAt(birth: number, at: number): number {
  const b = new Date(birth);
  const a = new Date(at);
  let age = a.getUTCFullYear() - b.getUTCFullYear();
  if (a.getUTCMonth() < b.getUTCMonth() || (a.getUTCMonth() === b.getUTCMonth() && a.getUTCDate() < b.getUTCDate())) age--;
  return age;
}

/** The instant `years` (may be fractional) after `birth`. */
export function atAge(birth: number, years: number): number {
  const whole = Math.floor(years);
  const d = new Date(birth);
  d.setUTCFullYear(d.getUTCFullYear() + whole);
  return d.getTime() + (years - whole) * YEAR;
}

