import type { Command } from 'commander';
import { exportResources, type ExportOptions } from '../data/export.js';
import type { StoreAdmin } from '../store/store.js';
import { fhirModel } from '../fhir/definitions/model.js';
import { EVERYTHING } from '../search/access.js';
import { createContext, timing } from './context.js';
import { count } from './text.js';
import { configFrom, outputFile, requireStore, storeLabel, storeOptions } from './options.js';

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
    const config = configFrom(opts);
    const options: ExportOptions = {};
    if (typeof opts.type === 'string') {
      if (!fhirModel().isResourceType(opts.type)) throw new Error(`'${opts.type}' is not an STU3 resource type (they are spelt as in the specification: Patient, Observation, …)`);
      options.type = opts.type;
    }
    if (typeof opts.patient === 'string') options.patient = opts.patient;
    requireStore(config);
    const ctx = await createContext(config);
    const started = performance.now();
    try {
      if (options.patient !== undefined) {
        const patient = await ctx.store.reader(EVERYTHING).read('Patient', options.patient);
        if (!patient || patient.deleted) throw new Error(`There is no Patient/${options.patient} in ${storeLabel(config)}${patient ? ' (it was deleted)' : ''}.`);
      }
      const toStdout = opts.output === '-' || opts.output === undefined;
      const out = toStdout ? process.stdout : await outputFile(String(opts.output));
      const n = await runExport(ctx.store, out, options);
      if (!toStdout) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      process.stderr.write(`Exported ${count(n, 'resource')} in ${timing(n, performance.now() - started)}.\n`);
    } finally {
      await ctx.store.close();
    }
  });
}
