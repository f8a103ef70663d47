import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { AuditWriter } from '../../src/audit/recorder.js';
import { AuditThread } from '../../src/audit/thread.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Issue 11, where the audit work is done (docs/audit.md): the events of reads are made durable
 * in the journal by the server's thread on SQLite and moved into the chain by the audit
 * thread, and committed by the audit thread, on a connection of its own, on PostgreSQL; a
 * thread that dies fails only the requests whose events it held (503), or on SQLite the move
 * it held (tried again), and the next one starts a new thread; the server's
 * thread never sleeps waiting for SQLite's write lock; the events are copied for search
 * by the audit thread once the server is quiet, without a search asking for them.
 */

/** The writer's audit thread, and its worker while it runs. */
const threadOf = (s: TestServer) => (s.audit as unknown as { options: { thread?: AuditThread } }).options.thread;
const workerOf = (t: AuditThread) => (t as unknown as { worker?: { terminate(): Promise<number>; threadId: number } }).worker;

const sqliteFile = (s: TestServer) => join(s.location.dataDir!, 'ccri.sqlite');

/** Another connection that holds the database's write lock until released. */
function holdWriteLock(s: TestServer): { release(): void } {
  const db = new Database(sqliteFile(s));
  db.exec('BEGIN IMMEDIATE');
  return {
    release() {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    },
  };
}

const chainLength = async (s: TestServer) => (await s.store.audit().heads()).reduce((n, h) => n + h.n, 0);

let s: TestServer | undefined;
afterEach(async () => {
  await s?.cleanup();
  s = undefined;
});

