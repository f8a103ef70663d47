import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cliEnv } from '../helpers/cli.js';
import { REMOTE_DEFINITIONS } from './sample.js';

export interface RemoteServer {
  /** Its open FHIR base. */
  base: string;
  /** Stops it (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * A second `ccri serve` (the built program, on port 0 on loopback, SQLite under `dir`) holding
 * the SNOMED CT-shaped sample with `--definitions`: the remote terminology server of the tests.
 */
export function startRemote(dir: string): Promise<RemoteServer> {
  mkdirSync(dir, { recursive: true });
  const definitions = join(dir, 'definitions.json');
  writeFileSync(definitions, JSON.stringify(REMOTE_DEFINITIONS));
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--no-demo-data', '--data-dir', join(dir, 'data'), '--definitions', definitions], { env: cliEnv({ CCRI_TERMINOLOGY_URL: undefined }) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the remote ccri printed no banner in 60 s: ${stdout}${stderr}`));
    }, 60_000);
    const check = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+) \(process \d+\)/.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve({
        base: `http://127.0.0.1:${m[1]}/STU3`,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout.on('data', check);
    void exited.then(() => reject(new Error(`the remote ccri exited before its banner: ${stderr}`)));
  });
}
