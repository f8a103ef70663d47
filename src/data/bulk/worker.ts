import { parentPort, workerData } from 'node:worker_threads';
import { createIndexer } from '../../search/extract.js';
import { searchRegistry } from '../../search/registry.js';
import { prepareBatch } from '../../store/sql/prepared.js';
import { generatePopulation } from '../generate/population.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';

/**
 * The preparing side of a bulk load (see load.ts): generates the resources, indexes and
 * serialises them a batch at a time, and posts each batch to the writing thread, never
 * more than `window` batches ahead of it.
 */
const input = workerData as WorkerInput;
const port = parentPort!;
const pids = new Map<string, Map<string, number>>();
for (const [type, key, pid] of input.pids) {
  let m = pids.get(type);
  if (!m) pids.set(type, (m = new Map()));
  m.set(key, pid);
}
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
  }
});

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

run().catch((err: unknown) => port.postMessage({ kind: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies FromWorker));
