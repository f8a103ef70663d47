import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, measure, startCcri, tempFolder, withPgSchema, type Measured } from './lib.js';

/**
 * Issue 16, writes: transaction Bundles and single creates, on SQLite and PostgreSQL, in
 * alternating rounds, each round on a fresh store (a temporary SQLite folder, or a fresh
 * PostgreSQL schema in BENCH_DATABASE_URL's database, the local `test` one by default).
 *
 * - Transactions: the SMART sample Bundles (../shared/sample-data/smart-stu3, 123 Bundles of
 *   real-world STU3 data) POSTed to a listening `ccri serve`, by one client one after another,
 *   and by four clients taking them in turn; validation and audit off. Bundles the server
 *   refuses (some of the sample's resources are malformed) are counted apart.
 * - Creates: POST Patient (the same small Patient; the server gives each its id), autocannon
 *   with 10 connections, validation at its default, audit off and on.
 */
const SAMPLES = join(process.cwd(), '..', 'shared', 'sample-data', 'smart-stu3');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Store = { name: string; env: (run: (env: Record<string, string>) => Promise<string>) => Promise<string> };

function stores(): Store[] {
  const sqlite: Store = {
    name: 'SQLite',
    env: async (run) => {
      const folder = tempFolder('ccri-bench-w-');
      try {
        return await run({ CCRI_DATA_DIR: folder.path });
      } finally {
        folder.remove();
      }
    },
  };
  const postgres: Store = {
    name: 'PostgreSQL',
    env: (run) =>
      withPgSchema('ccri_bench_w', async (url) => {
        // The data folder holds what is not in the database (the signing keys' fallback, export files).
        const folder = tempFolder('ccri-bench-w-');
        try {
          return await run({ DATABASE_URL: url, CCRI_DATA_DIR: folder.path });
        } finally {
          folder.remove();
        }
      }),
  };
  return [sqlite, postgres];
}

async function postBundles(url: string, bundles: Array<{ body: string; entries: number }>, clients: number): Promise<{ written: number; refused: number; seconds: number }> {
  let written = 0;
  let refused = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < bundles.length; i = next++) {
        const b = bundles[i]!;
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: b.body });
        await res.arrayBuffer();
        if (res.status === 200) written += b.entries;
        else refused++;
      }
    }),
  );
  return { written, refused, seconds: (performance.now() - started) / 1000 };
}

async function transactionRound(store: Store, clients: number, bundles: Array<{ body: string; entries: number }>, round: number): Promise<{ row: string; perSecond: number }> {
  let perSecond = 0;
  const row = await store.env(async (env) => {
    const server = await startCcri({ ...env, CCRI_DEMO_DATA: 'false', CCRI_VALIDATION: 'off', CCRI_AUDIT: 'off', CCRI_BUNDLE_MAX_ENTRIES: '100000' });
    try {
      const r = await postBundles(`http://127.0.0.1:${server.port}/STU3`, bundles, clients);
      perSecond = Math.round(r.written / r.seconds);
      return `| ${store.name}, ${clients} client${clients > 1 ? 's' : ''}, round ${round} | ${bundles.length - r.refused} of ${bundles.length} | ${r.written} | ${r.seconds.toFixed(1)} | ${perSecond} |`;
    } finally {
      server.stop();
    }
  });
  return { row, perSecond };
}

const PATIENT = JSON.stringify({
  resourceType: 'Patient',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }],
  name: [{ use: 'official', family: 'Kanfeld', given: ['Bernie'], prefix: ['Mr'] }],
  gender: 'male',
  birthDate: '1998-03-19',
  address: [{ line: ['10 Field Jardin'], city: 'Long Eaton', postalCode: 'NG10 1ZZ' }],
});

async function createRound(store: Store, audit: 'on' | 'off', duration: number, round: number): Promise<Measured> {
  let measured: Measured | undefined;
  await store.env(async (env) => {
    const server = await startCcri({ ...env, CCRI_DEMO_DATA: 'false', CCRI_AUDIT: audit });
    try {
      const url = `http://127.0.0.1:${server.port}/STU3/Patient`;
      const post = { method: 'POST' as const, body: PATIENT, headers: { 'content-type': 'application/fhir+json' } };
      await measure('warm-up', url, { ...post, duration: 1 });
      measured = await measure(`POST Patient, ${store.name}, audit ${audit}, round ${round}`, url, { ...post, duration });
      return '';
    } finally {
      server.stop();
    }
  });
  return measured!;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function transactionsBench(): Promise<string> {
  if (!existsSync(SAMPLES)) return `### Transaction Bundles\n\nSkipped: ${SAMPLES} is not there (the SMART sample Bundles).`;
  const bundles = readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const body = readFileSync(join(SAMPLES, f), 'utf8');
      return { body, entries: (JSON.parse(body) as { entry?: unknown[] }).entry?.length ?? 0 };
    });
  const rows: string[] = [];
  const rates = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const store of stores()) {
      for (const clients of [1, 4]) {
        const r = await transactionRound(store, clients, bundles, round);
        rows.push(r.row);
        const key = `${store.name}, ${clients} client${clients > 1 ? 's' : ''}`;
        rates.set(key, [...(rates.get(key) ?? []), r.perSecond]);
      }
    }
  }
  return [
    `### Transaction Bundles (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. The ${bundles.length} SMART sample Bundles POSTed to a fresh store by one client in turn, or by four clients taking them in turn; validation and audit off; ${ROUNDS} alternating rounds.`,
    '',
    '| store, clients, round | Bundles written | resources | seconds | resources/s |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    `Medians, resources/s: ${[...rates].map(([k, v]) => `${k} **${median(v)}**`).join('; ')}.`,
  ].join('\n');
}

export async function createsBench(duration = 10): Promise<string> {
  const rows: Measured[] = [];
  const rates = new Map<string, number[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const store of stores()) {
      for (const audit of ['off', 'on'] as const) {
        const m = await createRound(store, audit, duration, round);
        rows.push(m);
        const key = `${store.name}, audit ${audit}`;
        rates.set(key, [...(rates.get(key) ?? []), m.requestsPerSecond]);
      }
    }
  }
  return [
    `### Single creates (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. POST Patient to a fresh store, autocannon with 10 connections, ${duration} s per target, validation at its default, ${ROUNDS} alternating rounds.`,
    '',
    '| target | creates/s | p50 ms | p99 ms | errors | non-2xx |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.requestsPerSecond} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`),
    '',
    `Medians, creates/s: ${[...rates].map(([k, v]) => `${k} **${median(v)}**`).join('; ')}.`,
  ].join('\n');
}
