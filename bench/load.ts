import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { machine, tempFolder } from './lib.js';

/**
 * Bulk load: `ccri seed --patients N` (generate, index, write; search indexes built at the
 * end) into a fresh SQLite store and a fresh PostgreSQL schema, as a user would run it.
 */
const PATIENTS = Number(process.env.BENCH_LOAD_PATIENTS ?? 3000);

function seed(args: string[]): { resources: number; seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'seed', '--patients', String(PATIENTS), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed: ${r.stderr}`);
  const resources = Number(/Loaded (\d+) resources?/.exec(r.stdout)?.[1] ?? 0);
  return { resources, seconds: (Date.now() - started) / 1000 };
}

/** The median of `runs` timed runs of `once`, and the slowest and fastest rates. */
function measure(runs: number, once: () => { resources: number; seconds: number }): { resources: number; seconds: number; rates: number[] } {
  const all = Array.from({ length: runs }, once).sort((a, b) => a.seconds - b.seconds);
  const mid = all[Math.floor(all.length / 2)]!;
  return { ...mid, rates: all.map((r) => r.resources / r.seconds) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');
const row = (store: string, m: ReturnType<typeof measure>, target: number) =>
  `| ${store} | ${fmt(m.resources)} | ${m.seconds.toFixed(1)} | **${fmt(m.resources / m.seconds)}** (${fmt(Math.min(...m.rates))}–${fmt(Math.max(...m.rates))}) | ${fmt(target)} |`;

export async function loadBench(): Promise<string> {
  const runs = Number(process.env.BENCH_LOAD_RUNS ?? 3);
  const rows: string[] = [];
  rows.push(
    row(
      'SQLite',
      measure(runs, () => {
        const dir = tempFolder('ccri-load-');
        try {
          return seed(['--data-dir', dir.path]);
        } finally {
          dir.remove();
        }
      }),
      20_000,
    ),
  );
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
    const results: Array<{ resources: number; seconds: number }> = [];
    for (let i = 0; i < runs; i++) {
      const schema = `ccri_load_${process.pid}_${i}`;
      await admin.query(`CREATE SCHEMA ${schema}`);
      try {
        results.push(seed(['--database-url', `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`]));
      } finally {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    }
    let i = 0;
    rows.push(row('PostgreSQL 15', measure(runs, () => results[i++]!), 5_000));
  } catch (err) {
    rows.push(`| PostgreSQL | — | — | not measured: ${(err as Error).message.split('\n')[0]} | 5,000 |`);
  } finally {
    await admin.end().catch(() => undefined);
  }
  return [
    `### Bulk load (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. \`ccri seed --patients ${PATIENTS}\` into an empty store, the whole command timed (process start, generation, every search index), ${runs} runs: the median, and the slowest–fastest.`,
    '',
    '| store | resources | seconds | resources/s | target |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
