import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import { SCHEMA_VERSION } from './sql/migrations.js';
import { StoreInUse, UseLock } from './sqlite/use-lock.js';
import { withoutPassword } from './url.js';

/**
 * Backups of a SQLite store (`ccri backup`, `ccri restore`; docs/deploy.md, "Backups"). A
 * backup is SQLite's online backup of the live file, taken beside a server that keeps
 * writing: one consistent snapshot, as of one moment, of everything committed (resources,
 * their history, the search indexes, the audit trail, the keys). A PostgreSQL store is
 * backed up with PostgreSQL's own tools (postgresBackupAdvice).
 */

/** What a store file holds. */
export interface StoreFacts {
  schemaVersion: number;
  /** Resources, deleted ones included. */
  resources: number;
  /** Versions of resources, all of them. */
  versions: number;
  bytes: number;
}

/** A file given as a backup that is not one (or a store that cannot be backed up), said in the operator's terms. */
export class NotAStore extends Error {}

/**
 * Writes a consistent copy of the store `file` to `dest`, while other processes read and
 * write it. The copy is a single self-contained file (its journal is not WAL), checked
 * before it takes `dest`'s name: a backup that is there is whole.
 */
export async function backupSqlite(file: string, dest: string, options: { force?: boolean } = {}): Promise<StoreFacts> {
  if (resolve(dest) === resolve(file)) throw new Error(`${dest} is the store itself: name another file for the backup`);
  if (existsSync(dest) && !options.force) throw new Error(`${dest} exists already: name another file, or give --force to replace it`);
  if (!existsSync(dirname(resolve(dest)))) throw new Error(`${dest}: cannot be written (no such directory)`);
  // Held while the copy is taken, so that a restore cannot replace the file meanwhile.
  const use = UseLock.shared(file);
  const partial = `${dest}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    const source = new Database(file, { fileMustExist: true });
    try {
      source.pragma('busy_timeout = 10000');
      // The first step copies nothing and the second all the rest: SQLite's backup restarts
      // when another connection writes between two steps, and a server that keeps writing
      // would restart a backup of many small steps again and again. One step reads one
      // snapshot (in WAL mode without holding up the writers).
      await source.backup(partial, { progress: () => 0x7fffffff });
    } finally {
      source.close();
    }
    const copy = new Database(partial, { fileMustExist: true });
    let facts: StoreFacts;
    try {
      copy.pragma('journal_mode = DELETE');
      facts = inspect(copy, partial);
    } finally {
      copy.close();
    }
    // Health records: readable by this user only, whatever the umask.
    chmodSync(partial, 0o600);
    syncFile(partial);
    renameSync(partial, dest);
    return { ...facts, bytes: statSync(dest).size };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    use.release();
  }
}

/**
 * Replaces the store `file` with the backup `backup`. Refused while any process has the
 * store open (a server, or a command), for a file that is not a whole ccri store, and,
 * without `force`, when a store is there already. The backup is copied and checked
 * beside the store first, then takes its place in one rename.
 */
export async function restoreSqlite(backup: string, file: string, options: { force?: boolean } = {}): Promise<StoreFacts> {
  if (!existsSync(backup)) throw new Error(`${backup}: no such file`);
  if (resolve(backup) === resolve(file)) throw new Error(`${backup} is the store itself`);
  mkdirSync(dirname(file), { recursive: true });
  const lock = UseLock.exclusive(file);
  if (!lock) {
    throw new StoreInUse(
      `The store ${file} is open in another process (\`ccri serve\`, or a command such as \`ccri import\`). ` +
        'Stop it first (SIGTERM lets a server finish its requests), then run `ccri restore` again: a restore replaces the whole file, and a process that had it open would go on writing to the old one.',
    );
  }
  const restoring = `${file}.restoring`;
  try {
    if (existsSync(file) && !options.force) {
      throw new Error(
        `There is a store in ${dirname(file)} already (${file}). A restore replaces it, losing everything written to it since the backup: ` +
          'give --force to do so (take a `ccri backup` of it first if in doubt).',
      );
    }
    rmSync(restoring, { force: true });
    await copyFile(backup, restoring);
    const db = new Database(restoring, { fileMustExist: true });
    let facts: StoreFacts;
    try {
      facts = inspect(db, backup);
      db.pragma('journal_mode = WAL');
    } finally {
      db.close();
    }
    syncFile(restoring);
    // The old store's write-ahead log must not be read as the new file's.
    for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    renameSync(restoring, file);
    return { ...facts, bytes: statSync(file).size };
  } catch (err) {
    rmSync(restoring, { force: true });
    throw err;
  } finally {
    lock.release();
  }
}

/** What a store file holds; throws NotAStore, naming `label`, when it is not a whole ccri store. */
function inspect(db: Db, label: string): StoreFacts {
  try {
    const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
    for (const table of ['store_meta', 'resource', 'resource_version']) {
      if (!tables.has(table)) throw new NotAStore(`${label} is a SQLite database but not a ccri store (it has no ${table} table)`);
    }
    const version = Number(db.prepare("SELECT value FROM store_meta WHERE key = 'schema_version'").pluck().get());
    if (!Number.isInteger(version) || version < 1) throw new NotAStore(`${label} is not a ccri store (it records no schema version)`);
    if (version > SCHEMA_VERSION) throw new NotAStore(`${label} was written by a newer release of ccri (schema version ${version}; this one knows up to ${SCHEMA_VERSION}): restore it with that release`);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new NotAStore(`${label} is damaged (SQLite's quick_check says: ${String(check)})`);
    const count = (table: string) => Number(db.prepare(`SELECT count(*) FROM ${table}`).pluck().get());
    return { schemaVersion: version, resources: count('resource'), versions: count('resource_version'), bytes: 0 };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') throw new NotAStore(`${label} is not a SQLite database, so not a ccri store (a backup is the file \`ccri backup\` writes)`);
    if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) throw new NotAStore(`${label} is a damaged SQLite database (${code}), not a whole ccri store`);
    throw err;
  }
}

function syncFile(path: string): void {
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A word for a POSIX shell: single-quoted unless it needs no quoting. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Where a PostgreSQL store lives: its schema and database, asked of the server (undefined when it cannot be reached). */
export async function postgresLocation(url: string): Promise<{ schema: string; database: string } | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, application_name: 'ccri' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ schema: string | null; database: string }>('SELECT current_schema() AS schema, current_database() AS database');
    return rows[0]?.schema ? { schema: rows[0].schema, database: rows[0].database } : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The pg_dump and pg_restore commands for a PostgreSQL store, as `ccri backup` and
 * `ccri restore` print them (they copy SQLite stores only). The password is never
 * printed: pg_dump takes it from PGPASSWORD or ~/.pgpass.
 */
export function postgresCommands(url: string, schema: string, file: string): { dump: string; restore: string } {
  const dbname = shellWord(withoutPassword(url).replace(/:\*\*\*@/, '@'));
  return {
    dump: `pg_dump --format=custom --schema=${shellWord(/^[a-z_][a-z0-9_]*$/.test(schema) ? schema : `"${schema.replace(/"/g, '""')}"`)} --file=${shellWord(file)} --dbname=${dbname}`,
    restore: `pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error --dbname=${dbname} ${shellWord(file)}`,
  };
}
