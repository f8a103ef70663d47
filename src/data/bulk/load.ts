import { Worker } from 'node:worker_threads';
import type { Store } from '../../store/store.js';
import type { GenerateOptions } from '../generate/population.js';
import type { FromWorker, WorkerInput } from './messages.js';

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
 * load runs at the speed of the slower side, the database. docs/data.md, "Bulk loads".
 */
export function loadPopulation(store: Store, population: GenerateOptions, options: BulkLoadOptions = {}): Promise<number> {
  const input: WorkerInput = {
    population,
    batchSize: options.batchSize ?? 500,
    window: 3,
    pids: store.paramIds(),
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
  };
  // Run from the TypeScript sources (tsx, as the tests do), the worker is the .ts file beside this one.
  // A large young generation: the worker makes short-lived objects by the million, and with
  // V8's default (16 MB) a quarter of its time went to collecting them.
  const resourceLimits = { maxYoungGenerationSizeMb: 128 };
  const worker = import.meta.url.endsWith('.ts')
    ? // Run from the TypeScript sources (tsx, as the tests do): the worker registers tsx, then loads worker.ts.
      new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`, { eval: true, workerData: input, resourceLimits })
    : new Worker(new URL('./worker.js', import.meta.url), { workerData: input, resourceLimits });
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
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'batch') {
        queue = queue.then(async () => {
          if (failed) return;
          written += await store.writePrepared(m.batch);
          options.onProgress?.(written);
          worker.postMessage({ kind: 'written' });
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
  });
}