for (const kind of await storeKinds()) {
  describe(`the audit thread (${kind})`, () => {
    it('copies for search every event recorded after the store was cleared (ccri seed --reset), from the first', async () => {
      s = await startTestServer(kind);
      await s.request('PUT', '/STU3/Patient/t1', { body: { resourceType: 'Patient', id: 't1' } });
      for (let i = 0; i < 3; i++) await s.request('GET', '/STU3/Patient/t1');
      await s.store.audit().index();
      expect((await s.store.counts()).get('AuditEvent')).toBe(await chainLength(s));
      await s.store.clear();
      for (let i = 0; i < 2; i++) expect((await s.request('GET', '/STU3/Patient/t1')).status).toBe(404);
      const recorded = await chainLength(s);
      expect(recorded).toBe(2);
      await s.store.audit().index();
      expect((await s.store.counts()).get('AuditEvent')).toBe(recorded);
      expect(await s.store.audit().verify()).toEqual([]);
    });

    it("commits the events of reads, and a new thread takes over from one that died", async () => {
      s = await startTestServer(kind);
      await s.request('PUT', '/STU3/Patient/t1', { body: { resourceType: 'Patient', id: 't1' } });
      const before = await chainLength(s);
      expect((await s.request('GET', '/STU3/Patient/t1')).status).toBe(200);
      expect(await chainLength(s)).toBe(before + 1);

      const thread = threadOf(s)!;
      const first = workerOf(thread)!;
      expect(first).toBeDefined();
      await first.terminate();
      const res = await s.request('GET', '/STU3/Patient/t1');
      expect(res.status).toBe(200);
      expect(workerOf(thread)!.threadId).not.toBe(first.threadId);
      expect(await chainLength(s)).toBe(before + 2);
    });

    if (kind === 'sqlite') {
      it('moves the journal again, with a new thread, when the thread moving it dies before it answers', async () => {
        s = await startTestServer(kind);
        await s.request('PUT', '/STU3/Patient/t6', { body: { resourceType: 'Patient', id: 't6' } });
        const before = await chainLength(s);
        const thread = threadOf(s)!;
        const move = thread.move.bind(thread);
        let killed: number | undefined;
        // The first move is handed over, and the thread is terminated at once: it may or may not have committed it.
        const moves = vi.spyOn(thread, 'move').mockImplementation(async (chain, events) => {
          const answer = move(chain, events);
          if (killed === undefined) {
            const worker = workerOf(thread)!;
            killed = worker.threadId;
            await worker.terminate();
          }
          return answer;
        });
        const reads = await Promise.all(Array.from({ length: 4 }, () => s!.request('GET', '/STU3/Patient/t6')));
        expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200]);
        // Each event once, in a chain that verifies.
        expect(await chainLength(s)).toBe(before + 4);
        expect(await s.store.audit().verify()).toEqual([]);
        expect(moves.mock.calls.length).toBeGreaterThanOrEqual(2);
        expect(workerOf(thread)!.threadId).not.toBe(killed);
      });
    }

    /** Waits (up to 15 s) until every event is copied for search; the events still behind. */
    const untilCopied = async (t: TestServer): Promise<number> => {
      const deadline = Date.now() + 15_000;
      let lag = await t.store.audit().lag();
      while (lag.events > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        lag = await t.store.audit().lag();
      }
      return lag.events;
    };

    it(`commits the events of reads ${kind === 'sqlite' ? "journaled on the server's thread, moved into the chain by the audit thread" : 'on the audit thread (round trips stay off the server thread)'}`, async () => {
      s = await startTestServer(kind);
      await s.request('PUT', '/STU3/Patient/t5', { body: { resourceType: 'Patient', id: 't5' } });
      const handed = vi.spyOn(threadOf(s)!, 'commit');
      const moved = vi.spyOn(threadOf(s)!, 'move');
      const before = await chainLength(s);
      const reads = await Promise.all(Array.from({ length: 5 }, () => s!.request('GET', '/STU3/Patient/t5')));
      expect(reads.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(await chainLength(s)).toBe(before + 5);
      expect(handed.mock.calls.length > 0).toBe(kind === 'postgres');
      expect(moved.mock.calls.length > 0).toBe(kind === 'sqlite');
      // Either way the thread runs, to copy them for search.
      expect(workerOf(threadOf(s)!)).toBeDefined();
      expect(await untilCopied(s)).toBe(0);
    });

    it('copies the events for search once the server is quiet, on the audit thread, with no search asking', async () => {
      s = await startTestServer(kind);
      // The server's thread copies only for a read of AuditEvents, which none of these is.
      const serverCopies = vi.spyOn(s.store.audit(), 'index');
      await s.request('PUT', '/STU3/Patient/t2', { body: { resourceType: 'Patient', id: 't2' } });
      await Promise.all(Array.from({ length: 40 }, () => s!.request('GET', '/STU3/Patient/t2')));
      expect(await untilCopied(s)).toBe(0);
      expect((await s.store.counts()).get('AuditEvent')).toBe(await chainLength(s));
      expect(serverCopies).not.toHaveBeenCalled();
      expect(await s.store.audit().verify()).toEqual([]);
    });

    it('copies no more events in one call than asked (a slice holds the write lock)', async () => {
      s = await startTestServer(kind);
      // Appended straight to a chain of their own: no request, so no audit thread copies them meanwhile.
      const recorded = Date.now();
      const event = () => ({ resourceType: 'AuditEvent' as const, id: randomUUID(), recorded: new Date(recorded).toISOString(), type: { system: 'http://hl7.org/fhir/audit-event-type', code: 'rest' }, agent: [{ requestor: true }], source: { identifier: { value: 'test' } } });
      await s.store.audit().append({ chain: 'sliced', build: async () => Array.from({ length: 7 }, event).map((e) => ({ id: e.id, recorded, json: JSON.stringify(e) })) });
      expect(await s.store.audit().index(3)).toBe(3);
      expect((await s.store.audit().lag()).events).toBe(4);
      expect(await s.store.audit().index()).toBe(4);
      expect((await s.store.audit().lag()).events).toBe(0);
    });

    it('copies the events of writes too, when no read has started the thread', async () => {
      s = await startTestServer(kind);
      for (let i = 0; i < 5; i++) expect((await s.request('PUT', `/STU3/Patient/w${i}`, { body: { resourceType: 'Patient', id: `w${i}` } })).status).toBe(201);
      expect(await untilCopied(s)).toBe(0);
      expect((await s.store.counts()).get('AuditEvent')).toBe(await chainLength(s));
    });
  });
}

