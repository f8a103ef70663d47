import { join } from 'node:path';
import { eventWriter, SqlAuditStore, type WriteEvents } from './sql/audit-store.js';
import { ParamIds } from './sql/param-ids.js';
import { defaultStoreOptions } from './default-options.js';
import { SqlStore } from './sql/sql-store.js';
import type { SqlDriver } from './sql/driver.js';
import { SqliteDriver } from './sqlite/driver.js';
import type { AuditAppend, JournalMover, StoreAdmin, StoreOptions } from './store.js';
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
  return new SqlStore(new SqliteDriver(file, { queryTimeoutMs: options.queryTimeoutMs ?? 0, ...(options.peers ? { crossProcessMs: 0 } : {}) }), options).init();
}

/**
 * Where an open store is, in data another thread can be handed: a PostgreSQL URL, or a SQLite
 * file with the serving driver's write gate (its companions give way to its writes).
 */
export type StoreLocation = { databaseUrl: string } | { sqliteFile: string; gate?: SharedArrayBuffer };

/** Where `store`, opened with these options, is; undefined for a private in-memory one, which no other connection can reach. */
export function storeLocation(options: Pick<OpenStoreOptions, 'databaseUrl' | 'dataDir' | 'sqliteFile'>, store: Pick<StoreAdmin, 'writeGate'>): StoreLocation | undefined {
  if (options.databaseUrl) return { databaseUrl: options.databaseUrl };
  const file = options.sqliteFile ?? sqliteFile(options.dataDir ?? 'data');
  const gate = store.writeGate?.();
  return file === ':memory:' ? undefined : { sqliteFile: file, ...(gate ? { gate } : {}) };
}

/** Appends audit events on a connection of its own (the audit thread's), to a store another connection has opened and migrated. */
export interface AuditAppender {
  append(audit: AuditAppend): Promise<void>;
  /** Moves journaled events into `chain`, reading them from the journal's slices (this process's journal, for the server's thread: a JournalMover). */
  appendJournaled: JournalMover;
  /** Copies about `limit` events not yet searchable into the resource tables; how many. */
  index(limit: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * An audit appender on its own connection (the audit thread's): appends to the chain, and
 * copies events for search. No migration, no checkpointer, no other resource writes. The
 * indexer (the search registry) is built at the first copy.
 */
export async function openAuditAppender(location: StoreLocation, options: { queryTimeoutMs?: number; baseUrl?: string } = {}): Promise<AuditAppender> {
  let driver: SqlDriver;
  const { baseUrl, ...driverOptions } = options;
  if ('databaseUrl' in location) {
    const { PostgresDriver } = await import('./postgres/driver.js');
    driver = new PostgresDriver(location.databaseUrl, 2, driverOptions);
  } else {
    driver = new SqliteDriver(location.sqliteFile, { ...driverOptions, companion: location.gate ? { gate: location.gate } : {} });
  }
  let writer: WriteEvents | undefined;
  const audit = new SqlAuditStore(driver, (conn, events) => writer!(conn, events));
  return {
    append: (a) => audit.append(a),
    appendJournaled: (chain, slices) => audit.moveSlices(chain, slices),
    index: async (limit) => {
      if (!writer) {
        const { indexer, indexKeys } = defaultStoreOptions(undefined, baseUrl);
        const pids = new ParamIds(driver, indexKeys);
        await pids.load();
        writer = eventWriter(driver, indexer, pids);
      }
      return audit.index(limit);
    },
    close: () => driver.close(),
  };
}
