import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

/** The built program, as a user runs it (`npm test` builds it first). */
export const CLI = join(projectRoot(), 'dist', 'cli', 'main.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ccri <args>` (the built program) to its end. The environment is this one's without
 * the variables that choose a store, plus `env` (a value of undefined removes a variable).
 */
export function ccri(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): CliRun {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test builds it first)`);
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024, cwd: options.cwd ?? projectRoot(), env: cliEnv(options.env), ...(options.input !== undefined ? { input: options.input } : {}) });
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CCRI_LOG_LEVEL: 'error' };
  for (const name of ['DATABASE_URL', 'CCRI_DATA_DIR', 'CCRI_PORT', 'PORT', 'CCRI_BASE_URL']) delete env[name];
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
