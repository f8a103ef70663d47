import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

const CI = process.env.CI === 'true';

/**
 * The reference material in ../shared is for tests only. When it is absent (a
 * user's fresh clone) the tests that need it skip with a message; under CI=true
 * its absence is an error.
 */
export function sharedPath(...parts: string[]): string | undefined {
  const p = resolve(projectRoot(), '..', 'shared', ...parts);
  if (existsSync(p)) return p;
  if (CI) throw new Error(`${p} is missing, and CI=true requires ../shared`);
  console.warn(`Skipping: ${p} is not present (the reference material in ../shared is only beside a development checkout)`);
  return undefined;
}

/**
 * Whether a program the tests run (xmllint, say) is installed. Tests that need one skip
 * with a message when it is not; under CI=true (where .ci/run installs it) its absence
 * is an error.
 */
export function hasProgram(command: string, installHint: string): boolean {
  if (spawnSync(command, ['--version'], { stdio: 'ignore' }).error === undefined) return true;
  if (CI) throw new Error(`${command} is not installed (${installHint}), and CI=true requires it`);
  console.warn(`Skipping: ${command} is not installed (${installHint}); the tests that need it do not run`);
  return false;
}
