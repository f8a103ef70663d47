import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

export interface Measured {
  name: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Runs autocannon against one URL (in this process; the servers run in their own). */
export async function measure(
  name: string,
  url: string,
  options: { connections?: number; duration?: number; headers?: Record<string, string>; method?: 'GET' | 'POST'; body?: string } = {},
): Promise<Measured> {
  const result = await autocannon({
    url,
    connections: options.connections ?? 10,
    duration: options.duration ?? 10,
    headers: options.headers ?? {},
    method: options.method ?? 'GET',
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  return {
    name,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/**
 * What the benchmarks leave behind them (servers, temporary folders), cleaned up however the
 * run ends: normally, on an error, or with Ctrl-C (SIGINT) or SIGTERM.
 */
const children = new Set<ChildProcess>();
const folders = new Set<string>();
let signalled = false;
function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  children.clear();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  folders.clear();
}
process.once('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (signalled) return;
    signalled = true;
    console.error(`\nbench: ${signal}, stopping the servers and removing the temporary folders`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

/** A temporary folder, removed at the end of the run (or sooner, with `remove`). */
export function tempFolder(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  folders.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      folders.delete(path);
    },
  };
}

/** A server the benchmark started, on the port it reported itself. */
export interface Started {
  child: ChildProcess;
  port: number;
  /** Stops the server; resolves once it has exited (its files may then be removed). */
  stop(): Promise<void>;
}

function started(child: ChildProcess): Started['stop'] {
  children.add(child);
  return () => {
    children.delete(child);
    return exited(child);
  };
}

/** Asks a child to stop (SIGTERM) and resolves once it has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill();
  return done;
}

/**
 * Starts `ccri serve --port 0` as a child process and waits for its banner, which gives the
 * port it is listening on and its process id: the server the benchmark then talks to is
 * the one it started, never another that happens to answer on some port. `checkout` is the
 * folder of the build to run (another checkout's, for an A/B run).
 */
export async function startCcri(env: Record<string, string>, checkout = '.'): Promise<Started> {
  const child = spawn(process.execPath, [join(checkout, 'dist/cli/main.js'), 'serve', '--port', '0', '--host', '127.0.0.1'], {
    cwd: checkout,
    env: { ...process.env, CCRI_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = started(child);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('ccri serve printed no banner in 120 s')), 120_000);
      child.once('exit', (code) => reject(new Error(`ccri serve exited (${code}) before it was listening`)));
      const stdout = child.stdout!;
      const onData = (chunk: Buffer): void => {
        out += String(chunk);
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+) \(process (\d+)\)/.exec(out);
        if (!m) return;
        clearTimeout(timer);
        // What the server logs from now on is drained unread: kept and searched, it cost the load
        // generator's process (on the same cores) more with every line (a warning per create
        // halved the creates measured).
        stdout.off('data', onData);
        stdout.resume();
        if (Number(m[2]) !== child.pid) reject(new Error(`the banner names process ${m[2]}, not the one started (${child.pid})`));
        else resolve(Number(m[1]));
      };
      stdout.on('data', onData);
    });
    await expectCapabilityStatement(`http://127.0.0.1:${port}/STU3/metadata`);
    return { child, port, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/**
 * Starts the bare node:http server (bare-server.mjs), or with `script` another ceiling
 * (fastify-bare.mjs), on a free port; it reports the port and its process id.
 */
export async function startBare(bodyFile: string, script = 'bench/bare-server.mjs'): Promise<Started> {
  const child = fork(script, [bodyFile], { stdio: 'inherit' });
  const stop = started(child);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bare server exited (${code}) before it was listening`)));
      child.once('message', (m: { port: number; pid: number }) => (m.pid === child.pid ? resolve(m.port) : reject(new Error(`the bare server reported process ${m.pid}, not ${child.pid}`))));
    });
    return { child, port, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function expectCapabilityStatement(url: string): Promise<void> {
  const res = await fetch(url);
  const body = (await res.json()) as { resourceType?: string };
  if (!res.ok || body.resourceType !== 'CapabilityStatement') throw new Error(`${url} answered ${res.status} ${body.resourceType ?? ''}, not a CapabilityStatement`);
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

/**
 * A fresh PostgreSQL schema for one run: its URL (the schema as the search_path) is handed to
 * `run`, and the schema is dropped afterwards. The base is BENCH_DATABASE_URL or the local
 * `test` database.
 */
export async function withPgSchema<T>(prefix: string, run: (url: string) => Promise<T>): Promise<T> {
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  const schema = `${prefix}_${process.pid}_${Date.now()}`;
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const joiner = base.includes('?') ? '&' : '?';
    return await run(`${base}${joiner}options=${encodeURIComponent(`-c search_path=${schema}`)}`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
}

/** Waits until a server's audit events are all copied for search (its /metrics, loopback); how many there were and how long it took. */
export async function untilCopied(port: number): Promise<string> {
  const started = performance.now();
  let first: number | undefined;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const lag = Number(/^ccri_audit_search_lag_events (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
    first ??= lag;
    if (lag === 0) return `${first} in ${((performance.now() - started) / 1000).toFixed(1)} s`;
    if (performance.now() - started > 600_000) throw new Error(`the audit copy is still ${lag} events behind after 10 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
