import type { PreparedBatch } from '../../store/prepared.js';
import type { GenerateOptions } from '../generate/population.js';
import type { ReadOptions } from '../import/reader.js';

/** What the preparing worker makes resources from: a generated population, or files to import. */
export type WorkerSource = { kind: 'population'; population: GenerateOptions } | { kind: 'files'; files: Array<{ name: string; size: number }>; read: ReadOptions };

/** What the preparing worker starts with. */
export interface WorkerInput {
  source: WorkerSource;
  batchSize: number;
  /** Batches the worker may have prepared and not yet seen written. */
  window: number;
  baseUrl?: string;
}

/**
 * What the worker sends, in order. `batch` is a prepared batch (with the resources'
 * positions and how many had their shape repaired, for an import); `bundle` a transaction or
 * batch Bundle as JSON text (exact decimals kept) for the main thread's transaction processing.
 */
export type FromWorker =
  | { kind: 'batch'; batch: PreparedBatch; file?: string; positions?: string[]; repaired?: number }
  | { kind: 'bundle'; file: string; position: string; json: string }
  | { kind: 'error'; file: string; position: string; message: string }
  | { kind: 'read'; file: string; bytes: number }
  | { kind: 'done' }
  | { kind: 'failed'; message: string };

/** `start` gives the store's (type, index key, id) triples; `written` returns a batch's credit. */
export type ToWorker = { kind: 'start'; pids: Array<[string, string, number]> } | { kind: 'written' };
