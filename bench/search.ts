import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signCursor } from '../src/interactions/cursor.js';
import { machine, measure, startBare, startCcri, table, type Measured } from './lib.js';

/**
 * Search on a store of 10,000 synthetic patients (SQLite), at 10 connections, against a
 * bare node:http server returning the same bytes in the same run; with the server's peak
 * resident memory. The seeded store is kept in .bench/ and reused (seed it again by
 * deleting the folder).
 */
const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 10_000);
const SECRET = 'bench-cursor-secret';

export async function searchBench(duration = 10): Promise<string> {
  const dir = join('.bench', `search-${PATIENTS}`);
  const seeded = join(dir, 'seeded');
  if (!existsSync(seeded)) {
    mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'seed', '--patients', String(PATIENTS), '--seed', '1', '--demo', '--data-dir', dir], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('seeding failed');
    writeFileSync(seeded, `${Date.now() - started}`);
  }
  const seedMs = Number(readFileSync(seeded, 'utf8'));
  const ccri = await startCcri({ CCRI_DATA_DIR: dir, CCRI_CURSOR_SECRET: SECRET, CCRI_DEMO_DATA: 'false' });
  const base = `http://127.0.0.1:${ccri.port}/STU3`;
  try {
    const get = async (path: string) => (await (await fetch(`${base}/${path}`)).json()) as { total?: number; entry?: Array<{ resource: Record<string, any> }> };
    const total = (await get('Observation?_summary=count')).total ?? 0;
    const patient = (await get('Patient?_count=1&_sort=-_lastUpdated')).entry![0]!.resource;
    const pid = patient.id as string;
    const family = patient.name?.[0]?.family as string;
    const birth = patient.birthDate as string;
    const nhs = (patient.identifier as Array<{ system: string; value: string }>).find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')!.value;
    const deep = Math.floor(total * 0.8);
    const cursor = (q: string, state: { o: number; a?: number }) =>
      signCursor(SECRET, 'search Observation', [...new URLSearchParams(q)], state);
    const deepQ = '_count=50';
    const queries: Array<[string, string]> = [
      ['Observation?patient=X&category=vital-signs&_count=50', `Observation?patient=${pid}&category=vital-signs&_count=50`],
      ['Patient?family=…&birthdate=…', `Patient?family=${encodeURIComponent(family)}&birthdate=${birth}`],
      ['Patient?identifier=system|value', `Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`],
      ['Encounter?patient=X&_include=Encounter:diagnosis', `Encounter?patient=${pid}&_include=Encounter:diagnosis`],
      // Keyset: a page 80% of the way through all Observations (the cursor names the row to continue after).
      [`Observation?_count=50, page at ${deep.toLocaleString('en-GB')} (keyset)`, `Observation?${deepQ}&_cursor=${cursor(deepQ, { o: deep, a: deep })}`],
      [`Observation?_count=50&_total=none, page at ${deep.toLocaleString('en-GB')} (offset)`, `Observation?_count=50&_total=none&_sort=_lastUpdated&_cursor=${signCursor(SECRET, 'search Observation', [['_count', '50'], ['_total', 'none'], ['_sort', '_lastUpdated']], { o: deep })}`],
    ];
    const rows: Measured[] = [];
    const bodyFile = join(dir, 'bare-body.json');
    for (const [name, path] of queries) {
      const res = await fetch(`${base}/${path}`);
      if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
      const body = await res.text();
      await measure('warm-up', `${base}/${path}`, { duration: 2 });
      rows.push(await measure(`${name} (${(JSON.parse(body) as { entry?: unknown[] }).entry?.length ?? 0} entries, ${Math.round(body.length / 1024)} KB)`, `${base}/${path}`, { duration }));
      writeFileSync(bodyFile, JSON.stringify({ body, headers: { 'content-type': 'application/fhir+json; charset=utf-8' } }));
      const bare = await startBare(bodyFile);
      try {
        rows.push(await measure('  bare node:http, same bytes', `http://127.0.0.1:${bare.port}/`, { duration }));
      } finally {
        bare.stop();
      }
    }
    const rss = peakRss(ccri.child.pid!);
    return [
      `### Search on ${PATIENTS.toLocaleString('en-GB')} synthetic patients (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. SQLite; ${total.toLocaleString('en-GB')} Observations; seeded in ${(seedMs / 1000).toFixed(0)} s (\`ccri seed --patients ${PATIENTS}\`). autocannon, 10 connections, ${duration} s per query, each followed by a bare node:http server answering the same bytes.`,
      '',
      table(rows),
      '',
      `Peak resident memory of the server while serving these: **${Math.round(rss / 1024)} MB** (target < 300 MB).`,
    ].join('\n');
  } finally {
    ccri.stop();
  }
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
}
