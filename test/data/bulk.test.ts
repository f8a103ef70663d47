import { EVERYTHING } from '../../src/search/access.js';
import Database from 'better-sqlite3';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPopulation, populationWorker } from '../../src/data/bulk/load.js';
import { generatePopulation } from '../../src/data/generate/population.js';
import { writeResources } from '../../src/data/write.js';
import { createIndexer } from '../../src/search/extract.js';
import { searchRegistry } from '../../src/search/registry.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import { prepareBatch, type PrepareContext } from '../../src/store/prepared.js';
import type { StoreAdmin as Store } from '../../src/store/store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');
const dirs: string[] = [];
const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  for (const drop of drops) await drop();
});

interface Opened {
  store: Store;
  /** Every row of every table a write fills, in a stable order. */
  dump: () => Promise<Record<string, unknown[]>>;
}

async function sqliteStore(): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-bulk-'));
  dirs.push(dir);
  const store = await openStore({ ...defaultStoreOptions(() => NOW), dataDir: dir });
  return { store, dump: async () => dumpSqlite(join(dir, 'ccri.sqlite')) };
}

async function postgresStore(): Promise<Opened> {
  const schema = await createTestSchema('ccri_bulk');
  drops.push(schema.drop);
  const store = await openStore({ ...defaultStoreOptions(() => NOW), databaseUrl: schema.url });
  return { store, dump: () => dumpPostgres(schema.url) };
}

function context(store: Store): PrepareContext {
  const pids = new Map<string, Map<string, number>>();
  for (const [type, key, pid] of store.paramIds()) {
    if (!pids.has(type)) pids.set(type, new Map());
    pids.get(type)!.set(key, pid);
  }
  return { indexer: createIndexer(searchRegistry()), pidsOf: (type) => pids.get(type) };
}

const INDEX_TABLES = ['token', 'string', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'];
const WORDS = ['hypertension', 'paracetamol', 'heart', 'ward'];

function dumpSqlite(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    out.resource = db.prepare('SELECT rid, type, id, version, last_updated, deleted FROM resource ORDER BY rid').raw().all();
    out.resource_version = db.prepare('SELECT rid, type, id, version, last_updated, method, json FROM resource_version ORDER BY seq').raw().all();
    for (const t of INDEX_TABLES) out[t] = db.prepare(`SELECT * FROM idx_${t}`).raw().all().map((r) => JSON.stringify(r)).sort();
    out.compartment = db.prepare('SELECT rid, patient FROM compartment ORDER BY rid, patient').raw().all();
    out.type_count = db.prepare('SELECT type, sum(n) AS n FROM type_count_part GROUP BY type ORDER BY type').raw().all();
    // The full-text index holds no text: ask it for the documents of a few words instead.
    out.text = WORDS.map((w) => db.prepare(`SELECT rowid FROM idx_text_content WHERE idx_text_content MATCH ? ORDER BY rowid`).pluck().all(`"${w}"*`));
    return out;
  } finally {
    db.close();
  }
}

async function dumpPostgres(url: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = async (sql: string, params: unknown[] = []) => (await client.query({ text: sql, values: params, rowMode: 'array' })).rows as unknown[][];
    const out: Record<string, unknown[]> = {};
    out.resource = await rows('SELECT rid, type, id, version, last_updated, deleted FROM resource ORDER BY rid');
    out.resource_version = await rows('SELECT rid, type, id, version, last_updated, method, json FROM resource_version ORDER BY seq');
    for (const t of INDEX_TABLES) out[t] = (await rows(`SELECT * FROM idx_${t}`)).map((r) => JSON.stringify(r)).sort();
    out.compartment = await rows('SELECT rid, patient FROM compartment ORDER BY rid, patient');
    out.type_count = await rows('SELECT type, sum(n)::bigint AS n FROM type_count_part GROUP BY type ORDER BY type');
    out.text = [];
    for (const w of WORDS) out.text.push((await rows(`SELECT rid FROM idx_text WHERE content @@ to_tsquery('simple', $1) ORDER BY rid`, [`${w}:*`])).flat());
    return out;
  } finally {
    await client.end();
  }
}

const KINDS: Array<[string, () => Promise<Opened>]> = [['SQLite', sqliteStore]];
if (await shouldRunPostgres()) KINDS.push(['PostgreSQL', postgresStore]);

