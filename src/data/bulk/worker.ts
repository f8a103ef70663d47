import { parentPort, workerData } from 'node:worker_threads';
import { stringifyJson } from '../../fhir/json.js';
import { createIndexer } from '../../search/extract.js';
import { searchRegistry } from '../../search/registry.js';
import { prepareBatch } from '../../store/prepared.js';
import { generatePopulation } from '../generate/population.js';
import { readSources } from '../import/reader.js';
import { fileSource } from '../import/sources.js';
import type { FromWorker, ToWorker, WorkerInput } from './messages.js';

/**
 * The preparing side of a bulk load (see load.ts): once `start` brings the store's
 * parameter ids, makes the resources (generates a population, or reads files to import),
 * indexes and serialises them a batch at a time, and posts each batch to the writing
 * thread, never more than `window` batches ahead.
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

async function send(message: Extract<FromWorker, { kind: 'batch' }>): Promise<void> {
  while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
  credit--;
  port.postMessage(message);
}

async function run(): Promise<void> {
  const source = input.source;
  if (source.kind === 'population') {
    let batch: Array<Record<string, unknown> & { resourceType: string }> = [];
    for (const resource of generatePopulation(source.population)) {
      batch.push(resource);
      if (batch.length >= input.batchSize) {
        await send({ kind: 'batch', batch: prepareBatch(batch, ctx, Date.now()) });
        batch = [];
      }
    }
    if (batch.length) await send({ kind: 'batch', batch: prepareBatch(batch, ctx, Date.now()) });
  } else {
    const files = source.files.map((f) => fileSource(f.name, f.size));
    for await (const e of readSources(files, { ...source.read, batchSize: input.batchSize })) {
      if (e.kind === 'resources') {
        const batch = prepareBatch(e.items.map((i) => i.resource), ctx, Date.now());
        await send({ kind: 'batch', batch, file: e.file, positions: e.items.map((i) => i.position), repaired: e.repaired });
      } else if (e.kind === 'bundle') port.postMessage({ kind: 'bundle', file: e.file, position: e.position, json: stringifyJson(e.bundle) } satisfies FromWorker);
      else port.postMessage(e satisfies FromWorker);
    }
  }
  port.postMessage({ kind: 'done' } satisfies FromWorker);
}
