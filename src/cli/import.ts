import type { Command } from 'commander';
import { Importer, type ImportSummary } from '../data/import/importer.js';
import { expandSources, SKIPPED, type Source } from '../data/import/sources.js';
import { type CommandContext, createContext, timing } from './context.js';
import { configFrom, requireStore, storeOptions, wholeNumber } from './options.js';
import { count } from './text.js';
import { BUILDING, progressBar } from './progress.js';

/** Inputs from this size load with Store.bulk (indexes built once at the end). */
const BULK_FROM_BYTES = 50 * 1024 * 1024;

export interface ImportCommandOptions {
  validate?: boolean;
  /** Build the search indexes at the end (Store.bulk); by default for inputs of 50 MB or more. */
  bulk?: boolean;
  strict?: boolean;
  batchSize?: number;
  /** Where messages go (stderr by default); tests capture them. */
  report?: (line: string) => void;
  quiet?: boolean;
  /** Where the progress line goes (stderr by default; drawn only on a terminal). */
  progress?: NodeJS.WriteStream;
}

/**
 * Loads the given files, directories and/or standard input ("-"), printing each bad
 * resource with its file and position and a summary at the end. Returns the summary;
 * the command exits non-zero when anything failed.
 */
export async function runImport(ctx: CommandContext, paths: readonly string[], options: ImportCommandOptions = {}): Promise<ImportSummary> {
  const report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  return importSources(ctx, await expandSources(paths, { onSkipped: (path) => report(`${path}: ${SKIPPED}`) }), options);
}

async function importSources(ctx: CommandContext, sources: readonly Source[], options: ImportCommandOptions): Promise<ImportSummary> {
  const report = options.report ?? ((line: string) => process.stderr.write(`${line}\n`));
  const totalBytes = sources.reduce((s, x) => s + (x.size ?? 0), 0);
  const bar = options.quiet ? undefined : progressBar('import', options.progress);
  const importer = new Importer({ store: ctx.store, baseUrl: ctx.server.config.baseUrl, dispatch: ctx.dispatch }, {
    ...(options.validate ? { validate: true } : {}),
    ...(options.strict ? { strict: true } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    onError: (e) => report(`${e.file}: ${e.position}: ${e.message}`),
    onProgress: (loaded) => bar?.update(loaded),
  });
  const bulk = options.bulk ?? totalBytes >= BULK_FROM_BYTES;
  const started = performance.now();
  // A bulk load reads the files on two threads (data/bulk/load.ts).
  const summary = bulk ? await ctx.store.bulk(() => importer.load(sources, { twoThreads: true }), () => bar?.stop(BUILDING)) : await importer.load(sources);
  // The time includes building the search indexes at the end of a bulk load.
  summary.ms = Math.round(performance.now() - started);
  bar?.stop();
  const repaired = summary.repaired ? `; ${count(summary.repaired, 'resource')} had element shapes repaired (--strict to refuse them)` : '';
  report(`Imported ${count(summary.resources, 'resource')} from ${count(summary.files, 'file')} in ${timing(summary.resources, summary.ms)}; ${count(summary.errors, 'error')}${repaired}.`);
  return summary;
}

export function importCommand(program: Command): void {
  storeOptions(
    program
      .command('import')
      .description('load FHIR Bundles (transaction, batch, collection) and NDJSON, JSON or XML, from files, directories or - (standard input)')
      .argument('<paths...>', 'files, directories (searched recursively) or - for standard input')
      .option('--validate', 'validate each resource first, against the STU3 definitions and its type\'s Care Connect profile (errors are reported and not loaded)')
      .option('--strict', 'refuse resources whose JSON shape needs repair (a single value where an array is due, or the reverse)')
      .option('--create', 'create the store if the data directory holds none (otherwise that is an error)')
      .option('--batch-size <n>', 'resources per store transaction', wholeNumber(1), 500)
      .option('--no-bulk', 'keep every search index up to date during the load (by default inputs of 50 MB or more build them at the end)'),
  ).action(async (paths: string[], opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    if (opts.create !== true) requireStore(config, '`ccri import --create` makes a new one');
    // Every path is checked before the store opens.
    const sources = await expandSources(paths, { onSkipped: (path) => process.stderr.write(`${path}: ${SKIPPED}\n`) });
    const ctx = await createContext(config);
    try {
      // Recorded in the store until the import ends: one killed midway is reported at the next start (context.ts).
      await ctx.store.recordLoad(`ccri import ${paths.join(' ')}`);
      const summary = await importSources(ctx, sources, { validate: opts.validate === true, strict: opts.strict === true, batchSize: opts.batchSize as number, ...(opts.bulk === false ? { bulk: false } : {}) });
      await ctx.store.recordLoad(undefined);
      if (summary.errors > 0) process.exitCode = 1;
    } finally {
      await ctx.store.close();
    }
  });
}
