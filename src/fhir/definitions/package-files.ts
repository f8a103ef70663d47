import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Access to the official STU3 definitions shipped in the npm package
 * `hl7.fhir.r3.examples` (a dependency, never copied into the repository).
 */
export function definitionsPackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('hl7.fhir.r3.examples/package.json'));
}

/** Every JSON resource in the package whose file name starts with `${resourceType}-`. */
export function readPackageResources<T = Record<string, unknown>>(resourceType: string, dir = definitionsPackageDir()): T[] {
  const prefix = `${resourceType}-`;
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T);
}

export function readPackageFile<T = Record<string, unknown>>(fileName: string, dir = definitionsPackageDir()): T {
  return JSON.parse(readFileSync(join(dir, fileName), 'utf8')) as T;
}
