#!/usr/bin/env node
import { Command } from 'commander';
import { serveCommand } from './serve.js';
import { reindexCommand } from './reindex.js';
import { seedCommand } from './seed.js';
import { importCommand } from './import.js';
import { exportCommand } from './export.js';
import { validateCommand } from './validate.js';

/** `ccri`: the one program. Each subcommand lives in its own file. */
const program = new Command();
program.name('ccri').description('Care Connect Reference Implementation: a FHIR STU3 server with the Care Connect profiles').version('0.1.0');
serveCommand(program);
reindexCommand(program);
seedCommand(program);
importCommand(program);
exportCommand(program);
validateCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
