import { describe, expect, it } from 'vitest';
import { tempSqliteFiles } from '../../../test/helpers/temp.js';
import { SqliteDriver } from './driver.js';

/**
 * A companion driver (the audit thread's second writer of the file) gives way to the
 * serving driver's writes: the serving driver raises its write gate while a transaction of
 * its waits for the lock or holds it, and a companion waits while the gate is up (at most
 * GIVE_WAY_MS), rather than take the lock in turn (docs/audit.md, "Where the work is done").
 */
describe('a companion SQLite driver', () => {
  const tempFile = tempSqliteFiles('ccri-companion-');

  it("raises the serving driver's gate for each of its transactions, and lowers it after", async () => {
    const serving = new SqliteDriver(tempFile());
    const gate = new Int32Array(serving.writeGate);
    expect(Atomics.load(gate, 0)).toBe(0);
    const during = await serving.transaction(async (c) => {
      await c.run('CREATE TABLE t (x INTEGER)', []);
      return Atomics.load(gate, 0);
    });
    expect(during).toBe(1);
    expect(Atomics.load(gate, 0)).toBe(0);
    // A transaction that fails lowers it too.
    await expect(serving.transaction(async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(Atomics.load(gate, 0)).toBe(0);
    await serving.close();
  });

  it('waits while the gate is up, a second at most, and not at all while it is down', async () => {
    const file = tempFile();
    const serving = new SqliteDriver(file);
    await serving.transaction(async (c) => void (await c.run('CREATE TABLE t (x INTEGER)', [])));
    const companion = new SqliteDriver(file, { companion: { gate: serving.writeGate } });
    const insert = async () => {
      const started = performance.now();
      await companion.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (1)', [])), { unchanged: true });
      return performance.now() - started;
    };
    expect(await insert()).toBeLessThan(500);
    // The serving driver's gate held up by hand (as a write of its waiting for the lock would): the companion gives way.
    const gate = new Int32Array(serving.writeGate);
    Atomics.add(gate, 0, 1);
    const waited = await insert();
    Atomics.sub(gate, 0, 1);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(5000);
    expect((await serving.reader.get<{ n: number }>('SELECT count(*) AS n FROM t', []))!.n).toBe(2);
    await companion.close();
    await serving.close();
  });
});
