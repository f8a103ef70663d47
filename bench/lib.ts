import { fork, spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import autocannon from 'autocannon';

export interface Measured {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon against one URL (in this process; the servers run in their own). */
export async function measure(name: string, url: string, options: { connections?: number; duration?: number; headers?: Record<string, string> } = {}): Promise<Measured> {
  const result = await autocannon({ url, connections: options.connections ?? 10, duration: options.duration ?? 10, headers: options.headers ?? {} });
  return {
    name,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** Starts `ccri serve` as a child process and waits until it answers. */
export async function startCcri(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', String(port), '--host', '127.0.0.1'], {
    env: { ...process.env, CCRI_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitFor(`http://127.0.0.1:${port}/STU3/metadata`, 120_000);
  return child;
}

export async function startBare(port: number, bodyFile: string): Promise<ChildProcess> {
  const child = fork('bench/bare-server.mjs', [String(port), bodyFile], { stdio: 'inherit' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  return child;
}

export async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function table(rows: Measured[]): string {
  const lines = ['| target | req/s | p50 ms | p99 ms | errors |', '|---|---:|---:|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.requestsPerSecond} | ${r.p50} | ${r.p99} | ${r.errors + r.non2xx} |`);
  return lines.join('\n');
}
