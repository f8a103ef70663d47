import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempSqliteFiles } from '../../../test/helpers/temp.js';
import { RetryableConflict } from '../errors.js';
import { SqliteDriver } from './driver.js';

/**
 * Group commit (driver.ts, member(); docs/storage.md, "Group commit"): request transactions
 * that queue for the writer in one turn of the event loop share one SQLite transaction, each
 * in a savepoint of its own, and are answered once it commits.
 */
describe('group commit on SQLite', () => {
  const tempFile = tempSqliteFiles('ccri-group-');
  // Groups end by their turn alone, however slow the machine.
  const LONG = 60_000;
  const setUp = async (d: SqliteDriver) =>
    d.transaction(async (c) => {
      // What the store's migration 1 makes: the change count, one more for each commit that changed something.
      await c.run('CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)', []);
      await c.run('CREATE TABLE t (x INTEGER)', []);
    });
  /** The rows and the change count as another process sees them (a connection of its own: only what is committed). */
  const outside = (file: string) => {
    const db = new Database(file, { readonly: true });
    try {
      const rows = (db.prepare('SELECT x FROM t ORDER BY x').all() as Array<{ x: number }>).map((r) => r.x);
      const changes = Number((db.prepare("SELECT value FROM store_meta WHERE key = 'changes'").get() as { value: string } | undefined)?.value ?? 0);
      return { rows, changes };
    } finally {
      db.close();
    }
  };
  /** A driver on a new file with the tables set up, closed after `run`. */
  const withDriver = async (run: (d: SqliteDriver, file: string) => Promise<void>) => {
    const file = tempFile();
    const d = new SqliteDriver(file, { groupMs: LONG });
    try {
      await setUp(d);
      await run(d, file);
    } finally {
      await d.close();
    }
  };
  const insert = (d: SqliteDriver, x: number) => d.transaction(async (c) => (await c.run('INSERT INTO t VALUES (?)', [x]), x));

  it("commits a transaction asked to run alone (a batch of audit events, already one group of requests) at once, not at the group's turn", async () => {
    await withDriver(async (d, file) => {
      let turned = false;
      setImmediate(() => (turned = true));
      await d.transaction(async (c) => c.run('INSERT INTO t VALUES (?)', [9]), { alone: true, unchanged: true });
      expect(turned, 'the event loop took a turn before the commit').toBe(false);
      expect(outside(file).rows).toEqual([9]);
      // A group member waits for the turn.
      await insert(d, 10);
      expect(turned).toBe(true);
    });
  });

  it('commits the transactions of one turn of the event loop once, and answers each only when that commit is done', async () => {
    await withDriver(async (d, file) => {
      const before = outside(file).changes;
      const seen: number[][] = [];
      // Each, as it is answered, finds every row of the group committed (an answer never runs ahead of its commit).
      const all = [1, 2, 3, 4, 5].map((x) => insert(d, x).then((v) => (seen.push(outside(file).rows), v)));
      expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
      expect(outside(file)).toEqual({ rows: [1, 2, 3, 4, 5], changes: before + 1 });
      for (const rows of seen) expect(rows).toEqual([1, 2, 3, 4, 5]);
      // One at a time, each is a commit of its own.
      await insert(d, 6);
      await insert(d, 7);
      expect(outside(file).changes).toBe(before + 3);
    });
  });

  it('rolls back a member that fails, alone', async () => {
    await withDriver(async (d, file) => {
      const first = insert(d, 10);
      const failing = d.transaction(async (c) => {
        await c.run('INSERT INTO t VALUES (20)', []);
        throw new Error('refused');
      });
      const results = await Promise.allSettled([first, failing, insert(d, 30)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(outside(file).rows).toEqual([10, 30]);
      // A member reads the writes of those before it in the group, which commit with it.
      const read = await Promise.all([insert(d, 40), d.transaction(async (c) => (await c.get<{ n: number }>('SELECT count(*) AS n FROM t WHERE x = 40', []))!.n)]);
      expect(read).toEqual([40, 1]);
    });
  });

  it('asks the members before one that lost the whole transaction to try again, and keeps none of their writes', async () => {
    await withDriver(async (d, file) => {
      const first = insert(d, 1);
      // What SQLite does on a full disk or an interrupted write: the whole transaction is rolled back.
      const breaking = d.transaction(async (c) => {
        await c.run('ROLLBACK', []);
        throw new Error('disk full');
      });
      const results = await Promise.allSettled([first, breaking, insert(d, 3)]);
      expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(RetryableConflict) });
      expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'disk full' } });
      // The one after begins a transaction of its own.
      expect(results[2]).toEqual({ status: 'fulfilled', value: 3 });
      expect(outside(file).rows).toEqual([3]);
    });
  });

  it('commits the open group before a transaction that runs alone (a bulk load, administration) and before closing', async () => {
    const file = tempFile();
    const d = new SqliteDriver(file, { groupMs: LONG });
    await setUp(d);
    const member = insert(d, 1);
    const relaxed = d.transaction(async (c) => (await c.run('INSERT INTO t VALUES (2)', []), 2), { relaxed: true });
    const last = insert(d, 3);
    const closed = d.close();
    expect(await Promise.all([member, relaxed, last])).toEqual([1, 2, 3]);
    await closed;
    expect(outside(file).rows).toEqual([1, 2, 3]);
  });
});
