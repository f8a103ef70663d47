import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/fhir/outcome.js';
import { EVERYTHING } from '../../src/search/access.js';
import { compileSearch } from '../../src/search/compile/compile.js';
import { parseSearch } from '../../src/search/parse/query.js';
import { searchRegistry } from '../../src/search/registry.js';
import { Cancellation } from '../../src/store/cancel.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { ClientGone } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open.js';
import { PostgresDriver } from '../../src/store/postgres/driver.js';
import { MIGRATIONS } from '../../src/store/sql/migrations.js';
import { stepDdl } from '../../src/store/sql/schema.js';
import { SqlStore } from '../../src/store/sql/sql-store.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import { SqliteDriver } from '../../src/store/sqlite/driver.js';
import type { WriteOp } from '../../src/store/store.js';
import { baseUrl, createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * Issue 15's findings about queries that ran away (H1, H3, L5): a sort's plan is bounded
 * whatever the statistics, a request's query stops at the time limit on both stores (and
 * administration does not), a disconnected client's query is cancelled, and a database
 * that is gone answers 503.
 */

const withPostgres = await shouldRunPostgres();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-limits-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const registry = searchRegistry();
const plan = (type: string, query: string) => parseSearch([type], [...new URLSearchParams(query)], registry, { defaultCount: 10, maxCount: 100, strict: true }).plan;

const observations = (n: number): WriteOp[] =>
  Array.from({ length: n }, (_, i) => ({
    type: 'Observation',
    id: `o${i}`,
    resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: `c${i % 97}` }] } },
  }));

describe('H1: a sort on a token parameter (SQLite)', () => {
  it('looks each value up by (rid, pid) even in a store without statistics', () => {
    // A database with the schema and no sqlite_stat1: what a store grown by requests had.
    const db = new Database(':memory:');
    for (const m of MIGRATIONS) for (const step of m.steps) for (const ddl of stepDdl(step, sqliteDialect)) db.exec(ddl);
    db.function('ccri_live', () => 1);
    const compiled = compileSearch(plan('Observation', '_sort=code'), EVERYTHING, () => [1], sqliteDialect);
    const lines = (db.prepare(`EXPLAIN QUERY PLAN ${compiled.page.text}`).all(...compiled.page.params) as Array<{ detail: string }>).map((r) => r.detail);
    const sub = lines.findIndex((l) => l.includes('SCALAR SUBQUERY'));
    expect(sub).toBeGreaterThanOrEqual(0);
    // Without `+pid`, SQLite chose idx_token_code (pid=?) here: every row of the parameter, once per Observation.
    expect(lines[sub + 1]).toContain('idx_token_rid');
    db.close();
  });

  it('gathers the planner statistics when a store opens', async () => {
    const dir = tempDir();
    const store = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    await store.transaction(EVERYTHING, (tx) => tx.writeMany(observations(50)));
    await store.close();
    // Reopened: PRAGMA optimize finds tables never analysed and analyses them.
    await (await openStore({ ...defaultStoreOptions(), dataDir: dir })).close();
    const db = new Database(join(dir, 'ccri.sqlite'), { readonly: true });
    const stats = db.prepare("SELECT idx FROM sqlite_stat1 WHERE tbl = 'idx_token'").all() as Array<{ idx: string }>;
    db.close();
    expect(stats.map((s) => s.idx)).toContain('idx_token_rid');
  });

  it("gathers them for a migration's new indexes when an existing store is upgraded", async () => {
    const dir = tempDir();
    const store = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    await store.transaction(EVERYTHING, (tx) => tx.writeMany(observations(50)));
    await store.close();
    // The store as release 4 left it, analysed: migration 5's indexes not there yet.
    const old = new Database(join(dir, 'ccri.sqlite'));
    old.exec(
      'DROP INDEX resource_type_updated_rid; DROP INDEX resource_type_updated_desc; CREATE INDEX resource_type_updated ON resource (type, last_updated); ' +
        // Migration 7's parts of the counts, back in migration 1's one row per type.
        'CREATE TABLE type_count (type TEXT PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO type_count SELECT type, sum(n) FROM type_count_part GROUP BY type; DROP TABLE type_count_part; ' +
        "UPDATE store_meta SET value = '4' WHERE key = 'schema_version'; ANALYZE",
    );
    old.close();
    const upgraded = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    // The counts came through migration 7.
    expect((await upgraded.reader(EVERYTHING).search(plan('Observation', '_total=accurate'))).total).toBe(50);
    await upgraded.close();
    const db = new Database(join(dir, 'ccri.sqlite'), { readonly: true });
    const stats = db.prepare("SELECT idx FROM sqlite_stat1 WHERE tbl = 'resource'").all() as Array<{ idx: string }>;
    db.close();
    // Without them, SQLite took a new index for every search of a type (the bench's keyset page: 330 ms instead of 3).
    expect(stats.map((s) => s.idx)).toEqual(expect.arrayContaining(['resource_type_updated_rid', 'resource_type_updated_desc']));
  });
});

