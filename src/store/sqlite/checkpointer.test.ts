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

  it('starts the WAL again from its beginning under writes that never pause', async () => {
    const file = tempFile();
    const limit = 4 * 1024 * 1024;
    const driver = new SqliteDriver(file, { walLimitBytes: limit });
    await driver.transaction(async (c) => void (await c.run('CREATE TABLE t (x TEXT)', [])));
    // Transactions of ten 4 KB rows, one after the other, for three seconds: the thread's
    // checkpoint always ends some commits behind the writer, so the WAL only starts again
    // if the writer finishes a checkpoint itself.
    const row = 'x'.repeat(4000);
    let largest = 0;
    let rows = 0;
    for (const until = performance.now() + 3000; performance.now() < until; ) {
      await driver.transaction(async (c) => {
        for (let j = 0; j < 10; j++) await c.run('INSERT INTO t VALUES (?)', [row]);
      });
      rows += 10;
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    expect((await driver.reader.get<{ n: number }>('SELECT count(*) AS n FROM t', []))!.n).toBe(rows);
    // The WAL file keeps its largest size; without the writer's checkpoints it held every row
    // (more than `written`). With them it reaches the limit and what the writer adds before the
    // thread's next look and the writer's checkpoint: a quarter to a half second of writing.
    const written = rows * row.length;
    const figures = `WAL at most ${largest} bytes, ${written} written`;
    expect(written, figures).toBeGreaterThan(20 * limit);
    expect(largest, figures).toBeLessThan(written / 2);
    await driver.close();
  });
});
