/** How often the copy looks whether there is anything to copy, while no event comes. */
export const LOOK_EVERY_MS = 1000;
/** How long no event may have been committed for the server to count as quiet. */
export const QUIET_MS = 100;
/** Events waiting to be copied past which the copy runs however busy the server is. */
export const MAX_BACKLOG = 100_000;
/** Events copied in one transaction: the batches of reads that arrive meanwhile wait for it. */
export const SLICE = 100;
/** While the server is busy, the pause after a slice, in multiples of the time it took (at most a quarter of a core). */
const BUSY_PAUSE = 3;

export interface CopyPacerOptions {
  /** Copies about `limit` events not yet searchable; how many it copied. */
  index(limit: number): Promise<number>;
  /** Events made durable elsewhere (the server's thread: with its writes, and on SQLite those of reads, journaled), counted up. */
  committedElsewhere(): number;
}

/**
 * When the audit thread copies events for search: while events keep coming (the server is
 * busy), not at all until MAX_BACKLOG wait, and then a slice at a time with pauses; once
 * none has come for QUIET_MS, slice after slice, each a turn of the thread's event loop (a
 * batch that arrives is committed between).
 */
export class CopyPacer {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private mine = 0;
  private seen = 0;
  private lastEventAt = -Infinity;
  /** Events not yet copied, as far as this thread knows: at the start, perhaps some from before. */
  private backlog = 1;

  constructor(private readonly options: CopyPacerOptions) {}

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
    const total = this.mine + this.options.committedElsewhere();
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
    const known = this.backlog;
    try {
      const started = performance.now();
      const copied = await this.options.index(SLICE);
      // A short slice copied every event known when it began; those noted while it ran
      // (committed on another connection, perhaps after its snapshot) are still to copy.
      const noted = this.backlog - known;
      this.backlog = (copied < SLICE ? 0 : Math.max(0, known - copied)) + noted;
      if (copied >= SLICE) next = busy ? BUSY_PAUSE * (performance.now() - started) : 0;
      else if (noted > 0) next = QUIET_MS;
    } catch {
      // The store is away, or a copy of the server's thread (a read of AuditEvents) holds it: later.
    }
    setImmediate(() => this.arm(next));
  }
}
