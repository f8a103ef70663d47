import type { Command } from 'commander';
import { demoResources, loadDemoData } from '../data/demo.js';
import { generatePopulation } from '../data/generate/population.js';
import type { Res } from '../data/generate/types.js';
import { loadPopulation, populationWorker } from '../data/bulk/load.js';
import { loadConformance } from '../profiles/load.js';
import { createContext, timing } from './context.js';
import { count } from './text.js';
import { configFrom, outputFile, storeOptions, wholeNumber } from './options.js';
import { BUILDING, progressBar } from './progress.js';

/** Populations from this size load with Store.bulk (indexes built once at the end). */
const BULK_FROM = 1000;

export interface SeedOptions {
  patients?: number;
  seed: number;
  reset?: boolean;
  demo?: boolean;
  output?: string;
  batchSize?: number;
  /** Build the search indexes at the end (Store.bulk); default for 1,000 patients or more. */
  bulk?: boolean;
}

/**
 * `ccri seed`: generates a synthetic population for one care setting and loads it
 * (or writes it as NDJSON with --output). With no --patients it loads the demo data
 * set; --reset wipes the store first (the nightly reload).
 */
export function seedCommand(program: Command): void {
  storeOptions(
    program
      .command('seed')
      .description('generate synthetic Care Connect data and load it (the demo data set unless --patients is given)')
      .option('--patients <n>', 'number of patients to generate', wholeNumber(1))
      .option('--seed <s>', 'random seed: the same seed gives the same data', wholeNumber(0), 1)
      .option('--reset', 'wipe the store first')
      .option('--demo', 'load the demo data set as well as --patients')
      .option('--output <file>', 'write NDJSON to a file ("-" for standard output) instead of loading')
      .option('--batch-size <n>', 'resources per store transaction', wholeNumber(1), 500)
      .option('--no-bulk', 'keep every search index up to date during the load (by default a load of 1,000 patients or more builds them at the end)'),
  ).action(async (opts: Record<string, unknown>) => {
    const o: SeedOptions = { seed: opts.seed as number, reset: opts.reset === true, demo: opts.demo === true, batchSize: opts.batchSize as number, bulk: opts.bulk !== false };
    if (opts.patients !== undefined) o.patients = opts.patients as number;
    if (typeof opts.output === 'string') o.output = opts.output;
    if (o.output !== undefined) return writeNdjson(o);
    await seed(opts, o);
  });
}

async function writeNdjson(o: SeedOptions): Promise<void> {
  const out: NodeJS.WritableStream = o.output === '-' ? process.stdout : await outputFile(o.output!);
  const source: Iterable<Res> = o.patients === undefined ? demoResources() : generatePopulation({ patients: o.patients, seed: o.seed });
  let n = 0;
  for (const r of source) {
    if (!out.write(`${JSON.stringify(r)}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    n++;
  }
  if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  console.error(`Wrote ${count(n, 'resource')}.`);
}

async function seed(opts: Record<string, unknown>, o: SeedOptions): Promise<void> {
  const config = configFrom(opts);
  const bar = progressBar('seed');
  const options = { ...(o.batchSize ? { batchSize: o.batchSize } : {}), onProgress: (n: number) => bar.update(n) };
  const population = o.patients !== undefined ? { patients: o.patients, seed: o.seed } : undefined;
  // A worker thread generates and indexes while this one writes (data/bulk/load.ts). It
  // starts now, so that its start-up overlaps opening the store.
  const loader = population ? populationWorker(population, { ...(o.batchSize ? { batchSize: o.batchSize } : {}), baseUrl: config.baseUrl }) : undefined;
  let ctx: Awaited<ReturnType<typeof createContext>>;
  try {
    ctx = await createContext(config);
  } catch (err) {
    await loader?.stop();
    throw err;
  }
  try {
    const started = performance.now();
    // Recorded in the store until the load finishes: a load killed midway is reported at the next start (context.ts).
    await ctx.store.recordLoad(seedCommandLine(o));
    if (o.reset) {
      await ctx.store.clear();
      // The Care Connect definitions are part of every store, wiped or not.
      await loadConformance(ctx.store);
    }
    let total = 0;
    if (o.patients === undefined || o.demo) total += await loadDemoData(ctx.store);
    if (population) {
      const write = () => loadPopulation(ctx.store, loader!, options.onProgress);
      total += o.bulk && population.patients >= BULK_FROM ? await ctx.store.bulk(write, () => bar.stop(BUILDING)) : await write();
      bar.stop();
    }
    await ctx.store.recordLoad(undefined);
    console.log(`Loaded ${count(total, 'resource')}${o.reset ? ' into a wiped store' : ''} in ${timing(total, performance.now() - started)}.`);
  } finally {
    await loader?.stop();
    await ctx.store.close();
  }
}

/** The seed command as the operator would run it again (the store's options aside). */
function seedCommandLine(o: SeedOptions): string {
  const parts = ['ccri seed'];
  if (o.patients !== undefined) parts.push(`--patients ${o.patients}`, `--seed ${o.seed}`);
  if (o.demo) parts.push('--demo');
  if (o.reset) parts.push('--reset');
  return parts.join(' ');
}
