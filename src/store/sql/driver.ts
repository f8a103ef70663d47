import type { EventRecord } from '../../fhir/audit-event.js';
/**
 * The small surface the SQL store needs from a database. SQLite and PostgreSQL each
 * provide one (store/sqlite/driver.ts, store/postgres/driver.ts); everything else about
 * storage is shared (sql-store.ts), the way Kysely's dialects are small hook classes.
 *
 * SQL is written once with `?` placeholders; a driver translates as it must.
 */

import type { Cancellation } from '../cancel.js';
import type { PreparedBatch } from '../prepared.js';
import type { ConnectionUse, JournalSlice, StatementObserver } from '../store.js';
import type { SqlDialect } from './schema.js';

export type SqlValue = string | number | bigint | null;

const FIXED = new Set<string>();

/**
 * Marks a statement of fixed text that runs again and again with other values (a read by
 * id, the audit chain's head) and whose best plan does not depend on them: a database that
 * plans every statement it is sent (PostgreSQL) keeps it prepared on each connection
 * instead. Only for constants (the set is never emptied), and never for a search's SQL, whose
 * plan depends on its values. Returns `sql`.
 */
export function fixed(sql: string): string {
  FIXED.add(sql);
  return sql;
}

/** Whether `sql` was marked with `fixed`. */
export function isFixed(sql: string): boolean {
  return FIXED.has(sql);
}

export interface SqlConnection {
  all<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T = Record<string, unknown>>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<number>;
  /**
   * A statement that changes rows and whose result is not needed: PostgreSQL sends it with the
   * transaction's next statement, as it does the inserts held back (one round trip for all of
   * them); SQLite runs it at once. Nothing may read what it changes before then.
   */
  runLater(sql: string, params?: SqlValue[]): Promise<void>;
  /** Inside a transaction: waits for, then holds until it ends, a lock on `key` (PostgreSQL's advisory lock; SQLite's writes are serialised already). */
  advisoryLock(key: string): Promise<void>;
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
  /** Deletes the rows of each table whose column is one of its rids (PostgreSQL: in one statement). */
  deleteByRids(deletes: ReadonlyArray<{ table: string; column: string; rids: readonly number[] }>): Promise<void>;
  /** Full-text rows: the folded words of the narrative and of all content. */
  insertText(rows: Array<[rid: number, narrative: string, content: string]>): Promise<void>;
  /**
   * Inserts a prepared batch of new resources (prepared.ts) with every index row, reading
   * the rows out of the batch's JSON inside the database. Returns false, having written
   * nothing, when one of the resources already exists.
   */
  insertPrepared(batch: PreparedBatch): Promise<boolean>;
}

export interface TransactionOptions {
  /** A bulk load's: does not wait for its commit to reach the disk (and is not time-limited). */
  relaxed?: boolean;
  /**
   * Administration (migrations, index builds, reindexing, clearing): not held to the query
   * time limit (StoreOptions.queryTimeoutMs), which is for requests.
   */
  unbounded?: boolean;
  /** Changes no resource (an audit append): the read cache may stay. */
  unchanged?: boolean;
  /**
   * Commits at once, on its own, rather than as a member of a group of writes (SQLite's
   * group commit): an audit append, whose requests are already one group, and wait for it.
   */
  alone?: boolean;
  /** The cancellation of the request the transaction is for (store/cancel.ts): its statements stop as the reader's do. */
  signal?: Cancellation;
}

export interface CurrentRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  deleted: boolean;
}

/**
 * A chain's audit journal (docs/audit.md, "Durable"): where the events of reads are made
 * durable, one write a batch, before they are moved into the chain. Held by one process.
 */
export interface AuditJournal {
  /** Makes `records` durable (one write); where they are. Throws when it cannot. */
  write(records: readonly EventRecord[]): JournalSlice;
  /** The events an earlier holder left (some may be in the chain already: see the note of the last moved), and the segments holding them. */
  leftover(): { records: EventRecord[]; segments: string[] };
  /** The segments closed so far: every event in them was handed to a move already, or is in the one about to start. */
  closedSegments(): string[];
  /** Removes segments whose every event is in the chain. */
  remove(segments: readonly string[]): void;
  /** Gives the journal up; with `moved` (every event written is in the chain) it is left empty. */
  close(moved: boolean): void;
}

/** The audit journals of the chains of one database. */
export interface AuditJournals {
  /** The journal of `chain`, held by this process until it is closed; undefined while another process holds it. */
  open(chain: string): AuditJournal | undefined;
  /** The chains that have journals (some perhaps left by processes that ended). */
  chains(): string[];
  /** The events in `slices` of a journal (written by any holder, on any thread), in order. */
  read(slices: readonly JournalSlice[]): EventRecord[];
}

export interface SqlDriver {
  /** SQLite's: set while this driver writes, for a companion driver on another thread to give way to. */
  readonly writeGate?: SharedArrayBuffer;
  /** What differs about this database: compile hooks, DDL, the full-text index. */
  readonly dialect: SqlDialect;
  /** The audit journals beside the database, where it is a file on this machine (SQLite's; not an in-memory one). */
  readonly journals?: AuditJournals;
  /** The connection for reads outside a transaction: sees committed data only. */
  readonly reader: SqlConnection;
  /** The reader for one request: it starts no statement once `signal` is aborted, and stops the one running where the database can (store/cancel.ts). */
  readerFor(signal: Cancellation): SqlConnection;
  /**
   * Runs `fn` in a write transaction on a dedicated connection. Commits when `fn`
   * resolves, rolls back when it throws. A `relaxed` transaction (a bulk load's) does not
   * wait for its commit to reach the disk (PostgreSQL: synchronous_commit off; SQLite:
   * synchronous off): a crash midway means loading again anyway. Only that transaction
   * is relaxed, never another running beside it.
   */
  transaction<T>(fn: (conn: SqlConnection) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** How many write transactions may usefully run at once (one on SQLite, whose writer is single). */
  readonly writeConcurrency: number;
  /**
   * Runs `fn` holding the store's lock, which one process (or node) at a time holds:
   * schema migrations and reindexing at start-up run under it, so nodes that start
   * together take turns. Waits for the lock as long as another holds it.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Says, until the driver closes, that this process serves requests from the database,
   * so that a bulk load elsewhere keeps the indexes it would otherwise drop.
   */
  holdServing(): Promise<void>;
  /**
   * When no process serves from the database (holdServing), claims it for a bulk load
   * and returns the release; otherwise undefined (and the load keeps every index).
   */
  claimForBulk(): Promise<(() => Promise<void>) | undefined>;
  /** Gathers the planner's statistics (after a bulk load). */
  analyze(): Promise<void>;
  /** How the connections are used at this moment (metrics). */
  connections(): ConnectionUse;
  /** Tells `observer` how long each call to the database takes, from now on (undefined: no one). */
  observe(observer: StatementObserver | undefined): void;
  close(): Promise<void>;
  /**
   * A number that changes whenever any connection (in any process) commits a change,
   * or undefined when the database offers none. It lets the store cache reads safely.
   */
  changeCounter?(): number | undefined;
  /**
   * Makes the next read through `reader` see every commit made so far, by any connection.
   * A driver whose reader may read from a snapshot kept between statements (SQLite's) has
   * it; one whose every statement sees the latest commits (PostgreSQL's) need not.
   */
  fresh?(): void;
  /** The query plan of `sql`, as text lines (for the EXPLAIN tests). */
  explain(sql: string, params: SqlValue[], options?: { forceIndexes?: boolean }): Promise<string[]>;
}
