import { spawnSync } from 'node:child_process';
import fs, { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { operatorEvent } from '../../src/audit/recorder.js';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openAuditAppender, openStore } from '../../src/store/open.js';
import { SqliteJournals } from '../../src/store/sqlite/audit-journal.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import type { AuditAppend, JournalMover } from '../../src/store/store.js';
import { tempSqliteFiles } from '../helpers/temp.js';

/**
 * Issue 11, on a SQLite file: the events of reads are made durable in the node's journal
 * beside the database before their answers leave, and moved into the chain a few
 * milliseconds later (docs/audit.md, "Durable"). Nothing journaled is lost when the process
 * dies before moving it, and nothing is moved twice.
 */

const source = { site: 'journal-node', base: 'http://journal.test/STU3' };
let made = 0;
/** An event of its own (an operator's, which names no patient), with an id to find it by. */
function event(chain: string): { append: AuditAppend; requestId: string } {
  const requestId = `req-${++made}-${Math.random().toString(36).slice(2)}`;
  return { requestId, append: operatorEvent(chain, { type: 'application', code: 'test', display: 'a test event', action: 'R', success: true, description: 'journal test', user: 'tester', requestId }, Date.now(), source) };
}

const requestIds = async (store: SqlStore): Promise<string[]> => {
  const ids: string[] = [];
  for await (const json of store.audit().events()) {
    const e = JSON.parse(json) as { entity: Array<{ identifier?: { system: string; value: string } }> };
    ids.push(e.entity.find((x) => x.identifier?.system === 'urn:ccri:request-id')!.identifier!.value);
  }
  return ids;
};

const segments = (file: string): string[] => readdirSync(new SqliteJournals(file).dir).filter((n) => n.endsWith('.log'));
const nonEmptySegments = (file: string): string[] => segments(file).filter((n) => readFileSync(join(new SqliteJournals(file).dir, n), 'utf8').length > 0);

