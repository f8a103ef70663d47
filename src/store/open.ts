import { join } from 'node:path';
import { SqlStore } from './sql/sql-store.js';
import { SqliteDriver } from './sqlite/driver.js';
import type { StoreOptions } from './store.js';

export interface OpenStoreOptions extends StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise SQLite under dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** An SQLite file name (":memory:" for a private in-memory store). */
  sqliteFile?: string;
}

/** Opens (and migrates) the store the configuration names. */
export async function openStore(options: OpenStoreOptions): Promise<SqlStore> {
  const url = options.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    // Loaded only when asked for: SQLite users never load the PostgreSQL client.
    const { PostgresDriver } = await import('./postgres/driver.js');
    return new SqlStore(new PostgresDriver(url), options).init();
  }
  const file = options.sqliteFile ?? join(options.dataDir ?? 'data', 'ccri.sqlite');
  return new SqlStore(new SqliteDriver(file), options).init();
}
