import type { PreparedBatch } from '../../store/sql/prepared.js';
import type { GenerateOptions } from '../generate/population.js';

/** What the preparing worker starts with. */
export interface WorkerInput {
  population: GenerateOptions;
  batchSize: number;
  /** Batches the worker may have prepared and not yet seen written. */
  window: number;
  /** The store's (type, index key, id) triples. */
  pids: Array<[string, string, number]>;
  baseUrl?: string;
}

export type FromWorker = { kind: 'batch'; batch: PreparedBatch } | { kind: 'done' } | { kind: 'failed'; message: string };
export type ToWorker = { kind: 'written' };
