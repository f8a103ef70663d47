import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { exportResources, type ExportOptions } from '../data/export.js';
import type { StoreAdmin } from '../store/store.js';
import { createContext, timing } from './context.js';
import { configFrom, storeOptions } from './options.js';

/** Writes the export as NDJSON to a stream; returns the number of resources. */
export async function runExport(store: StoreAdmin, out: NodeJS.WritableStream, options: ExportOptions = {}): Promise<number> {
  let n = 0;
  for await (const json of exportResources(store, options)) {
    if (!out.write(`${json}\n`)) await new Promise((resolve) => out.once('drain', resolve));
    n++;
  }
  return n;
}

export function exportCommand(program: Command): void {
  storeOptions(
    program
      .command('export')
      .description('write the store, one type, or one patient\'s compartment as NDJSON (one resource per line)')
      .option('--type <type>', 'only resources of this type')
      .option('--patient <id>', 'only this patient and their compartment')
      .option('--output <file>', 'the file to write ("-" for standard output)', '-'),
  ).action(async (opts: Record<string, unknown>) => {
    const ctx = await createContext(configFrom(opts));
    const started = performance.now();
    try {
      const toStdout = opts.output === '-' || opts.output === undefined;
      const out = toStdout ? process.stdout : createWriteStream(String(opts.output));
      const options: ExportOptions = {};
      if (typeof opts.type === 'string') options.type = opts.type;
      if (typeof opts.patient === 'string') options.patient = opts.patient;
      const n = await runExport(ctx.store, out, options);
      if (!toStdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      process.stderr.write(`Exported ${n} resources in ${timing(n, performance.now() - started)}.\n`);
    } finally {
      await ctx.store.close();
    }
  });
}
