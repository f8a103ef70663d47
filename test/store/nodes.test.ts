import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { EVERYTHING } from '../../src/search/access.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import { PostgresDriver } from '../../src/store/postgres/driver.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import { prepareBatch } from '../../src/store/prepared.js';
import { SCHEMA_VERSION } from '../../src/store/sql/migrations.js';
import type { StoreAdmin } from '../../src/store/store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * Several nodes on one database: schema migrations run once while the others wait, a
 * bulk load keeps the indexes another node serves from, a bulk load's relaxed
 * durability stays its own, and a store newer than this release is refused.
 */

const withPostgres = await shouldRunPostgres();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Node {
  process: ChildProcess;
  /** Where it listens, as it printed it. */
  address: string;
  output: () => string;
}

/** Starts `ccri serve` (the built program) on a free port with its own base URL, and waits for it to listen. */
function startNode(env: Record<string, string>, name: string): Promise<Node> {
  const child = spawn(process.execPath, [join(projectRoot(), 'dist/cli/main.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--no-demo-data', '--base-url', `http://${name}.test/STU3`], {
    env: { ...process.env, ...env, CCRI_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c) => (out += String(c)));
  child.stderr!.on('data', (c) => (out += String(c)));
  cleanups.push(async () => {
    child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ process: child, address: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
}

async function schema(prefix: string): Promise<string> {
  const s = await createTestSchema(prefix);
  cleanups.push(s.drop);
  return s.url;
}

async function indexNames(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname');
    return rows.map((r) => r.indexname);
  } finally {
    await c.end();
  }
}

const patient = (id: string) => ({ resourceType: 'Patient', id, name: [{ family: `Family${id}` }], gender: 'female' });

/** Writes `n` new Patients as prepared batches inside a bulk load, calling `during` once the first batch is in. */
async function bulkLoad(store: StoreAdmin, n: number, during: () => Promise<void>): Promise<void> {
  const pids = new Map<string, Map<string, number>>();
  for (const [type, key, pid] of store.paramIds()) (pids.get(type) ?? pids.set(type, new Map()).get(type)!).set(key, pid);
  const { indexer } = defaultStoreOptions();
  await store.bulk(async () => {
    for (let i = 0; i < n; i += 50) {
      const batch = Array.from({ length: Math.min(50, n - i) }, (_, j) => patient(`bulk${i + j}`));
      await store.writePrepared(prepareBatch(batch, { indexer, pidsOf: (t) => pids.get(t) }, Date.now()));
      if (i === 0) await during();
    }
  });
}

describe.runIf(withPostgres)('nodes on one PostgreSQL', () => {
  it('two nodes started at the same moment on an empty database: one migrates, the other waits, both serve', async () => {
    const url = await schema('ccri_nodes');
    const [a, b] = await Promise.all([startNode({ DATABASE_URL: url }, 'node-a'), startNode({ DATABASE_URL: url }, 'node-b')]);
    const migrated = [a, b].filter((n) => n.output().includes("The store's schema was migrated"));
    expect(migrated).toHaveLength(1);
    // Each answers as itself (its own base URL), and both see one store.
    const created = await fetch(`${a.address}/STU3/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(patient('x')) });
    expect(created.status).toBe(201);
    const id = ((await created.json()) as { id: string }).id;
    for (const [node, name] of [[a, 'node-a'], [b, 'node-b']] as const) {
      const meta = (await (await fetch(`${node.address}/STU3/metadata`)).json()) as { implementation: { url: string } };
      expect(meta.implementation.url).toBe(`http://${name}.test/STU3`);
      expect((await fetch(`${node.address}/STU3/Patient/${id}`)).status).toBe(200);
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    expect((await c.query("SELECT value FROM store_meta WHERE key = 'schema_version'")).rows[0].value).toBe(String(SCHEMA_VERSION));
    await c.end();
  });

  it('a bulk load while another node serves keeps the indexes, and that node searches on', async () => {
    const url = await schema('ccri_bulk_shared');
    const serving = await openStore({ ...defaultStoreOptions(), databaseUrl: url });
    cleanups.push(() => serving.close());
    await serving.holdServing();
    let shared = 0;
    const loader = await openStore({ ...defaultStoreOptions(), databaseUrl: url, onBulkShared: () => shared++ });
    cleanups.push(() => loader.close());
    const before = await indexNames(url);
    expect(before).toContain('idx_string_prefix');
    await bulkLoad(loader, 200, async () => {
      expect(await indexNames(url)).toEqual(before);
      const found = await serving.reader(EVERYTHING).search({ types: ['Patient'], where: [{ kind: 'string', param: 'family', mode: 'exact', values: ['Familybulk3'] }], sort: [], count: 10, offset: 0, total: true });
      expect(found.rows.map((r) => r.id)).toEqual(['bulk3']);
    });
    expect(shared).toBe(1);
    expect(await indexNames(url)).toEqual(before);
  });

  it('a bulk load with no other node serving drops the search-only indexes and builds them again', async () => {
    const url = await schema('ccri_bulk_alone');
    const loader = await openStore({ ...defaultStoreOptions(), databaseUrl: url });
    cleanups.push(() => loader.close());
    const before = await indexNames(url);
    await bulkLoad(loader, 100, async () => {
      const during = await indexNames(url);
      expect(during).not.toContain('idx_string_prefix');
      expect(during).toContain('idx_string_rid');
    });
    expect(await indexNames(url)).toEqual(before);
    expect((await loader.counts()).get('Patient')).toBe(100);
  });

  it("a bulk load's relaxed durability is its own transaction's, never a concurrent one's", async () => {
    const url = await schema('ccri_relaxed');
    const driver = new PostgresDriver(url);
    cleanups.push(() => driver.close());
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const relaxed = driver.transaction(
      async (conn) => {
        const inside = (await conn.get<{ synchronous_commit: string }>('SHOW synchronous_commit'))!.synchronous_commit;
        await held;
        return inside;
      },
      { relaxed: true },
    );
    const ordinary = await driver.transaction(async (conn) => (await conn.get<{ synchronous_commit: string }>('SHOW synchronous_commit'))!.synchronous_commit);
    release();
    expect(await relaxed).toBe('off');
    expect(ordinary).toBe('on');
  });

  it("gathers statistics on the store's own tables, not on the rest of the database's", async () => {
    const [mine, other] = [await schema('ccri_analyze'), await schema('ccri_neighbour')];
    const c = new pg.Client({ connectionString: other });
    await c.connect();
    cleanups.push(() => c.end());
    await c.query('CREATE TABLE neighbour (x int)');
    const driver = new PostgresDriver(mine);
    cleanups.push(() => driver.close());
    await driver.transaction((conn) => conn.run('CREATE TABLE own (x int)'));
    await driver.analyze();
    const analyzed = async (table: string) =>
      (await c.query<{ n: string }>('SELECT analyze_count AS n FROM pg_stat_user_tables WHERE relname = $1', [table])).rows.map((r) => Number(r.n));
    expect(await analyzed('own')).toEqual([1]);
    expect(await analyzed('neighbour')).toEqual([0]);
  });
});

describe("the store's lock", () => {
  const kinds = withPostgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
  for (const kind of kinds) {
    it(`is held by one opener at a time, the others waiting their turn (${kind})`, async () => {
      let drivers: Array<{ withLock<T>(fn: () => Promise<T>): Promise<T>; close(): Promise<void> }>;
      if (kind === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'ccri-lock-'));
        cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        drivers = [0, 1, 2].map(() => new SqliteDriver(join(dir, 'ccri.sqlite')));
      } else {
        const url = await schema('ccri_lock');
        drivers = [0, 1, 2].map(() => new PostgresDriver(url));
      }
      const events: string[] = [];
      await Promise.all(
        drivers.map((d, i) =>
          d.withLock(async () => {
            events.push(`in ${i}`);
            await new Promise((r) => setTimeout(r, 150));
            events.push(`out ${i}`);
          }),
        ),
      );
      for (const d of drivers) await d.close();
      // Never two inside at once: every entry is followed by its own exit.
      for (let e = 0; e < events.length; e += 2) expect(events[e + 1]).toBe(events[e]!.replace('in', 'out'));
      expect(events).toHaveLength(6);
    });
  }
});

describe('a store newer than this release', () => {
  const kinds = withPostgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
  for (const kind of kinds) {
    it(`is refused, not misread (${kind})`, async () => {
      let location: { dataDir: string } | { databaseUrl: string };
      if (kind === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'ccri-newer-'));
        cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        location = { dataDir: dir };
      } else {
        location = { databaseUrl: await schema('ccri_newer') };
      }
      const store = await openStore({ ...defaultStoreOptions(), ...location });
      await store.setting('probe', () => 'x');
      // What a later release would leave behind.
      const admin = store as unknown as { driver: { transaction(fn: (c: { run(s: string): Promise<number> }) => Promise<unknown>): Promise<unknown> } };
      await admin.driver.transaction((c) => c.run(`UPDATE store_meta SET value = '${SCHEMA_VERSION + 1}' WHERE key = 'schema_version'`));
      await store.close();
      await expect(openStore({ ...defaultStoreOptions(), ...location })).rejects.toThrow(/schema is version \d+, which this release of ccri does not know/);
    });
  }
});
