import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, startCcri, tempFolder } from './lib.js';

/**
 * Issue 16: transaction Bundles per second, one client, validation off: the SMART sample
 * Bundles (../shared/sample-data/smart-stu3, 123 Bundles of real-world STU3 data) POSTed one
 * after another to a listening `ccri serve`, on SQLite and, with BENCH_DATABASE_URL (a
 * database whose search_path is an empty schema), on PostgreSQL. Bundles the server refuses
 * (some of the sample's resources are malformed) are counted apart.
 */
const SAMPLES = join(process.cwd(), '..', 'shared', 'sample-data', 'smart-stu3');

async function run(label: string, env: Record<string, string>, bundles: Array<{ body: string; entries: number }>): Promise<string> {
  const folder = tempFolder('ccri-bench-tx-');
  const server = await startCcri({ CCRI_DATA_DIR: folder.path, CCRI_DEMO_DATA: 'false', CCRI_VALIDATION: 'off', CCRI_AUDIT: 'off', CCRI_BUNDLE_MAX_ENTRIES: '100000', ...env });
  try {
    const url = `http://127.0.0.1:${server.port}/STU3`;
    let written = 0;
    let refused = 0;
    const started = performance.now();
    for (const b of bundles) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: b.body });
      await res.arrayBuffer();
      if (res.status === 200) written += b.entries;
      else refused++;
    }
    const seconds = (performance.now() - started) / 1000;
    return `| ${label} | ${bundles.length - refused} of ${bundles.length} | ${written} | ${seconds.toFixed(1)} | **${Math.round(written / seconds)}** |`;
  } finally {
    server.stop();
    folder.remove();
  }
}

export async function transactionsBench(): Promise<string> {
  if (!existsSync(SAMPLES)) return `### Transaction Bundles\n\nSkipped: ${SAMPLES} is not there (the SMART sample Bundles).`;
  const bundles = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const body = readFileSync(join(SAMPLES, f), 'utf8');
      return { body, entries: (JSON.parse(body) as { entry?: unknown[] }).entry?.length ?? 0 };
    });
  const rows = [await run('SQLite', {}, bundles)];
  const pg = process.env.BENCH_DATABASE_URL;
  if (pg) rows.push(await run('PostgreSQL', { DATABASE_URL: pg }, bundles));
  return [
    `### Transaction Bundles (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. The ${bundles.length} SMART sample Bundles POSTed one after another to a fresh store, one client, validation and audit off${pg ? '' : ' (PostgreSQL: set BENCH_DATABASE_URL)'}.`,
    '',
    '| store | Bundles written | resources | seconds | resources/s |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
