import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempSqliteFiles } from '../../../test/helpers/temp.js';
import { SqliteDriver } from './driver.js';

describe('SQLite checkpoints on their own thread', () => {
  const tempFile = tempSqliteFiles('ccri-ckpt-');

  it('keeps the WAL bounded while the writer never checkpoints, and closes cleanly', async () => {
    const file = tempFile();
    const driver = new SqliteDriver(file);
    const writer = (driver as unknown as { writerDb: { pragma(s: string, o: { simple: true }): unknown } }).writerDb;
    expect(writer.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    await driver.transaction(async (c) => void (await c.run('CREATE TABLE t (x TEXT)', [])));
    // 40 MB in 4 KB rows, with pauses in which the thread can look at the WAL.
    const row = 'x'.repeat(4000);
    for (let i = 0; i < 10_000; i++) {
      await driver.transaction(async (c) => void (await c.run('INSERT INTO t VALUES (?)', [row])));
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 150));
    }
    // Without checkpoints the WAL would hold all 40 MB; with them it is reused from its start.
    expect(statSync(`${file}-wal`).size).toBeLessThan(16 * 1024 * 1024);
    expect((await driver.reader.get<{ n: number }>('SELECT count(*) AS n FROM t', []))!.n).toBe(10_000);
    await driver.close();
    // The last connection's close checkpoints and removes the WAL: nothing was left open.
    expect(() => statSync(`${file}-wal`)).toThrow();
  });
});
