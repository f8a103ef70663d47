import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

/**
 * The reference material in ../shared is for tests only. When it is absent (a
 * user's fresh clone) the tests that need it skip with a message; under CI=true
 * its absence is an error.
 */
export function sharedPath(...parts: string[]): string | undefined {
  const p = resolve(projectRoot(), '..', 'shared', ...parts);
  if (existsSync(p)) return p;
  if (process.env.CI === 'true') throw new Error(`${p} is missing, and CI=true requires ../shared`);
  console.warn(`Skipping: ${p} is not present (the reference material in ../shared is only beside a development checkout)`);
  return undefined;
}
