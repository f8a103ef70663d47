import { parentPort, workerData } from 'node:worker_threads';
import { openAuditAppender, type StoreLocation } from '../store/open.js';
import { eventOfRecord } from '../fhir/audit-event.js';
import { buildRecords, type EventFacts } from './event.js';
import { CopyPacer } from './copy-pacer.js';

/**
 * The audit thread (docs/audit.md, "Where the work is done"): on PostgreSQL, the group
 * commits of the events of reads, on a connection of its own, so that their round trips
 * cost the server's thread only the hand-over (on SQLite the server's thread commits them
 * itself, which costs less than handing them over). One batch at
 * a time arrives from AuditThread; the answer says it is committed, or why not. In the time
 * between, it copies events into the resource tables for search (CopyPacer), which the
 * server's thread then never does unless a read of AuditEvents cannot wait for it.
 */

export interface ThreadInput {
  location: StoreLocation;
  chain: string;
  queryTimeoutMs?: number;
  /** The base URL, for the indexer of the copies (references to it are local). */
  baseUrl?: string;
  /** Int32Array[0]: events the server's thread has committed (those of writes, and on SQLite those of reads), counted up. */
  committed: SharedArrayBuffer;
}

export type ToThread = { id: number; facts: Array<EventFacts>; json: boolean } | 'stop';
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

const pending: Array<Exclude<ToThread, 'stop'>> = [];
let draining = false;

async function drain(): Promise<void> {
  while (pending.length) {
    const batches = pending.splice(0);
    const answers = await commit(batches);
    const events = batches.reduce((n, b) => n + b.facts.length, 0);
    if (!answers[0]?.error) pacer.committed(events);
    for (const answer of answers) port.postMessage(answer);
  }
  draining = false;
}

/** Commits the events of `batches` in one transaction; an answer for each batch. */
async function commit(batches: Array<Exclude<ToThread, 'stop'>>): Promise<FromThread[]> {
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
