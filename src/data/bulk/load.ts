import { Worker } from 'node:worker_threads';
import type { Store } from '../../store/store.js';
import type { GenerateOptions } from '../generate/population.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';

export interface BulkLoadOptions {
  /** Resources per batch (one store transaction each); default 500. */
  batchSize?: number;
  /** This server's base URL (absolute references under it index as local ones). */
  baseUrl?: string;
  /** Called after each batch with the number written so far. */
  onProgress?: (written: number) => void;
}

/**
 * Generates a population and loads it on two threads: a worker generates, indexes and
 * serialises each batch (store/sql/prepared.ts) while this thread writes the one before
 * (Store.writePrepared). On a machine with two cores or more the two overlap, and the
 * load runs at the speed of the slower side. docs/data.md, "Bulk loads".
 *
 * The worker starts when this is made, so its own start-up (loading the search
 * definitions and compiling the indexer) overlaps the opening of the store; `load`
 * then gives it the store's parameter ids and writes what it sends.
 */
export class PopulationLoader {
  private readonly worker: Worker;
  private exited: Error | undefined;

  constructor(
    population: GenerateOptions,
    private readonly options: BulkLoadOptions = {},
  ) {
    const input: WorkerInput = {
      population,
      batchSize: options.batchSize ?? 500,
      window: 3,
      ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    };
    // A large young generation: the worker makes short-lived objects by the million, and with
    // V8's default (16 MB) a quarter of its time went to collecting them.
    const resourceLimits = { maxYoungGenerationSizeMb: 128 };
    this.worker = import.meta.url.endsWith('.ts')
      ? // Run from the TypeScript sources (tsx, as the tests do): the worker registers tsx, then loads worker.ts.
        new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`, {
          eval: true,
          workerData: input,
          resourceLimits,
        })
      : new Worker(new URL('./worker.js', import.meta.url), { workerData: input, resourceLimits });
    // Until load() listens, remember an early failure rather than crash on it.
    this.worker.on('error', (err) => (this.exited ??= err));
  }

  /** Writes every batch the worker prepares into `store`; resolves with the number written. */
  load(store: Store): Promise<number> {
    const worker = this.worker;
    return new Promise<number>((resolve, reject) => {
      let written = 0;
      let failed = false;
      // Batches are written one after another, in the order they arrive.
      let queue: Promise<void> = Promise.resolve();
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        void worker.terminate();
        reject(err);
      };
      if (this.exited) return fail(this.exited);
      worker.on('message', (m: FromWorker) => {
        if (m.kind === 'batch') {
          queue = queue.then(async () => {
            if (failed) return;
            written += await store.writePrepared(m.batch);
            this.options.onProgress?.(written);
            worker.postMessage({ kind: 'written' } satisfies ToWorker);
          });
          queue.catch(fail);
        } else if (m.kind === 'done') {
          queue.then(() => {
            if (failed) return;
            void worker.terminate();
            resolve(written);
          }, fail);
        } else {
          fail(new Error(`The preparing worker failed: ${m.message}`));
        }
      });
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (code !== 0) fail(new Error(`The preparing worker stopped (exit code ${code})`));
      });
      worker.postMessage({ kind: 'start', pids: store.paramIds() } satisfies ToWorker);
    });
  }

  /** Stops the worker (when the load will not happen after all). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Generates `population` and loads it into `store` (see PopulationLoader). */
export function loadPopulation(store: Store, population: GenerateOptions, options: BulkLoadOptions = {}): Promise<number> {
  return new PopulationLoader(population, options).load(store);
}
