import { parentPort, workerData } from 'node:worker_threads';
import { openAuditAppender, type StoreLocation } from '../store/open.js';
import { eventOfRecord } from '../fhir/audit-event.js';
import type { JournalSlice } from '../store/store.js';
import { buildRecords, type EventFacts } from './event.js';
import { CopyPacer } from './copy-pacer.js';

/**
 * The audit thread (docs/audit.md, "Where the work is done"), on a connection of its own: on
 * PostgreSQL, the group commits of the events of reads, so that their round trips cost the
 * server's thread only the hand-over; on a SQLite file, the moves of the events the server's
 * thread has journaled into the chain (their hashes, inserts and commit). Batches and moves
 * arrive from AuditThread in order; each answer says it is committed, or why not. In the time
 * between, it copies events into the resource tables for search (CopyPacer), which the
 * server's thread then never does unless a read of AuditEvents cannot wait for it.
 */

export interface ThreadInput {
  location: StoreLocation;
  chain: string;
  queryTimeoutMs?: number;
  /** The base URL, for the indexer of the copies (references to it are local). */
  baseUrl?: string;
  /** Int32Array[0]: events the server's thread has made durable (those of writes, and on SQLite those of reads, journaled), counted up. */
  committed: SharedArrayBuffer;
}

export type ToThread = Batch | Move | 'stop';
/** Facts of events to build and commit (PostgreSQL). */
type Batch = { id: number; facts: Array<EventFacts>; json: boolean };
/** Where journaled events are, to move into `chain` (SQLite): AuditAppender.appendJournaled. */
type Move = { id: number; chain: string; move: readonly JournalSlice[] };
export type FromThread = { id: number; json?: string[]; error?: string };

const input = workerData as ThreadInput;
const port = parentPort!;
const appender = openAuditAppender(input.location, {
  ...(input.queryTimeoutMs ? { queryTimeoutMs: input.queryTimeoutMs } : {}),
  ...(input.baseUrl ? { baseUrl: input.baseUrl } : {}),
});
// A store that cannot be opened fails each batch, with the reason.
appender.catch(() => undefined);
const committedElsewhere = new Int32Array(input.committed);

const pacer = new CopyPacer({ index: async (limit) => (await appender).index(limit), committedElsewhere: () => Atomics.load(committedElsewhere, 0) });
pacer.start();

port.on('message', (m: ToThread) => {
  if (m === 'stop') {
    void pacer
      .stop()
      .then(() => appender)
      .then((a) => a.close())
      .catch(() => undefined)
      .finally(() => port.close());
    return;
  }
  pending.push(m);
  // The batches that arrive in one turn of this thread's event loop (the server hands one over
  // without waiting for the one before) are committed together, one after another.
  if (!draining) {
    draining = true;
    setImmediate(() => void drain());
  }
});

const pending: Array<Batch | Move> = [];
let draining = false;

async function drain(): Promise<void> {
  while (pending.length) {
    const first = pending[0]!;
    if ('move' in first) {
      pending.shift();
      port.postMessage(await move(first));
      continue;
    }
    // The batches that came one after another, up to the next move.
    const end = pending.findIndex((m) => 'move' in m);
    const batches = pending.splice(0, end < 0 ? pending.length : end) as Batch[];
    const answers = await commit(batches);
    const events = batches.reduce((n, b) => n + b.facts.length, 0);
    if (!answers[0]?.error) pacer.committed(events);
    for (const answer of answers) port.postMessage(answer);
  }
  draining = false;
}

/** Moves journaled events into their chain (the server's thread has counted them for the copy already). */
async function move(m: Move): Promise<FromThread> {
  try {
    await (await appender).appendJournaled(m.chain, m.move);
    return { id: m.id };
  } catch (err) {
    return { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Commits the events of `batches` in one transaction; an answer for each batch. */
async function commit(batches: Batch[]): Promise<FromThread[]> {
  try {
    let json: string[] | undefined;
    await (await appender).append({
      chain: input.chain,
      build: async (lookup) => {
        const events = await buildRecords(
          batches.flatMap((b) => b.facts),
          lookup,
        );
        if (batches.some((b) => b.json)) json = events.map((e) => JSON.stringify(eventOfRecord(e.json)));
        return events;
      },
    });
    let at = 0;
    return batches.map((b) => {
      const mine = json?.slice(at, at + b.facts.length);
      at += b.facts.length;
      return mine && b.json ? { id: b.id, json: mine } : { id: b.id };
    });
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    return batches.map((b) => ({ id: b.id, error }));
  }
}