describe('the query time limit (CCRI_QUERY_TIMEOUT_MS)', () => {
  it('SQLite: a search past the limit is stopped with a 400 too-costly, and the connection serves the next query', async () => {
    const dir = tempDir();
    // A clock that jumps a second at every look: the deadline passes within the first rows, whatever the machine's speed.
    let t = 0;
    const driver = new SqliteDriver(join(dir, 'ccri.sqlite'), { queryTimeoutMs: 500, now: () => (t += 1000) });
    const store = await new SqlStore(driver, defaultStoreOptions()).init();
    cleanups.push(() => store.close());
    await store.transaction(EVERYTHING, (tx) => tx.writeMany(observations(300)));
    const err = await store.reader(EVERYTHING).search(plan('Observation', '_sort=code')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).issues[0]!.code).toBe('too-costly');
    expect((err as FhirError).issues[0]!.diagnostics).toContain('CCRI_QUERY_TIMEOUT_MS');
    // Reads by id write no guard into their SQL: they are not stopped, and the connection is free.
    expect((await store.reader(EVERYTHING).read('Observation', 'o1'))?.id).toBe('o1');
  });

  it.skipIf(!withPostgres)('PostgreSQL: a statement past the limit is a 400 too-costly; administration is not limited', async () => {
    const schema = await createTestSchema('ccri_limits');
    cleanups.push(schema.drop);
    const driver = new PostgresDriver(schema.url, 4, { queryTimeoutMs: 200 });
    cleanups.push(() => driver.close());
    const err = await driver.reader.all('SELECT pg_sleep(3)').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(400);
    expect((err as FhirError).issues[0]!.code).toBe('too-costly');
    const inTx = await driver.transaction((c) => c.all('SELECT pg_sleep(3)')).catch((e: unknown) => e);
    expect((inTx as FhirError).status).toBe(400);
    // A migration's or a bulk load's transaction is not held to it.
    await expect(driver.transaction((c) => c.all('SELECT pg_sleep(0.4) AS x'), { unbounded: true })).resolves.toHaveLength(1);
  });

  it.skipIf(!withPostgres)('PostgreSQL: a query whose client went away is cancelled on the server', async () => {
    const schema = await createTestSchema('ccri_limits');
    cleanups.push(schema.drop);
    const driver = new PostgresDriver(schema.url, 4);
    cleanups.push(() => driver.close());
    const gone = new Cancellation();
    const running = driver.readerFor(gone).all('SELECT pg_sleep(30)').catch((e: unknown) => e);
    setTimeout(() => gone.abort(), 300);
    // Without the cancel the sleep would finish and resolve with a row.
    expect(await running).toBeInstanceOf(ClientGone);
    // Nothing of ours is left running on the server.
    const left = await driver.reader.all<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'");
    expect(left[0]!.n).toBe(0);
    // And a request whose client is already gone starts no statement.
    await expect(driver.readerFor(gone).all('SELECT 1')).rejects.toBeInstanceOf(ClientGone);
    // A transaction's statement is cancelled the same way, and the transaction rolled back.
    const leaving = new Cancellation();
    const inTx = driver.transaction((c) => c.all('SELECT pg_sleep(30)'), { signal: leaving }).catch((e: unknown) => e);
    setTimeout(() => leaving.abort(), 300);
    expect(await inTx).toBeInstanceOf(ClientGone);
  });
});

describe('L5: a database that is gone', () => {
  it.skipIf(!withPostgres)('PostgreSQL: a dropped schema or database answers 503 with Retry-After, not 500', async () => {
    const schema = await createTestSchema('ccri_limits');
    const store = await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url });
    cleanups.push(() => store.close());
    await schema.drop();
    const err = await store.reader(EVERYTHING).read('Patient', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FhirError);
    expect((err as FhirError).status).toBe(503);
    expect((err as FhirError).headers['Retry-After']).toMatch(/^\d+$/);
    const write = await store.transaction(EVERYTHING, (tx) => tx.write({ type: 'Patient', id: 'p', resource: { resourceType: 'Patient' } })).catch((e: unknown) => e);
    expect((write as FhirError).status).toBe(503);
    const url = new URL(baseUrl());
    url.pathname = '/ccri_no_such_database';
    const driver = new PostgresDriver(url.toString(), 2);
    cleanups.push(() => driver.close());
    const none = await driver.reader.all('SELECT 1').catch((e: unknown) => e);
    expect((none as FhirError).status).toBe(503);
  });
});
