import type { PreparedBatch } from '../../store/sql/prepared.js';
import type { GenerateOptions } from '../generate/population.js';

/** What the preparing worker starts with. */
export interface WorkerInput {
  population: GenerateOptions;
  batchSize: number;
  /** Batches the worker may have prepared and not yet seen written. */
  window: number;
  baseUrl?: string;
}

export type FromWorker = { kind: 'batch'; batch: PreparedBatch } | { kind: 'done' } | { kind: 'failed'; message: string };
/** `start` gives the store's (type, index key, id) triples; `written` returns a batch's credit. */
export type ToWorker = { kind: 'start'; pids: Array<[string, string, number]> } | { kind: 'written' };
