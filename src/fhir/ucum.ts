import { createRequire } from 'node:module';

/** What this server asks of the UCUM library (@lhncbc/ucum-lhc). */
export interface UcumLibrary {
  convertToBaseUnits(unit: string, value: number): { status: string; magnitude?: number; unitToExp?: Record<string, number>; fromUnitIsSpecial?: boolean };
  validateUnitString(unit: string): { status: string };
}

let library: UcumLibrary | undefined;

/**
 * Calls the UCUM library, loaded once, with its console output dropped. The library reports
 * some malformed units (a blank in `EU/DL SEMI`, text beside an annotation) with console.log:
 * from a server whose log is JSON lines on standard output, that would be a line no log
 * shipper can read, written whenever a client sends such a unit. The call is synchronous, so
 * nothing else can log while it runs; what the library returns says whether the unit is valid.
 */
export function withUcum<T>(call: (ucum: UcumLibrary) => T): T {
  const ucum = (library ??= (createRequire(import.meta.url)('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumLibrary } }).UcumLhcUtils.getInstance());
  return quietUcum(() => call(ucum));
}

/**
 * Runs a synchronous call that may reach the UCUM library with its console output dropped:
 * withUcum's, and every evaluation of fhirpath.js, which converts the units of Quantities it
 * compares through the same library (a Range's low ≤ high, invariant rng-2, in `EU/DL SEMI`
 * and `mg` printed a line).
 */
export function quietUcum<T>(call: () => T): T {
  const log = console.log;
  console.log = () => undefined;
  try {
    return call();
  } finally {
    console.log = log;
  }
}
