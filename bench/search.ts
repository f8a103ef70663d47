import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type CursorState, signCursor } from '../src/interactions/cursor.js';
import { searchRegistry } from '../src/search/registry.js';
import { machine, measure, startBare, startCcri, table, type Measured } from './lib.js';

/**
 * Search on a store of 10,000 synthetic patients (SQLite; BENCH_PATIENTS to change it), at 10
 * connections, against a bare node:http server returning the same bytes in the same run; with
 * the server's peak resident memory. Deep pages: in the default order, sorted (keyset, as
 * `next` links reach them) and by offset (as `previous` links do). The seeded store is kept in .bench/ and reused (seed it again by
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
    const sign = (q: string, state: CursorState) => signCursor(CURSOR_CONTEXT, 'search Observation', [...new URLSearchParams(q)], state);
    const deepQ = '_count=50';
    // Sorted pages 80% of the way through all Observations, reached as `next` links reach them: the
    // cursor holds the position of the row before the page (its sort key and rid), read from the store.
    const sorted = (sort: string, backward = false) => {
      const q = `_count=50&_sort=${sort}`;
      // Forwards, after the row before the page; backwards (a `previous` link), before the row after it.
      const { rid, k } = rowAt(dir, sort, backward ? deep + 50 : deep - 1);
      const state: CursorState = backward ? { o: deep, a: rid, k: [k], p: 1 } : { o: deep, a: rid, k: [k] };
      return [`Observation?${q}, page at ${deep.toLocaleString('en-GB')} (keyset${backward ? ', previous' : ''})`, `Observation?${q}&_cursor=${sign(q, state)}`] as [string, string];
    };
    const queries: Array<[string, string]> = [
      ['Observation?patient=X&category=vital-signs&_count=50', `Observation?patient=${pid}&category=vital-signs&_count=50`],
      ['Patient?family=…&birthdate=…', `Patient?family=${encodeURIComponent(family)}&birthdate=${birth}`],
      ['Patient?identifier=system|value', `Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|${nhs}`],
      ['Encounter?patient=X&_include=Encounter:diagnosis', `Encounter?patient=${pid}&_include=Encounter:diagnosis`],
      // Keyset: a page 80% of the way through all Observations (the cursor names the row to continue after).
      [`Observation?_count=50, page at ${deep.toLocaleString('en-GB')} (keyset)`, `Observation?${deepQ}&_cursor=${sign(deepQ, { o: deep, a: deep })}`],
      sorted('_lastUpdated'),
      sorted('-_lastUpdated'),
      sorted('date'),
      sorted('_lastUpdated', true),
      // By offset, as a cursor of an earlier release reaches it.
      [`Observation?_count=50&_total=none&_sort=_lastUpdated, page at ${deep.toLocaleString('en-GB')} (offset)`, `Observation?_count=50&_total=none&_sort=_lastUpdated&_cursor=${sign('_count=50&_total=none&_sort=_lastUpdated', { o: deep })}`],
    ];
    const rows: Measured[] = [];
    const bodyFile = join(dir, 'bare-body.json');
    for (const [name, path] of queries) {
      const started = performance.now();
      const res = await fetch(`${base}/${path}`);
      if (!res.ok) {
        // Refused (a query stopped at the time limit, say): the one request, not measured further.
        const ms = Math.round(performance.now() - started);
        const code = ((await res.json()) as { issue?: Array<{ code?: string }> }).issue?.[0]?.code ?? '';
        rows.push({ name: `${name}: one request, answered ${res.status} ${code} after ${ms} ms`, requestsPerSecond: 0, p50: ms, p99: ms, errors: 1, non2xx: 0 });
        continue;
      }
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

/** The cursors of an anonymous caller of the bench's server. */
const CURSOR_CONTEXT = { config: { cursorSecret: SECRET }, caller: { kind: 'anonymous' } } as unknown as Parameters<typeof signCursor>[0];

/**
 * The rid and sort key of the Observation at `offset` in the order of `_sort=sort` (`_lastUpdated`,
 * `-_lastUpdated` or `date`), read from the store's file as the search orders them.
 */
function rowAt(dir: string, sort: string, offset: number): { rid: number; k: number } {
  const db = new Database(join(dir, 'ccri.sqlite'), { readonly: true });
  try {
    if (sort === 'date') {
      const keys = searchRegistry().keys('Observation', 'date');
      const pids = db.prepare(`SELECT pid FROM search_param WHERE type = 'Observation' AND code IN (${keys.map(() => '?').join(', ')})`).pluck().all(...keys) as number[];
      const key = `(SELECT MIN(low) FROM idx_date WHERE rid = r.rid AND pid IN (${pids.join(', ')}))`;
      return db.prepare(`SELECT r.rid, ${key} AS k FROM resource r WHERE r.type = 'Observation' AND r.deleted = 0 ORDER BY k NULLS LAST, r.rid LIMIT 1 OFFSET ?`).get(offset) as { rid: number; k: number };
    }
    const dir_ = sort.startsWith('-') ? 'DESC' : 'ASC';
    return db.prepare(`SELECT rid, last_updated AS k FROM resource WHERE type = 'Observation' AND deleted = 0 ORDER BY last_updated ${dir_}, rid LIMIT 1 OFFSET ?`).get(offset) as { rid: number; k: number };
  } finally {
    db.close();
  }
}

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
}
