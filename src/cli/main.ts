#!/usr/bin/env node
import { Command } from 'commander';

/**
 * `ccri`: the one program. Each subcommand lives in its own file, and only the one asked
 * for is loaded (a `ccri seed` need not load the HTTP server); help loads them all.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  reindex: async () => (await import('./reindex.js')).reindexCommand,
  seed: async () => (await import('./seed.js')).seedCommand,
  import: async () => (await import('./import.js')).importCommand,
  export: async () => (await import('./export.js')).exportCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  client: async () => (await import('./auth.js')).clientCommand,
  user: async () => (await import('./auth.js')).userCommand,
  keys: async () => (await import('./auth.js')).keysCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  backup: async () => (await import('./backup.js')).backupCommand,
  restore: async () => (await import('./backup.js')).restoreCommand,
};

const program = new Command();
program.name('ccri').description('Care Connect Reference Implementation: a FHIR STU3 server with the Care Connect profiles').version('0.1.0');
const asked = process.argv[2];
for (const [name, load] of Object.entries(COMMANDS)) {
  if (asked === undefined || !(asked in COMMANDS) || asked === name) (await load())(program);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
