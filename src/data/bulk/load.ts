import type { Worker } from 'node:worker_threads';
import { moduleThread } from '../../store/thread.js';
import type { StoreAdmin } from '../../store/store.js';
import type { GenerateOptions } from '../generate/population.js';
import type { FromWorker, ToWorker, WorkerInput, WorkerSource } from './messages.js';

export interface PreparingOptions {
  /** Resources per batch (one store transaction each); default 500. */
  batchSize?: number;
  /** This server's base URL (absolute references under it index as local ones). */
  baseUrl?: string;
}

/**
 * Bulk loads on two threads: a worker makes the resources (generates them, or reads files
 * to import), indexes and serialises each batch (store/sql/prepared.ts) while this thread
 * writes the one before (Store.writePrepared). On a machine with two cores or more the two
 * overlap, and the load runs at the speed of the slower side. docs/data.md, "Bulk loads".
 *
 * The worker starts when this is made, so its own start-up (loading the search
 * definitions and compiling the indexer) overlaps opening the store; `events` then gives it
 * the store's parameter ids and yields what it sends, in order.
 */
export class PreparingWorker {
  private readonly worker: Worker;
  private early: Error | undefined;

  constructor(source: WorkerSource, options: PreparingOptions = {}) {
    const input: WorkerInput = { source, batchSize: options.batchSize ?? 500, window: POSTGRES_CONCURRENCY + 2, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) };
    // A large young generation: the worker makes short-lived objects by the million, and with
    // V8's default (16 MB) a quarter of its time went to collecting them.
    const resourceLimits = { maxYoungGenerationSizeMb: 128 };
    this.worker = moduleThread(import.meta.url, 'worker', { workerData: input, resourceLimits });
    // Until events() listens, remember an early failure rather than crash on it.
    this.worker.on('error', (err) => (this.early ??= err));
  }

  /**
   * What the worker sends, in order, ending after `done`. A batch's credit goes back to the
   * worker when the consumer asks for the next event, that is once it has written the batch.
   */
  async *events(store: StoreAdmin): AsyncGenerator<Exclude<FromWorker, { kind: 'done' | 'failed' }>> {
    const queue: FromWorker[] = [];
    let failure: Error | undefined = this.early;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    this.worker.on('message', (m: FromWorker) => {
      queue.push(m);
      notify();
    });
    this.worker.on('error', (err) => {
      failure ??= err;
      notify();
    });
    this.worker.on('exit', (code) => {
      failure ??= new Error(`The preparing worker stopped (exit code ${code})`);
      notify();
    });
    this.worker.postMessage({ kind: 'start', pids: store.paramIds() } satisfies ToWorker);
    try {
      for (;;) {
        const m = queue.shift();
        if (!m) {
          if (failure) throw failure;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        if (m.kind === 'done') return;
        if (m.kind === 'failed') throw new Error(`The preparing worker failed: ${m.message}`);
        yield m;
        if (m.kind === 'batch') this.worker.postMessage({ kind: 'written' } satisfies ToWorker);
      }
    } finally {
      await this.stop();
    }
  }

  /** Stops the worker (also when the load will not happen after all). */
  async stop(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}

/**
 * Generates a population in a worker and writes it into `store`; resolves with the number
 * written. On PostgreSQL several batches are written at once, on connections of the pool (the
 * database does most of the work; a generated population's ids are all distinct, so the
 * batches cannot collide); SQLite has one writer.
 */
export async function loadPopulation(store: StoreAdmin, worker: PreparingWorker, onProgress?: (written: number) => void): Promise<number> {
  const concurrency = Math.min(store.writeConcurrency, POSTGRES_CONCURRENCY);
  let written = 0;
  const inflight = new Set<Promise<void>>();
  for await (const e of worker.events(store)) {
    if (e.kind !== 'batch') continue;
    const p = store.writePrepared(e.batch).then((n) => {
      written += n;
      onProgress?.(written);
    });
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return written;
}

/** Batches a PostgreSQL load writes at once. */
const POSTGRES_CONCURRENCY = 4;

/** A worker that generates `population`. */
export function populationWorker(population: GenerateOptions, options: PreparingOptions = {}): PreparingWorker {
  return new PreparingWorker({ kind: 'population', population }, options);
}
