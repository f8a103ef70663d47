import { parentPort, workerData } from 'node:worker_threads';
import { createIndexer } from '../../search/extract.js';
import { searchRegistry } from '../../search/registry.js';
import { prepareBatch } from '../../store/sql/prepared.js';
import { generatePopulation } from '../generate/population.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';

/**
 * The preparing side of a bulk load (see load.ts): once `start` brings the store's
 * parameter ids, generates the resources, indexes and serialises them a batch at a time,
 * and posts each batch to the writing thread, never more than `window` batches ahead.
 */
const input = workerData as WorkerInput;
const port = parentPort!;
const pids = new Map<string, Map<string, number>>();
const ctx = {
  indexer: createIndexer(searchRegistry(), input.baseUrl ? { baseUrl: input.baseUrl } : {}),
  pidsOf: (type: string) => pids.get(type),
};

let credit = input.window;
let wake: (() => void) | undefined;
port.on('message', (m: ToWorker) => {
  if (m.kind === 'written') {
    credit++;
    wake?.();
  } else {
    for (const [type, key, pid] of m.pids) {
      let map = pids.get(type);
      if (!map) pids.set(type, (map = new Map()));
      map.set(key, pid);
    }
    run().catch((err: unknown) => port.postMessage({ kind: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker));
  }
});
// Compile the indexer now, before the store's ids arrive.
ctx.indexer({ resourceType: 'Patient' });

async function run(): Promise<void> {
  let batch: Array<Record<string, unknown> & { resourceType: string }> = [];
  const send = async () => {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit--;
    port.postMessage({ kind: 'batch', batch: prepareBatch(batch, ctx, Date.now()) } satisfies FromWorker);
    batch = [];
  };
  for (const resource of generatePopulation(input.population)) {
    batch.push(resource);
    if (batch.length >= input.batchSize) await send();
  }
  if (batch.length) await send();
  port.postMessage({ kind: 'done' } satisfies FromWorker);
}

