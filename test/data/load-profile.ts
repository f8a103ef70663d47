/**
 * Where the time of a bulk load goes: generation, the search indexer, and the store
 * (with and without index rows). Not a test: run with
 *   [BULK=1] [BATCH=500] npx tsx test/data/load-profile.ts [patients] [postgres-url]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePopulation } from '../../src/data/generate/population.js';
import type { Res } from '../../src/data/generate/types.js';
import { writeResources } from '../../src/data/write.js';
import { emptyIndexRows } from '../../src/search/index-rows.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';

const patients = Number(process.argv[2] ?? 1000);
const databaseUrl = process.argv[3];
const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

let t = performance.now();
const resources: Res[] = [...generatePopulation({ patients, seed: 1 })];
console.log(`generate ${resources.length} resources: ${ms(t)}`);

const options = defaultStoreOptions();
t = performance.now();
let rows = 0;
for (const r of resources) {
  const x = options.indexer(r);
  rows += x.token.length + x.string.length + x.date.length + x.reference.length + x.quantity.length + x.number.length + x.uri.length;
}
console.log(`index ${resources.length} resources (${rows} index rows): ${ms(t)}`);

t = performance.now();
for (const r of resources) JSON.stringify(r);
console.log(`stringify: ${ms(t)}`);

const variants: Array<[string, typeof options.indexer]> = [
  ['every index row', options.indexer],
  ['all but _content', (r) => {
    const x = options.indexer(r);
    x.string = x.string.filter((row) => row[0] !== '_content');
    return x;
  }],
  ['no index rows', () => emptyIndexRows()],
];
for (const [label, indexer] of variants) {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-profile-'));
  const store = await openStore({
    ...options,
    indexer,
    ...(databaseUrl ? { databaseUrl } : { dataDir: dir }),
  });
  await store.clear();
  const copy = resources.map((r) => structuredClone(r));
  t = performance.now();
  const write = () => writeResources(store, copy, { batchSize: Number(process.env.BATCH ?? 500) });
  const n = process.env.BULK ? await store.bulk(write) : await write();
  const took = performance.now() - t;
  console.log(`store, ${label}: ${n} in ${took.toFixed(0)} ms = ${Math.round(n / (took / 1000))}/s`);
  await store.clear();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
