import type { Command } from 'commander';
import type { Config } from '../config.js';
import { backupSqlite, postgresCommands, postgresLocation, restoreSqlite, type StoreFacts } from '../store/backup.js';
import { sqliteFile } from '../store/open.js';
import { SCHEMA_VERSION } from '../store/sql/migrations.js';
import { configFrom, requireStore, storeLabel, storeOptions } from './options.js';
import { count } from './text.js';

/**
 * `ccri backup` and `ccri restore` (docs/deploy.md, "Backups"). On SQLite they copy the
 * store file: a backup is consistent while a server keeps serving; a restore needs the
 * store closed. On PostgreSQL they print the pg_dump and pg_restore commands for the
 * store's schema, and exit 1 (nothing was copied).
 */
export function backupCommand(program: Command): void {
  storeOptions(
    program
      .command('backup')
      .description('write a consistent copy of the SQLite store to a file, while the server keeps serving (PostgreSQL: prints the pg_dump command)')
      .argument('<file>', 'the backup file to write')
      .option('--force', 'replace the file if it exists'),
  ).action(async (file: string, opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    if (config.databaseUrl) return postgresAdvice(config, file, 'backup');
    requireStore(config);
    const started = performance.now();
    const facts = await backupSqlite(sqliteFile(config.dataDir), file, { force: opts.force === true });
    console.log(`Backed up ${storeLabel(config)} to ${file}: ${describe(facts)}, in ${((performance.now() - started) / 1000).toFixed(1)} s.`);
  });
}

export function restoreCommand(program: Command): void {
  storeOptions(
    program
      .command('restore')
      .description('replace the SQLite store with a backup made by `ccri backup` (stop the server first; PostgreSQL: prints the pg_restore command)')
      .argument('<file>', 'the backup file')
      .option('--force', 'replace the store that is there (everything written to it since the backup is lost)'),
  ).action(async (file: string, opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    if (config.databaseUrl) return postgresAdvice(config, file, 'restore');
    const facts = await restoreSqlite(file, sqliteFile(config.dataDir), { force: opts.force === true });
    console.log(`Restored ${file} into ${storeLabel(config)}: ${describe(facts)}. Start \`ccri serve\` on it${facts.schemaVersion < SCHEMA_VERSION ? ' (its schema is brought up to date then)' : ''}.`);
  });
}

async function postgresAdvice(config: Config, file: string, what: 'backup' | 'restore'): Promise<void> {
  const url = config.databaseUrl!;
  const where = await postgresLocation(url);
  const { dump, restore } = postgresCommands(url, where?.schema ?? 'public', file);
  const lines = [
    `\`ccri ${what}\` copies SQLite stores only. A PostgreSQL store is backed up with PostgreSQL's own pg_dump, which takes one consistent snapshot while the nodes keep serving, and restored with pg_restore.`,
    where ? `This store is the schema ${where.schema} of the database ${where.database} (${storeLabel(config)}).` : `${storeLabel(config)} could not be reached to ask its schema: the commands below assume public, the default (the schema is the first of the URL's search_path).`,
    '',
    'Back up:',
    `  ${dump}`,
    '',
    'Restore (stop every node first; this replaces the schema\'s tables with the backup\'s):',
    `  ${restore}`,
    '',
    'The password, if one is needed, comes from PGPASSWORD or ~/.pgpass. See docs/deploy.md, "Backups".',
  ];
  console.error(lines.join('\n'));
  process.exitCode = 1;
}

function describe(facts: StoreFacts): string {
  return `${count(facts.resources, 'resource')}, ${count(facts.versions, 'version')}, ${(facts.bytes / 1024 / 1024).toFixed(1)} MB, schema version ${facts.schemaVersion}`;
}
