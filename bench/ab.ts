import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { exited, machine, measure, type Measured, startCcri, type Started, table, tempFolder } from './lib.js';

/**
 * `AB_OTHER=<checkout> npm run bench -- ab`: this build against another checkout's build (its
 * `dist`, built there with `npm ci`), in alternating rounds on the same machine, so that the
 * machine's drift falls on both alike. It measures what a change to the request path must
 * keep: a read by id, a search on two indexed parameters, and a seed load.
 *
 * `AB_SELF=<checkout>` puts another checkout in this build's place (to compare two older builds).
 * `AB_AUTH=1` asks both servers' /auth once before measuring, as a server whose secure API has been used.
 *
 * Both servers get the same environment (audit off by default, since builds older than the
 * audit do none: AB_ENV='CCRI_AUDIT=on' to change it) and the demo data.
 */
const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const SEED_RUNS = Number(process.env.AB_SEED_RUNS ?? 3);
const SEED_PATIENTS = Number(process.env.AB_SEED_PATIENTS ?? 1000);
/** AB_AUTH=1: both servers are asked for the authorization server's discovery document (/auth) once before they are measured. */
const AUTH = process.env.AB_AUTH === '1';

/** The servers' environment: audit off (builds older than the audit do none), and what AB_ENV sets. */
export function extraEnv(): Record<string, string> {
  const env: Record<string, string> = { CCRI_AUDIT: 'off' };
  for (const pair of (process.env.AB_ENV ?? '').split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${Math.round(x * 100)}%`;

/** Starts one build on its own SQLite folder, with the demo data. */
async function start(checkout: string): Promise<{ server: Started; base: string }> {
  const folder = tempFolder('ccri-ab-');
  const env = { ...extraEnv(), CCRI_DATA_DIR: folder.path };
  const server = checkout === '.' ? await startCcri(env, checkout) : await startOlder(env, checkout, folder.path);
  return { server, base: `http://127.0.0.1:${server.port}/STU3` };
}

/** A port free a moment ago (older builds print no port for `--port 0`, so they are given one). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
    probe.once('error', fail);
  });
}

/**
 * Starts a checkout's build on a port picked here, and waits for its banner naming this
 * run's own data folder (so the server answering is the one started) and for its metadata.
 * `wrap` runs node under another program (valgrind, for the instruction counts), in the same
 * process; `waitMs` is how long it may take to answer.
 */
export async function startOlder(
  env: Record<string, string>,
  checkout: string,
  dataDir: string,
  options: { wrap?: string[]; nodeFlags?: string[]; waitMs?: number } = {},
): Promise<Started> {
  const port = await freePort();
  const args = [...(options.nodeFlags ?? []), join(checkout, 'dist/cli/main.js'), 'serve', '--port', String(port), '--host', '127.0.0.1'];
  const [command, ...argv] = options.wrap?.length ? [...options.wrap, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(command!, argv, {
    cwd: checkout,
    env: { ...process.env, CCRI_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => exited(child);
  process.once('exit', stop);
  let out = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  const deadline = Date.now() + (options.waitMs ?? 120_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${checkout}: ccri serve exited (${child.exitCode}): ${out}`);
    if (Date.now() > deadline) {
      stop();
      throw new Error(`${checkout}: ccri serve did not answer in ${Math.round((options.waitMs ?? 120_000) / 1000)} s: ${out}`);
    }
    if (out.includes(dataDir)) {
      const res = await fetch(`http://127.0.0.1:${port}/STU3/metadata`).catch(() => undefined);
      if (res?.ok && ((await res.json()) as { resourceType?: string }).resourceType === 'CapabilityStatement') return { child, port, stop };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The id of the demo data's Bernie Kanfeld on a server (both builds load him). */
export async function bernie(base: string): Promise<string> {
  const res = await fetch(`${base}/Patient?family=kanfeld&given=bernie`);
  const bundle = (await res.json()) as { entry?: Array<{ resource: { id: string } }> };
  const id = bundle.entry?.[0]?.resource.id;
  if (!id) throw new Error(`${base} has no Bernie Kanfeld`);
  return id;
}

/** Alternating rounds of `path` on both servers; the per-round ratios this ÷ other. */
async function alternate(label: string, urls: { self: string; other: string }, duration: number): Promise<{ rows: Measured[]; ratios: number[]; p99: number[][] }> {
  await measure('warm-up', urls.self, { duration: 2 });
  await measure('warm-up', urls.other, { duration: 2 });
  const rows: Measured[] = [];
  const ratios: number[] = [];
  const p99: number[][] = [[], []];
  for (let round = 1; round <= ROUNDS; round++) {
    // Which goes first alternates too, so that neither always follows the other's garbage.
    const order = round % 2 ? (['self', 'other'] as const) : (['other', 'self'] as const);
    const got: Partial<Record<'self' | 'other', Measured>> = {};
    for (const which of order) got[which] = await measure(`${which === 'self' ? 'this build' : 'other build'}: ${label}, round ${round}`, urls[which], { duration });
    rows.push(got.self!, got.other!);
    ratios.push(got.self!.requestsPerSecond / got.other!.requestsPerSecond);
    p99[0]!.push(got.self!.p99);
    p99[1]!.push(got.other!.p99);
  }
  return { rows, ratios, p99 };
}

/** One `ccri seed` of a build into a fresh folder: resources per second. */
function seedOnce(checkout: string): number {
  const folder = tempFolder('ccri-ab-seed-');
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(checkout, 'dist/cli/main.js'), 'seed', '--patients', String(SEED_PATIENTS)], {
    cwd: checkout,
    encoding: 'utf8',
    env: { ...process.env, ...extraEnv(), CCRI_DATA_DIR: folder.path, CCRI_LOG_LEVEL: 'warn' },
  });
  const seconds = (Date.now() - started) / 1000;
  folder.remove();
  if (r.status !== 0) throw new Error(`seed in ${checkout} failed: ${r.stderr}`);
  const resources = Number(/Loaded (\d+) resources/.exec(r.stdout)?.[1] ?? 0);
  if (!resources) throw new Error(`seed in ${checkout} printed no count: ${r.stdout}`);
  return resources / seconds;
}

export async function abBench(duration = 10): Promise<string> {
  const other = process.env.AB_OTHER ? resolve(process.env.AB_OTHER) : '';
  if (!other || !existsSync(join(other, 'dist/cli/main.js'))) {
    throw new Error('AB_OTHER must name another checkout with a build (run `npm ci` there): AB_OTHER=../old npm run bench -- ab');
  }
  const mine = process.env.AB_SELF ? resolve(process.env.AB_SELF) : '.';
  const self = await start(mine);
  const that = await start(other);
  const lines: string[] = [];
  try {
    const ids = { self: await bernie(self.base), other: await bernie(that.base) };
    if (AUTH) {
      // As any server whose secure API has been used: oidc-provider's AsyncLocalStorage has been entered (instructions.ts says why that matters).
      for (const s of [self, that]) await fetch(new URL('/auth/.well-known/openid-configuration', s.base)).then((r) => r.arrayBuffer());
    }
    const read = await alternate('GET Patient/{id}', { self: `${self.base}/Patient/${ids.self}`, other: `${that.base}/Patient/${ids.other}` }, duration);
    const query = 'Patient?family=kanfeld&birthdate=1998-03-19';
    const search = await alternate(`GET ${query}`, { self: `${self.base}/${query}`, other: `${that.base}/${query}` }, duration);
    await Promise.all([self.server.stop(), that.server.stop()]);
    const seeds: number[] = [];
    const seedRates: number[][] = [[], []];
    for (let run = 0; run < SEED_RUNS; run++) {
      const order = run % 2 ? [other, mine] : [mine, other];
      const rate: Record<string, number> = {};
      for (const checkout of order) rate[checkout] = seedOnce(checkout);
      seeds.push(rate[mine]! / rate[other]!);
      seedRates[0]!.push(rate[mine]!);
      seedRates[1]!.push(rate[other]!);
    }
    const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');
    lines.push(
      `### This build against another (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. This build: ${mine === '.' ? 'this checkout' : mine}; other build: ${other}. SQLite, demo data, environment ${JSON.stringify(extraEnv())}${AUTH ? ', /auth asked once first' : ''}; autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds.`,
      '',
      table([...read.rows, ...search.rows]),
      '',
      '| what | this ÷ other, per round | median |',
      '|---|---|---:|',
      `| read by id, req/s | ${read.ratios.map(pct).join(', ')} | **${pct(median(read.ratios))}** |`,
      `| search, req/s | ${search.ratios.map(pct).join(', ')} | **${pct(median(search.ratios))}** |`,
    );
    // AB_SEED_RUNS=0 leaves the seed out (no row, rather than a median of nothing).
    if (seeds.length) lines.push(`| seed of ${SEED_PATIENTS} patients, resources/s (this: ${seedRates[0]!.map(fmt).join(', ')}; other: ${seedRates[1]!.map(fmt).join(', ')}) | ${seeds.map(pct).join(', ')} | **${pct(median(seeds))}** |`);
  } finally {
    await Promise.all([self.server.stop(), that.server.stop()]);
  }
  return lines.join('\n');
}
