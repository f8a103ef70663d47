import type { Worker } from 'node:worker_threads';
import type { Logger } from '../interactions/types.js';
import { moduleThread } from '../store/thread.js';
import type { FromThread, ThreadInput, ToThread } from './commit-thread.js';
import type { EventFacts } from './event.js';
import type { JournalSlice } from '../store/store.js';

/**
 * The server's side of the audit thread (commit-thread.ts): tells it of events committed on
 * the server's thread, which it copies for search; on PostgreSQL, hands it a batch of facts
 * and resolves once that batch is committed; on a SQLite file, hands it the journaled events
 * to move into the chain. A thread that dies fails the batches it held
 * (their requests answer 503, docs/audit.md) and the next event starts a new one.
 */
export class AuditThread {
  private worker?: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (json: string[]) => void; reject: (err: Error) => void }>();
  /** The events of writes, counted for the thread's copy (which waits for quiet times). */
  private readonly committed = new Int32Array(new SharedArrayBuffer(4));
  private readonly input: ThreadInput;

  constructor(
    input: Omit<ThreadInput, 'committed'>,
    private readonly log: Logger,
  ) {
    this.input = { ...input, committed: this.committed.buffer as SharedArrayBuffer };
  }

  /**
   * Notes `n` events made durable on the server's thread (committed with a write, or on SQLite
   * a batch of reads journaled, which the thread then moves): the thread copies them for search,
   * once the server is quiet. Starts the thread if it is not running.
   */
  noteCommitted(n: number): void {
    Atomics.add(this.committed, 0, n);
    this.worker ?? this.start();
  }

  /** Commits the events of `facts`; their JSON when `json` is asked for (the audit log file). */
  commit(facts: Array<EventFacts>, json: boolean): Promise<string[]> {
    return this.send((id) => ({ id, facts, json }));
  }

  /**
   * Moves events this process has journaled into `chain` (a JournalMover): the thread reads
   * them from the journal's `slices`. Resolves once committed. A thread that dies fails it,
   * and the store moves them again (those the thread did commit are skipped).
   */
  async move(chain: string, slices: readonly JournalSlice[]): Promise<void> {
    await this.send((id) => ({ id, chain, move: slices }));
  }

  private send(message: (id: number) => Exclude<ToThread, 'stop'>): Promise<string[]> {
    const worker = this.worker ?? this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // Kept running while it holds a batch, and no longer: a server's end does not wait for an idle thread.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage(message(id));
    });
  }

  private start(): Worker {
    const worker = moduleThread(import.meta.url, 'commit-thread', { workerData: this.input });
    this.worker = worker;
    worker.unref();
    worker.on('message', (m: FromThread) => {
      const waiting = this.waiting.get(m.id);
      if (!waiting) return;
      this.waiting.delete(m.id);
      if (!this.waiting.size) worker.unref();
      if (m.error !== undefined) waiting.reject(new Error(m.error));
      else waiting.resolve(m.json ?? []);
    });
    worker.on('error', (err) => this.log.error({ err }, 'the audit thread failed'));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      const failed = [...this.waiting.values()];
      this.waiting.clear();
      for (const w of failed) w.reject(new Error('the audit thread stopped before committing'));
    });
    return worker;
  }

  /** Stops the thread once it has closed its connection (call after the last commit has been answered). */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    worker.ref();
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.postMessage('stop' satisfies ToThread);
    });
  }
}
