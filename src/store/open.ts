import { join } from 'node:path';
import { SqlStore } from './sql/sql-store.js';
import { SqliteDriver } from './sqlite/driver.js';
import type { StoreOptions } from './store.js';
import { isPostgresUrl, withoutPassword } from './url.js';

export interface OpenStoreOptions extends StoreOptions {
  /** postgres://… or postgresql://… selects PostgreSQL (any other URL is refused); without one, SQLite under dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** An SQLite file name (":memory:" for a private in-memory store). */
  sqliteFile?: string;
}

/** The SQLite file of a data directory. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, 'ccri.sqlite');
}

/** Opens (and migrates) the store the configuration names. */
export async function openStore(options: OpenStoreOptions): Promise<SqlStore> {
  const url = options.databaseUrl;
  if (url) {
    if (!isPostgresUrl(url)) throw new Error(`A database URL must start with postgres:// or postgresql://, not '${withoutPassword(url)}'`);
    // Loaded only when asked for: SQLite users never load the PostgreSQL client.
    const { PostgresDriver } = await import('./postgres/driver.js');
    return new SqlStore(new PostgresDriver(url, 10, { queryTimeoutMs: options.queryTimeoutMs ?? 0 }), options).init();
  }
  const file = options.sqliteFile ?? sqliteFile(options.dataDir ?? 'data');
  return new SqlStore(new SqliteDriver(file, { queryTimeoutMs: options.queryTimeoutMs ?? 0 }), options).init();
}
