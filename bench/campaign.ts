import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, startCcri } from './lib.js';

/**
 * `npm run bench -- campaign`: the slow requests of issue 15's hostile-input campaign, each
 * sent once to a server on a store of 2,000 synthetic patients (SQLite; PostgreSQL too when
 * BENCH_DATABASE_URL names a database whose search_path is an empty schema), with its status
 * and time, and how long a plain read waits while the heaviest runs. The store is kept in
 * .bench/ and reused (SQLite); a PostgreSQL one is seeded each run.
 */
const PATIENTS = Number(process.env.BENCH_CAMPAIGN_PATIENTS ?? 2000);

export async function campaignBench(): Promise<string> {
  const dir = join('.bench', `campaign-${PATIENTS}`);
  if (!existsSync(join(dir, 'seeded'))) {
    mkdirSync(dir, { recursive: true });
    seed(['--data-dir', dir]);
    writeFileSync(join(dir, 'seeded'), '');
  }
  const sections = [await run('SQLite', { CCRI_DATA_DIR: dir })];
  const pg = process.env.BENCH_DATABASE_URL;
  if (pg) {
    seed(['--reset', '--database-url', pg]);
    sections.push(await run('PostgreSQL', { DATABASE_URL: pg }));
  }
  return [
    `### The campaign's slow requests (issue 15), ${PATIENTS.toLocaleString('en-GB')} patients (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. Each request sent once after a warm-up read; the default limits (CCRI_QUERY_TIMEOUT_MS 10 s, Bundles of at most 1,000 entries and 16 MB).`,
    '',
    ...sections,
  ].join('\n');
}

function seed(args: string[]): void {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', 'seed', '--patients', String(PATIENTS), '--seed', '1', ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('seeding failed');
}

async function run(store: string, env: Record<string, string>): Promise<string> {
  const ccri = await startCcri({ ...env, CCRI_DEMO_DATA: 'false' });
  const base = `http://127.0.0.1:${ccri.port}/STU3`;
  const and = (n: number) => `Patient?${Array.from({ length: n }, (_, i) => `family=a${i}`).join('&')}`;
  const batch = { resourceType: 'Bundle', type: 'batch', entry: Array.from({ length: 200 }, () => ({ request: { method: 'GET', url: 'Patient?_revinclude=*&_count=100' } })) };
  const requests: Array<[string, string, unknown?]> = [
    ['H1 Observation?_sort=code&_count=10', 'Observation?_sort=code&_count=10'],
    ['H1 ?_type=Patient,Observation&_sort=identifier', '?_type=Patient,Observation&_sort=identifier'],
    ['H3 50 ANDed family values', and(50)],
    ['H3 200 ANDed family values', and(200)],
    ['M4 Organization?_revinclude:iterate=*&_count=100', 'Organization?_revinclude:iterate=*&_count=100'],
    ['M4 Observation?_include:iterate=*&_revinclude:iterate=*', 'Observation?_include:iterate=*&_revinclude:iterate=*'],
    ['M1 batch of 200 × Patient?_revinclude=*&_count=100', '', batch],
  ];
  const rows = ['| request | status | ms |', '|---|---|---|'];
  try {
    await fetch(`${base}/Patient?_count=1`);
    let during = '';
    for (const [name, path, body] of requests) {
      const started = performance.now();
      const sent = fetch(`${base}/${path}`, body ? { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/fhir+json' } } : {});
      // While the heaviest runs, a plain read: how long it waits behind it.
      const read = body
        ? new Promise<number>((resolve) =>
            setTimeout(async () => {
              const t = performance.now();
              await (await fetch(`${base}/Patient?_count=1`)).text();
              resolve(performance.now() - t);
            }, 500),
          )
        : undefined;
      const res = await sent;
      await res.text();
      rows.push(`| ${name} | ${res.status} | ${Math.round(performance.now() - started)} |`);
      if (read) during = `A \`Patient?_count=1\` sent 0.5 s into the batch was answered in ${Math.round(await read)} ms.`;
    }
    return [`#### ${store}`, '', ...rows, '', during, ''].join('\n');
  } finally {
    ccri.stop();
  }
}
