import { type ChildProcess, spawn } from 'node:child_process';
import { CLI, cliEnv } from './cli.js';

/** A `ccri serve` process (the built program) listening on a free loopback port. */
export interface ServeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>`, from its banner. */
  address: string;
  /** Everything it printed so far. */
  output(): string;
  /** Sends SIGTERM (a graceful stop) and resolves with its exit code. */
  stop(): Promise<number | null>;
  /** kill -9, resolving once it is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `ccri serve --port 0 --host 127.0.0.1 --no-demo-data <args>` and waits for the
 * banner that names the address. `env` adds to the environment the commands get (helpers/cli.ts).
 */
export function serveProcess(args: string[], env: Record<string, string | undefined> = {}, options: { demoData?: boolean } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...(options.demoData ? [] : ['--no-demo-data']), ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ccri serve did not start in 120 s:\n${out}`));
    }, 120_000);
    const check = (chunk: Buffer) => {
      out += String(chunk);
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        child,
        address: m[1]!,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', (chunk: Buffer) => (out += String(chunk)));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`ccri serve exited with ${code} before it listened:\n${out}`));
    });
  });
}

/** Runs `ccri <args>` without blocking this thread (spawnSync would stop the test's own clients meanwhile). */
export function ccriAsync(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}
