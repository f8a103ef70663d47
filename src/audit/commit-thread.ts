import { parentPort, workerData } from 'node:worker_threads';
import { openAuditAppender, type StoreLocation } from '../store/open.js';
import { eventOfRecord } from '../fhir/audit-event.js';
import { buildRecords, type EventFacts } from './event.js';

/**
 * The audit thread (docs/audit.md, "Where the work is done"): the group commits of the
 * events of reads, on a connection of its own, so that building each event, hashing it
 * into the chain and writing it cost the server's thread only the hand-over. One batch at
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
  /** Int32Array[0]: events the server's thread has committed (those of writes), counted up. */
  committed: SharedArrayBuffer;
}

export type ToThread = { id: number; facts: Array<EventFacts>; json: boolean } | 'stop';
export type FromThread = { id: number; json?: string[]; error?: string };

/** How often the copy looks whether there is anything to copy, while no event comes. */
const LOOK_EVERY_MS = 1000;
/** How long no event may have been committed for the server to count as quiet. */
const QUIET_MS = 100;
/** Events waiting to be copied past which the copy runs however busy the server is. */
const MAX_BACKLOG = 100_000;
/** Events copied in one transaction: the batches of reads that arrive meanwhile wait for it. */
const SLICE = 100;
/** While the server is busy, the pause after a slice, in multiples of the time it took (at most a quarter of a core). */
const BUSY_PAUSE = 3;

const input = workerData as ThreadInput;
const port = parentPort!;
const appender = openAuditAppender(input.location, {
  ...(input.queryTimeoutMs ? { queryTimeoutMs: input.queryTimeoutMs } : {}),
  ...(input.baseUrl ? { baseUrl: input.baseUrl } : {}),
});
// A store that cannot be opened fails each batch, with the reason.
appender.catch(() => undefined);
const committedElsewhere = new Int32Array(input.committed);

/**
 * When to copy: while events keep coming (the server is busy), not at all until MAX_BACKLOG
 * wait, and then a slice at a time with pauses; once none has come for QUIET_MS, slice after
 * slice, each a turn of this thread's event loop (a batch that arrives is committed between).
 */
class CopyPacer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private mine = 0;
  private seen = 0;
  private lastEventAt = -Infinity;
  /** Events not yet copied, as far as this thread knows: at the start, perhaps some from before. */
  private backlog = 1;

  /** Notes `n` events this thread committed. */
  committed(n: number): void {
    this.mine += n;
    this.look();
    this.arm(QUIET_MS);
  }

  start(): void {
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Counts the events committed since the last look, by this thread and by the server's. */
  private look(): void {
    const total = this.mine + Atomics.load(committedElsewhere, 0);
    if (total !== this.seen) {
      this.backlog += (total - this.seen) | 0;
      this.seen = total;
      this.lastEventAt = performance.now();
    }
  }

  private arm(ms: number): void {
    if (this.stopped || this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.copy().finally(() => (this.running = undefined));
    }, ms);
  }

  private async copy(): Promise<void> {
    this.look();
    if (this.backlog === 0) return void setImmediate(() => this.arm(LOOK_EVERY_MS));
    const busy = performance.now() - this.lastEventAt < QUIET_MS;
    if (busy && this.backlog < MAX_BACKLOG) return void setImmediate(() => this.arm(QUIET_MS));
    let next = LOOK_EVERY_MS;
    try {
      const started = performance.now();
      const copied = await (await appender).index(SLICE);
      this.backlog = copied < SLICE ? 0 : Math.max(0, this.backlog - copied);
      if (copied >= SLICE) next = busy ? BUSY_PAUSE * (performance.now() - started) : 0;
    } catch {
      // The store is away, or a copy of the server's thread (a read of AuditEvents) holds it: later.
    }
    setImmediate(() => this.arm(next));
  }
}

const pacer = new CopyPacer();
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
  void commit(m).then((answer) => {
    if (!answer.error) pacer.committed(m.facts.length);
    port.postMessage(answer);
  });
});

async function commit(m: Exclude<ToThread, 'stop'>): Promise<FromThread> {
  try {
    let json: string[] | undefined;
    await (await appender).append({
      chain: input.chain,
      build: async (lookup) => {
        const events = await buildRecords(m.facts, lookup);
        if (m.json) json = events.map((e) => JSON.stringify(eventOfRecord(e.json)));
        return events;
      },
    });
    return json ? { id: m.id, json } : { id: m.id };
  } catch (err) {
    return { id: m.id, error: err instanceof Error ? err.message : String(err) };
  }
}