describe.each(KINDS)('bulk loads (prepared batches) on %s', (_kind, open) => {
  const resources = () => [...generatePopulation({ patients: 25, seed: 7 })];

  it('leave exactly the rows that ordinary writes leave', async () => {
    const ordinary = await open();
    await writeResources(ordinary.store, resources(), { batchSize: 100 });
    const a = await ordinary.dump();
    await ordinary.store.close();

    const prepared = await open();
    const ctx = context(prepared.store);
    const all = resources();
    for (let i = 0; i < all.length; i += 100) await prepared.store.writePrepared(prepareBatch(all.slice(i, i + 100), ctx, NOW));
    const b = await prepared.dump();
    await prepared.store.close();

    expect(a.resource!.length).toBe(all.length);
    expect((a.token as unknown[]).length).toBeGreaterThan(all.length);
    expect((a.text as unknown[][]).some((ids) => ids.length > 0)).toBe(true);
    for (const table of Object.keys(a)) expect(b[table], table).toEqual(a[table]);
  });

  it('writes a batch with an existing resource, or an id twice, the ordinary way', async () => {
    const { store } = await open();
    const ctx = context(store);
    const patient = (family: string) => ({ resourceType: 'Patient', id: 'p1', name: [{ family }] });
    await store.writePrepared(prepareBatch([patient('One')], ctx, NOW));
    // p1 exists: the batch becomes an update (version 2) and the new Observation is still written.
    const obs = { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } };
    await store.writePrepared(prepareBatch([patient('Two'), obs], ctx, NOW));
    expect((await store.reader(EVERYTHING).read('Patient', 'p1'))?.version).toBe(2);
    expect((await store.reader(EVERYTHING).read('Observation', 'o1'))?.version).toBe(1);
    // The same id twice in one batch: both writes happen, in order.
    const batch = prepareBatch([patient('Three'), patient('Four')], ctx, NOW);
    expect(batch.distinct).toBe(false);
    await store.writePrepared(batch);
    const read = await store.reader(EVERYTHING).read('Patient', 'p1');
    expect(read?.version).toBe(4);
    expect(JSON.parse(read!.json!).name[0].family).toBe('Four');
    const found = await store.reader(EVERYTHING).search({ types: ['Patient'], where: [{ kind: 'string', param: 'family', mode: 'prefix', values: ['four'] }], sort: [], count: 10, offset: 0, total: true });
    expect(found.rows.map((r) => r.id)).toEqual(['p1']);
    expect((await store.counts()).get('Patient')).toBe(1);
    await store.close();
  });

  it('refuses a resource without an id, and an index key the store does not know', async () => {
    const { store } = await open();
    const ctx = context(store);
    expect(() => prepareBatch([{ resourceType: 'Patient' }], ctx, NOW)).toThrow(/without an id/);
    expect(() => prepareBatch([{ resourceType: 'Patient', id: 'x', gender: 'male' }], { ...ctx, pidsOf: () => new Map() }, NOW)).toThrow(/No parameter id/);
    await store.close();
  });

  it('loads a generated population through the preparing worker thread', async () => {
    const { store, dump } = await open();
    const progress: number[] = [];
    const worker = populationWorker({ patients: 25, seed: 7 }, { batchSize: 100 });
    // The store says when the load has ended and it builds the indexes it dropped (the CLI tells the user).
    let builtAfter: number | undefined;
    let built = 0;
    const n = await store.bulk(
      () => loadPopulation(store, worker, (w) => progress.push(w)),
      () => {
        built++;
        builtAfter = progress.at(-1);
      },
    );
    expect(n).toBe(resources().length);
    expect(progress.at(-1)).toBe(n);
    expect([built, builtAfter]).toEqual([1, n]);
    expect(progress.length).toBeGreaterThan(1);
    const total = [...(await store.counts()).values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(n);
    const found = await store.reader(EVERYTHING).search({ types: ['Observation'], where: [{ kind: 'token', param: 'category', values: [{ code: 'vital-signs' }] }], sort: [], count: 1, offset: 0, total: true });
    expect(found.total).toBeGreaterThan(0);
    expect((await dump()).resource!.length).toBe(n);
    await store.close();
  });
});
