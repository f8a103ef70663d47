import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempSqliteFiles } from '../../../test/helpers/temp.js';
import { SqliteDriver } from './driver.js';

/**
 * The reader's snapshot (driver.ts, snapshot(); docs/storage.md, "The reader's snapshot"):
 * the reader keeps one read transaction between statements, so that the audit thread's
 * commits do not empty its page cache, and begins another as soon as it must see a change.
 */
describe("the SQLite reader's snapshot", () => {
  const tempFile = tempSqliteFiles('ccri-snapshot-');
  const LONG = 60_000;
  const count = async (d: SqliteDriver) => (await d.reader.get<{ n: number }>('SELECT count(*) AS n FROM t', []))!.n;
  const migrated = async (d: SqliteDriver) =>
    d.transaction(async (c) => {
      // What the store's migration 1 makes: the table the change count lives in.
      await c.run('CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)', []);
      await c.run('CREATE TABLE t (x INTEGER)', []);
    });

  it("is kept across the audit thread's commits, moves with this process's own, and fresh() ends it", async () => {
    const file = tempFile();
    const serving = new SqliteDriver(file, { snapshotMs: LONG });
    await migrated(serving);
    const companion = new SqliteDriver(file, { companion: { gate: serving.writeGate } });
    try {
      expect(await count(serving)).toBe(0);
      const generation = serving.changeCounter();
      // An audit append on the companion's connection: no resource changed, and the reader keeps what it has.
      await companion.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (1)', [])), { unchanged: true });
      expect(await count(serving)).toBe(0);
      expect(serving.changeCounter()).toBe(generation);
      // Asked for what every connection has committed (a search of AuditEvents does): the append is seen.
      serving.fresh();
      expect(await count(serving)).toBe(1);
      expect(serving.changeCounter()).toBe(generation);
      // This process's own write is read at once, and the read cache's counter moves.
      await serving.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (2)', [])));
      expect(await count(serving)).toBe(2);
      expect(serving.changeCounter()).not.toBe(generation);
    } finally {
      await companion.close();
      await serving.close();
    }
  });

  it("sees another process's change at the next read (other servers on the file), and not its audit appends", async () => {
    const file = tempFile();
    const a = new SqliteDriver(file, { snapshotMs: LONG, crossProcessMs: 0 });
    await migrated(a);
    const b = new SqliteDriver(file, { snapshotMs: LONG });
    try {
      expect(await count(a)).toBe(0);
      const generation = a.changeCounter();
      await b.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (1)', [])));
      expect(await count(a)).toBe(1);
      const after = a.changeCounter();
      expect(after).not.toBe(generation);
      // Another process's audit append (its audit thread's) is no change: a keeps its snapshot and its cache.
      await b.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (2)', [])), { unchanged: true });
      expect(await count(a)).toBe(1);
      expect(a.changeCounter()).toBe(after);
      // The next change of b's is, and brings the append with it.
      await b.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (3)', [])));
      expect(await count(a)).toBe(3);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('is let go once the server is idle, so that a checkpoint can copy the whole WAL back', async () => {
    const file = tempFile();
    const serving = new SqliteDriver(file, { snapshotMs: 50 });
    await migrated(serving);
    const other = new Database(file);
    try {
      expect(await count(serving)).toBe(0);
      await new Promise((r) => setTimeout(r, 400));
      other.exec('INSERT INTO t VALUES (1)');
      const [result] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      // A reader still in its snapshot (begun before the insert) would hold the insert's frames in the WAL.
      expect(result!.log).toBeGreaterThan(0);
      expect(result!.checkpointed).toBe(result!.log);
    } finally {
      other.close();
      await serving.close();
    }
  });
});