describe('the audit thread and the server thread on one SQLite file', () => {
  it('fails the batches a thread held when it died, and starts a new thread for the next', async () => {
    s = await startTestServer('sqlite', { nodeName: 'thread-node' });
    const thread = new AuditThread({ location: { sqliteFile: sqliteFile(s) }, chain: 'thread-node' }, pino({ enabled: false }));
    const facts = { requestId: 'r1', recorded: Date.now(), source: { site: 'thread-node', base: 'http://x/STU3' }, incoming: { method: 'GET', path: ['metadata'], query: [] }, touched: [] };
    const before = await chainLength(s);
    // Handed over while the thread is still starting: it dies before it can commit.
    const held = thread.commit([facts], false);
    await workerOf(thread)!.terminate();
    await expect(held).rejects.toThrow(/stopped before committing/);
    expect(await chainLength(s)).toBe(before);
    await thread.commit([{ ...facts, requestId: 'r2' }], false);
    expect(await chainLength(s)).toBe(before + 1);
    await thread.stop();
  });

  it('commits batches handed over without waiting for each other in the order given, each answered with its own events', async () => {
    s = await startTestServer('sqlite', { nodeName: 'thread-node' });
    const thread = new AuditThread({ location: { sqliteFile: sqliteFile(s) }, chain: 'in-order' }, pino({ enabled: false }));
    const facts = (requestId: string) => ({ requestId, recorded: Date.now(), source: { site: 'thread-node', base: 'http://x/STU3' }, incoming: { method: 'GET', path: ['metadata'], query: [] }, touched: [] });
    /** The request id an event names. */
    const requestOf = (json: string) => (JSON.parse(json) as { entity: Array<{ name?: string; identifier?: { value: string } }> }).entity.find((e) => e.name === 'request')!.identifier!.value;
    // Three batches at once (the thread gathers those that arrive together into one transaction); two ask for their events' JSON.
    const answers = await Promise.all([thread.commit([facts('a1'), facts('a2')], false), thread.commit([facts('b1')], true), thread.commit([facts('c1'), facts('c2'), facts('c3')], true)]);
    await thread.stop();
    expect(answers.map((json) => json.map(requestOf))).toEqual([[], ['b1'], ['c1', 'c2', 'c3']]);
    const chained: string[] = [];
    for await (const json of s.store.audit().events()) if (['a', 'b', 'c'].includes(requestOf(json)[0]!) && requestOf(json).length === 2) chained.push(requestOf(json));
    expect(chained).toEqual(['a1', 'a2', 'b1', 'c1', 'c2', 'c3']);
    expect(await s.store.audit().verify()).toEqual([]);
  });

  it('closes its writer only once every batch handed to the thread is committed', async () => {
    s = await startTestServer('sqlite', { nodeName: 'thread-node' });
    const log = pino({ enabled: false });
    const thread = new AuditThread({ location: { sqliteFile: sqliteFile(s) }, chain: 'closing' }, log);
    const writer = new AuditWriter({ store: s.store.audit(), chain: 'closing', log, thread });
    const facts = (requestId: string) => ({ requestId, recorded: Date.now(), source: { site: 'thread-node', base: 'http://x/STU3' }, incoming: { method: 'GET', path: ['metadata'], query: [] }, touched: [] });
    // In several turns of the event loop, so that several batches are in flight when the writer closes.
    const writes: Array<Promise<void>> = [];
    for (let turn = 0; turn < 4; turn++) {
      for (let i = 0; i < 5; i++) writes.push(writer.write(facts(`w${turn}-${i}`)));
      await new Promise((r) => setImmediate(r));
    }
    await writer.close();
    expect((await Promise.allSettled(writes)).filter((w) => w.status !== 'fulfilled')).toEqual([]);
    expect((await s.store.audit().heads()).find((h) => h.chain === 'closing')?.n).toBe(20);
  });

  it("goes on serving while a write waits for another connection's write lock", async () => {
    s = await startTestServer('sqlite');
    await s.request('PUT', '/STU3/Patient/t4', { body: { resourceType: 'Patient', id: 't4' } });
    const lock = holdWriteLock(s);
    let released = 0;
    // Released in 1.5 s whatever happens: a thread asleep in SQLite's busy wait would run this only then.
    const timer = setTimeout(() => {
      released = Date.now();
      lock.release();
    }, 1500);
    try {
      const write = s.request('PUT', '/STU3/Patient/t4', { body: { resourceType: 'Patient', id: 't4', gender: 'male' } });
      await new Promise((r) => setTimeout(r, 200));
      const live = await s.app.inject({ method: 'GET', url: '/health/live' });
      const answered = Date.now();
      expect(live.statusCode).toBe(200);
      expect(released, 'the server answered only once the lock was released').toBe(0);
      expect(answered).toBeGreaterThan(0);
      expect((await write).status).toBe(200);
      expect(released).toBeGreaterThan(0);
    } finally {
      clearTimeout(timer);
      if (!released) lock.release();
    }
  });
});