describe('the audit journal (SQLite)', () => {
  const tempFile = tempSqliteFiles('ccri-journal-');

  it('writes each batch to the journal before the append resolves, and moves it into the chain, in order', async () => {
    const file = tempFile();
    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    try {
      expect(await store.audit().journal('c1')).toBe(true);
      const sent = Array.from({ length: 5 }, () => event('c1'));
      for (const e of sent) await store.audit().append(e.append);
      // Durable in the journal at once: the segment holds every event appended so far, or a move has already committed it.
      const journaled = segments(file)
        .map((n) => readFileSync(join(new SqliteJournals(file).dir, n), 'utf8'))
        .join('');
      const inChain = (new Database(file, { readonly: true }).prepare("SELECT count(*) AS n FROM audit_chain WHERE chain = 'c1'").get() as { n: number }).n;
      expect(journaled.split('\n').filter(Boolean).length + inChain).toBeGreaterThanOrEqual(sent.length);
      // A read of the chains moves what waits first.
      expect(await requestIds(store)).toEqual(sent.map((e) => e.requestId));
      expect(await store.audit().verify()).toEqual([]);
      expect((await store.audit().heads()).find((h) => h.chain === 'c1')?.n).toBe(5);
      // An append to another chain (a command's, say) is committed at once, not journaled.
      const other = event('c2');
      await store.audit().append(other.append);
      expect((new Database(file, { readonly: true }).prepare("SELECT count(*) AS n FROM audit_chain WHERE chain = 'c2'").get() as { n: number }).n).toBe(1);
      // Closed with a last event waiting: moved, and the journal left empty.
      const last = event('c1');
      await store.audit().append(last.append);
    } finally {
      await store.close();
    }
    expect(segments(file)).toEqual([]);
    const reopened = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    try {
      expect((await requestIds(reopened)).length).toBe(7);
      expect(await reopened.audit().verify()).toEqual([]);
    } finally {
      await reopened.close();
    }
  });

  it('is held by one process at a time: a second store on the file commits batch by batch instead', async () => {
    const file = tempFile();
    const first = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    const second = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    let firstOpen = true;
    try {
      expect(await first.audit().journal('same')).toBe(true);
      expect(await second.audit().journal('same')).toBe(false);
      const e = event('same');
      await second.audit().append(e.append);
      expect((new Database(file, { readonly: true }).prepare("SELECT count(*) AS n FROM audit_chain WHERE chain = 'same'").get() as { n: number }).n).toBe(1);
      await first.close();
      firstOpen = false;
      // Given up on close: another process may journal the chain now.
      expect(await second.audit().journal('same')).toBe(true);
    } finally {
      if (firstOpen) await first.close();
      await second.close();
    }
  });

  it('loses nothing when the process is killed before moving: the next process to read the trail moves it', async () => {
    const file = tempFile();
    await (await openStore({ ...defaultStoreOptions(), sqliteFile: file })).close();
    // A process that journals 40 events in 8 batches and is killed (SIGKILL) as soon as the last append returns.
    const script = `
      const { openStore } = await import(${JSON.stringify(join(projectRoot(), 'dist/store/open.js'))});
      const { operatorEvent } = await import(${JSON.stringify(join(projectRoot(), 'dist/audit/recorder.js'))});
      const { defaultStoreOptions } = await import(${JSON.stringify(join(projectRoot(), 'dist/store/default-options.js'))});
      const store = await openStore({ ...defaultStoreOptions(), sqliteFile: ${JSON.stringify(file)} });
      if (!(await store.audit().journal('killed'))) throw new Error('no journal');
      const ids = [];
      for (let b = 0; b < 8; b++) {
        await Promise.all(Array.from({ length: 5 }, (_, i) => {
          const requestId = 'k-' + b + '-' + i;
          ids.push(requestId);
          return store.audit().append(operatorEvent('killed', { type: 'application', code: 'test', display: 'a test event', action: 'R', success: true, description: 'killed', user: 'tester', requestId }, Date.now(), { site: 'killed', base: 'http://journal.test/STU3' }));
        }));
      }
      process.stdout.write(JSON.stringify(ids));
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const answered = JSON.parse(child.stdout) as string[];
    expect(answered).toHaveLength(40);
    // Killed within the 20 ms before a move: the journal still holds events.
    expect(nonEmptySegments(file).length).toBeGreaterThan(0);

    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    try {
      const ids = await requestIds(store);
      expect(ids.filter((id) => id.startsWith('k-')).sort()).toEqual([...answered].sort());
      expect(await store.audit().verify()).toEqual([]);
      expect(nonEmptySegments(file)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('moves nothing twice: events up to the last one a move committed are skipped, a line cut short is left out', async () => {
    const file = tempFile();
    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    try {
      // Events 1 and 2 were moved (committed with the note of the last moved) but their segment was not removed: a crash between the two.
      const built = await Promise.all(
        Array.from({ length: 3 }, () => event('c').append.build(async () => new Map())),
      ).then((r) => r.flat());
      await store.audit().append({ chain: 'c', build: async () => built.slice(0, 2) });
      const db = new Database(file);
      db.prepare("INSERT INTO store_meta (key, value) VALUES ('audit-journal-moved:c', ?)").run(built[1]!.id);
      db.close();
      const left = new SqliteJournals(file).open('c')!;
      left.write(built);
      left.close(false);
      // A write cut short by the crash: never answered.
      const [segment] = nonEmptySegments(file);
      appendFileSync(join(new SqliteJournals(file).dir, segment!), `cut-short ${Date.now()} {"resourceType":"Aud`);

      expect(await store.audit().journal('c')).toBe(true);
      const rows = new Database(file, { readonly: true }).prepare("SELECT event FROM audit_chain WHERE chain = 'c' ORDER BY n").all() as Array<{ event: string }>;
      expect(rows.map((r) => r.event)).toEqual(built.map((b) => b.id));
      expect(await store.audit().verify()).toEqual([]);
      expect(nonEmptySegments(file)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('hands its moves to a mover on another connection (the audit thread), and a move committed but not answered is not moved again', async () => {
    const file = tempFile();
    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    const other = await openAuditAppender({ sqliteFile: file });
    const moved: number[] = [];
    try {
      // The first move commits on the other connection, and its answer is lost (as when the audit thread ends before answering).
      const mover: JournalMover = async (chain, slices) => {
        moved.push(new SqliteJournals(file).read(slices).length);
        await other.appendJournaled(chain, slices);
        if (moved.length === 1) throw new Error('the answer was lost');
      };
      expect(await store.audit().journal('m', mover)).toBe(true);
      const sent = Array.from({ length: 6 }, () => event('m'));
      for (const e of sent.slice(0, 3)) await store.audit().append(e.append);
      await new Promise((r) => setTimeout(r, 60));
      for (const e of sent.slice(3)) await store.audit().append(e.append);
      expect(await requestIds(store)).toEqual(sent.map((e) => e.requestId));
      // Tried again with what it had failed to move, and those it had committed were skipped.
      expect(moved.length).toBeGreaterThanOrEqual(2);
      expect(moved[1]).toBeGreaterThanOrEqual(moved[0]!);
      expect(await store.audit().verify()).toEqual([]);
      expect((await store.audit().heads()).find((h) => h.chain === 'm')?.n).toBe(6);
      // Every move went through the mover: the server's own connection appended nothing of the chain.
      expect(moved.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
    } finally {
      await store.close();
      await other.close();
    }
  });

  it('moves through a segment closed for its size: the ranges of both segments are read, in order, and the closed one is removed once moved', async () => {
    const file = tempFile();
    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    const other = await openAuditAppender({ sqliteFile: file });
    const paths = new Set<string>();
    try {
      expect(
        await store.audit().journal('big', async (chain, slices) => {
          for (const s of slices) paths.add(s.path);
          await other.appendJournaled(chain, slices);
        }),
      ).toBe(true);
      const dir = new SqliteJournals(file).dir;
      const bytes = () => segments(file).reduce((n, name) => n + fs.statSync(join(dir, name)).size, 0);
      // Batches of events until more than a segment's 4 MB has been written.
      const sent: string[] = [];
      while (bytes() < 4.5 * 1024 * 1024) {
        const batch = Array.from({ length: 400 }, () => event('big'));
        const records = (await Promise.all(batch.map((e) => e.append.build(async () => new Map())))).flat();
        sent.push(...batch.map((e) => e.requestId));
        await store.audit().append({ chain: 'big', build: async () => records });
      }
      expect(await requestIds(store)).toEqual(sent);
      expect(await store.audit().verify()).toEqual([]);
      // The moves read from two segments at least; the first, closed and moved, is gone.
      expect(paths.size).toBeGreaterThanOrEqual(2);
      expect(segments(file).length).toBeLessThan(paths.size);
    } finally {
      await store.close();
      await other.close();
    }
  });

  it('says where each write put its events, and reads them back from there, exactly, on any connection', async () => {
    const file = tempFile();
    await (await openStore({ ...defaultStoreOptions(), sqliteFile: file })).close();
    const [a, b] = await Promise.all([1, 2].map(() => event('where').append.build(async () => new Map())));
    // A record with text beyond ASCII: the slices are bytes, not characters.
    const c = { id: 'event-c', recorded: Date.now(), json: JSON.stringify({ id: 'event-c', text: 'Zoë Ångström – 患者 \u2028 🩺' }) };
    const journal = new SqliteJournals(file).open('where')!;
    try {
      const first = journal.write(a!);
      const second = journal.write([c, ...b!]);
      expect(first.start).toBe(0);
      expect(second).toEqual({ path: first.path, start: first.end, end: second.end });
      expect(second.end).toBe(readFileSync(first.path).length);
      // Another reader of the same files (the audit thread's).
      const reader = new SqliteJournals(file);
      expect(reader.read([second])).toEqual([c, ...b!]);
      expect(reader.read([first, second])).toEqual([...a!, c, ...b!]);
      expect(reader.read([{ path: first.path, start: 0, end: second.end }])).toEqual([...a!, c, ...b!]);
      // A slice that is not whole lines of events, or runs past the file, is refused rather than moved.
      expect(() => reader.read([{ ...second, start: second.start + 3 }])).toThrow(/not an event/);
      expect(() => reader.read([{ ...second, end: second.end - 2 }])).toThrow(/no whole line/);
      expect(() => reader.read([{ ...first, end: first.end - 1 }])).toThrow(/no whole line/);
      expect(() => reader.read([{ ...second, end: second.end + 10 }])).toThrow(/ends before byte/);
    } finally {
      journal.close(false);
    }
  });

  it('takes no line after a write that failed halfway (a full disk): the events after it are not lost with its cut line', async () => {
    const file = tempFile();
    await (await openStore({ ...defaultStoreOptions(), sqliteFile: file })).close();
    const [before, failed, after] = await Promise.all([1, 2, 3].map(() => event('full').append.build(async () => new Map())));
    const journal = new SqliteJournals(file).open('full')!;
    journal.write(before!);
    // The next write gets half its bytes out, then the disk is full.
    const write = fs.writeSync;
    const spy = vi
      .spyOn(fs, 'writeSync')
      .mockImplementationOnce(((fd: number, buffer: Buffer, offset: number, length: number) => write(fd, buffer, offset, Math.floor(length / 2))) as typeof fs.writeSync)
      .mockImplementationOnce(() => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      });
    expect(() => journal.write(failed!)).toThrow(/ENOSPC/);
    spy.mockRestore();
    journal.write(after!);
    // The process ends before any move.
    journal.close(false);

    const store = await openStore({ ...defaultStoreOptions(), sqliteFile: file });
    try {
      expect(await store.audit().journal('full')).toBe(true);
      const rows = new Database(file, { readonly: true }).prepare("SELECT event FROM audit_chain WHERE chain = 'full' ORDER BY n").all() as Array<{ event: string }>;
      // The answered events, and not the one whose write failed (its request answered 503).
      expect(rows.map((r) => r.event)).toEqual([...before!, ...after!].map((e) => e.id));
      expect(await store.audit().verify()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
