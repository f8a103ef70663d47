/**
 * The small surface the SQL store needs from a database. SQLite and PostgreSQL each
 * provide one (store/sqlite/driver.ts, store/postgres/driver.ts); everything else about
 * storage is shared (sql-store.ts), the way Kysely's dialects are small hook classes.
 *
 * SQL is written once with `?` placeholders; a driver translates as it must.
 */

import type { PreparedBatch } from '../prepared.js';

export type SqlValue = string | number | bigint | null;

export interface SqlConnection {
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /**
   * Inserts many rows into one table in as few statements as the database allows. The
   * rows come as one flat array, row after row (`values.length` is rows × columns): a bulk
   * load builds no array per row.
   * (SQLite: a cached prepared statement per row, in process; PostgreSQL: one
   * INSERT ... SELECT FROM unnest(...) per call). `suffix` is appended (e.g. an ON CONFLICT clause).
   */
  insertMany(table: string, columns: string[], values: SqlValue[], suffix?: string): Promise<void>;

  // Bulk helpers for writeMany (sql-store.ts): one statement per call on PostgreSQL,
  // a cached prepared statement per row on SQLite (where a statement costs microseconds).

  /** The current rows of these (type, id) keys, locked for the transaction where the database locks rows. */
  currentMany(keys: Array<[string, string]>): Promise<CurrentRow[]>;
  /** Inserts new resource rows (version, last_updated as given, not deleted); returns their rids. */
  insertResources(rows: Array<[type: string, id: string, version: number, lastUpdated: number]>): Promise<Array<{ rid: number; type: string; id: string }>>;
  /** Sets version, last_updated and deleted (0 or 1) of existing rows. */
  updateResources(rows: Array<[rid: number, version: number, lastUpdated: number, deleted: number]>): Promise<void>;
  /** Deletes the rows of `table` whose `column` is one of `rids`. */
  deleteByRids(table: string, column: string, rids: number[]): Promise<void>;
  /** The full-text tables, and their key column (SQLite's FTS5 tables key by rowid). */
  readonly textTables: string[];
  readonly textKey: string;
  /** Full-text rows: the folded words of the narrative and of all content. */
  insertText(rows: Array<[rid: number, narrative: string, content: string]>): Promise<void>;
  /**
   * Inserts a prepared batch of new resources (prepared.ts) with every index row, reading
   * the rows out of the batch's JSON inside the database. Returns false, having written
   * nothing, when one of the resources already exists.
   */
  insertPrepared(batch: PreparedBatch): Promise<boolean>;
}

/**
 * Indexes whose keys only grow during a load (a type with the change sequence number or the
 * time): new entries are appended, which costs less than building the index afterwards.
 */
const GROWING = new Set(['resource_version_type', 'resource_version_updated', 'resource_type_updated']);

/**
 * CREATE INDEX statements of a schema that a bulk load builds at the end: those only searches
 * need. Not the unique keys, not the rid indexes writes delete by, not those on growing keys.
 */
export function deferrableIndexes(schema: string): string[] {
  return [...schema.matchAll(/^CREATE INDEX IF NOT EXISTS (\w+) ON .*;$/gm)].filter((m) => !m[1]!.endsWith('_rid') && !GROWING.has(m[1]!)).map((m) => m[0]);
}

export interface CurrentRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  deleted: boolean;
}

export interface SqlDriver {
  readonly dialect: 'sqlite' | 'postgres';
  /** The connection for reads outside a transaction: sees committed data only. */
  readonly reader: SqlConnection;
  /**
   * Runs `fn` in a write transaction on a dedicated connection. Commits when `fn`
   * resolves, rolls back when it throws.
   */
  transaction<T>(fn: (conn: SqlConnection) => Promise<T>): Promise<T>;
  /** How many write transactions may usefully run at once (one on SQLite, whose writer is single). */
  readonly writeConcurrency: number;
  /** The clause that locks a selected row for the rest of the transaction (' FOR UPDATE' or ''). */
  readonly forUpdate: string;
  /** Whether `err` is a unique-constraint violation (a concurrent insert of the same key). */
  isUniqueViolation(err: unknown): boolean;
  /**
   * Set while a bulk load runs (Store.bulk): commits need not wait for the disk, since a
   * crash midway means loading again anyway (PostgreSQL: synchronous_commit off; SQLite:
   * synchronous off, so checkpoints do not wait either).
   */
  bulkLoading?: boolean;
  /** Gathers the planner's statistics (after a bulk load). */
  analyze(): Promise<void>;
  /** Creates or upgrades the schema. */
  migrate(): Promise<void>;
  /** The schema's CREATE INDEX statements a bulk load may defer (every index not needed to write). */
  readonly deferrableIndexes: string[];
  close(): Promise<void>;
  /**
   * A number that changes whenever any connection (in any process) commits a change,
   * or undefined when the database offers none. It lets the store cache reads safely.
   */
  changeCounter?(): number | undefined;
  /** The query plan of `sql`, as text lines (for the EXPLAIN tests). */
  explain(sql: string, params: SqlValue[], options?: { forceIndexes?: boolean }): Promise<string[]>;
}
