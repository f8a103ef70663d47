import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { machine } from './lib.js';

/**
 * Bulk load: `ccri seed --patients N` (generate, index, write; search indexes built at the
 * end) into a fresh SQLite store and a fresh PostgreSQL schema, as a user would run it.
 */
const PATIENTS = Number(process.env.BENCH_LOAD_PATIENTS ?? 3000);

function seed(args: string[]): { resources: number; seconds: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'seed', '--patients', String(PATIENTS), ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`seed failed: ${r.stderr}`);
  const resources = Number(/Loaded (\d+) resources/.exec(r.stdout)?.[1] ?? 0);
  return { resources, seconds: (Date.now() - started) / 1000 };
}

export async function loadBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-load-'));
  const rows: string[] = [];
  try {
    const s = seed(['--data-dir', dir]);
    rows.push(`| SQLite | ${s.resources.toLocaleString('en-GB')} | ${s.seconds.toFixed(1)} | ${Math.round(s.resources / s.seconds).toLocaleString('en-GB')} | 20,000 |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `ccri_load_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const p = seed(['--database-url', `${base}?options=${encodeURIComponent(`-c search_path=${schema}`)}`]);
    rows.push(`| PostgreSQL 15 | ${p.resources.toLocaleString('en-GB')} | ${p.seconds.toFixed(1)} | ${Math.round(p.resources / p.seconds).toLocaleString('en-GB')} | 5,000 |`);
  } catch (err) {
    rows.push(`| PostgreSQL | — | — | not measured: ${(err as Error).message.split('\n')[0]} | 5,000 |`);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  }
  return [
    `### Bulk load (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. \`ccri seed --patients ${PATIENTS}\` into an empty store: generation, validation-free writes with every search index (built at the end on SQLite), whole command timed.`,
    '',
    '| store | resources | seconds | resources/s | target |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
