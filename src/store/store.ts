import type { Access } from '../search/access.js';
import type { Indexer } from '../search/index-rows.js';
import type { SearchPlan, SortValue } from '../search/plan.js';
import type { Cancellation } from './cancel.js';

/**
 * The store interfaces. SQLite and PostgreSQL implement them, and one contract suite
 * (store.contract.ts) runs against both. Tables and encodings: docs/storage.md.
 *
 * `Store` is what requests use: readers and transactions exist only for an access value,
 * and everything they read is narrowed by it. `StoreAdmin` is what the commands and the
 * server's wiring use besides (bulk loads, reindexing, settings); handlers never hold it.
 */

/** One stored version of a resource, with the JSON exactly as served. */
export interface StoredVersion {
  type: string;
  id: string;
  version: number;
  /** ISO instant, equal to meta.lastUpdated in the JSON. */
  lastUpdated: string;
  deleted: boolean;
  /** The JSON text as served; null for a deletion. */
  json: string | null;
  /** The interaction that produced this version (for history entries). */
  method: 'POST' | 'PUT' | 'DELETE';
}

export interface WriteOp {
  type: string;
  id: string;
  /** The resource to store, or null to delete. Its id and meta are set by the store. */
  resource: Record<string, unknown> | null;
  /** The version the caller expects to be current (If-Match); a mismatch is a 412. */
  ifMatch?: number;
  /** Fail with 409 if a current (not deleted) resource with this id exists. */
  mustNotExist?: boolean;
  /**
   * The id was made by the server for this write (a random UUID), so no resource has it:
   * it is not looked up first (a statement fewer; should it exist after all, the write is
   * retried as one that lost a race, and a create makes another id).
   */
  newId?: boolean;
}

export type WriteKind = 'created' | 'updated' | 'deleted' | 'noop';

export interface WriteResult {
  kind: WriteKind;
  /** The version now current (for a 'noop' delete, the existing deleted one, or version 0). */
  version: StoredVersion;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions changed at or after this instant (epoch ms). */
  since?: number;
  /** Only versions changed before this instant (epoch ms), a page boundary. */
  before?: number;
  /** Only versions older than this change sequence number (a cursor from the previous page). */
  beforeSeq?: number;
  count: number;
}

export interface HistoryPage {
  versions: Array<StoredVersion & { seq: number }>;
  total: number;
}

/**
 * Reads and searches, seeing only what the access it was made for allows (anything
 * else reads as absent); the same methods inside a write transaction see its own writes.
 */
export interface StoreReader {
  read(type: string, id: string): Promise<StoredVersion | undefined>;
  vread(type: string, id: string, version: number): Promise<StoredVersion | undefined>;
  history(query: HistoryQuery): Promise<HistoryPage>;
  search(plan: SearchPlan): Promise<SearchPage>;
}

export interface StoreTx extends StoreReader {
  write(op: WriteOp): Promise<WriteResult>;
  /**
   * Many writes, in order, in as few statements as the database allows: the fast path
   * for imports and seeding (thousands of resources per second). Same semantics as
   * calling write for each.
   */
  writeMany(ops: WriteOp[]): Promise<WriteResult[]>;
  /**
   * Waits for, then holds to the end of the transaction, a lock on `key` (a conditional
   * write's type and normalised criteria): two conditional writes with the same criteria
   * take turns, so both cannot find nothing and both create. Without effect where writes
   * are serialised anyway (SQLite).
   */
  serialise(key: string): Promise<void>;
  /**
   * Locks the current rows of these resources (those that exist) in one fixed order, so
   * transactions that change the same resources in different orders cannot deadlock.
   */
  lock(keys: Array<[type: string, id: string]>): Promise<void>;
}

/** What requests use. */
export interface Store {
  /**
   * Reads and searches that see only what `access` allows. With `signal` (a request's: its
   * client may go away), they start no statement once it is aborted, and stop the one
   * running where the database can (store/cancel.ts).
   */
  reader(access: Access, signal?: Cancellation): StoreReader;
  /**
   * Runs `fn` in one database transaction whose reads see only what `access` allows: all
   * its writes commit, or none do. With `audit`, the events it builds once `fn` has
   * finished are appended to the audit trail in the same transaction (the request
   * pipeline's record step; never a handler). With `signal`, it stops as the reader does,
   * and rolls back.
   */
  transaction<T>(access: Access, fn: (tx: StoreTx) => Promise<T>, options?: { audit?: AuditAppend; signal?: Cancellation }): Promise<T>;
}

export type { PatientRef } from '../fhir/audit-event.js';
import type { EventRecord, PatientRef } from '../fhir/audit-event.js';

/** Asks the store whose resources these are (`Type/id` keys), inside the transaction appending the audit. */
export type PatientLookup = (keys: readonly string[]) => Promise<Map<string, PatientRef[]>>;

/** Audit events to append to a chain, built once the store can say whose data was touched. */
export interface AuditAppend {
  chain: string;
  /** The events' records (fhir/audit-event.ts), which the chain keeps and hashes. */
  build(lookup: PatientLookup): Promise<EventRecord[]>;
}

/**
 * Bytes of a journal's segment (a file beside the database) that hold whole lines, each an
 * event written by a write that succeeded: from `start` up to `end`, exclusive.
 */
export interface JournalSlice {
  path: string;
  start: number;
  end: number;
}

/**
 * Moves events already built and journaled into `chain`, on a connection of its own (the
 * audit thread's: AuditAppender.appendJournaled), noting the last one moved in the same
 * transaction; resolves once committed. It is told where they are in the journal, not
 * sent them: it reads them there. Events that the note says were moved are skipped.
 */
export type JournalMover = (chain: string, slices: readonly JournalSlice[]) => Promise<void>;

/** A chain's head: how many events it holds, from where, and the last hash. */
export interface AuditHead {
  chain: string;
  n: number;
  hash: string;
  start: number;
}

/** The first thing wrong in a chain, if anything. */
export interface AuditProblem {
  chain: string;
  /** The position at which the chain stops verifying. */
  n: number;
  problem: string;
}

/**
 * The audit trail's storage (src/audit and the commands only): the events themselves are
 * AuditEvent resources; the store keeps their hash chains.
 */
export interface AuditStore {
  /**
   * Appends events durably (the group commit of reads): in a transaction of their own, or,
   * for the chain this process journals, written to its journal and moved into the chain
   * a few milliseconds later.
   */
  append(audit: AuditAppend): Promise<void>;
  /**
   * From now on, this process's appends to `chain` are made durable in the chain's journal
   * beside the database (docs/audit.md, "Durable"), where the store has one (a SQLite file)
   * and no other process journals that chain; whether it does. Moves first what ended
   * processes left in the journals. With `mover`, the moves (the chain's inserts, hashes
   * and commits) are handed to it rather than done on this process's own connection.
   */
  journal(chain: string, mover?: JournalMover): Promise<boolean>;
  /** Moves what the journal holds into the chain, and stops journaling (the store's close does this). */
  close(): Promise<void>;
  heads(): Promise<AuditHead[]>;
  /** Copies the events not yet copied into the resource tables, where they are searched, all or about `limit` of them; how many. */
  index(limit?: number): Promise<number>;
  /**
   * How far the searchable copies are behind the chains: how many events are not copied yet,
   * and when the oldest of them was recorded (epoch ms; undefined when none).
   */
  lag(): Promise<{ events: number; oldest?: number }>;
  /** Walks every chain from its start, recomputing each hash from the stored JSON; the first problem of each. */
  verify(): Promise<AuditProblem[]>;
  /** Whether a chain still holds, at position `n`, the event whose hash is `hash` (a head noted earlier: a truncated tail loses it). */
  holds(chain: string, n: number, hash: string): Promise<boolean>;
  /** The events' stored JSON, oldest first, recorded in [since, until) (epoch ms). */
  events(since?: number, until?: number): AsyncGenerator<string>;
  /**
   * Removes every chain's events recorded before `before` (a prefix of each chain), keeping
   * the chains verifiable from where they now start; then appends `record` (the prune,
   * itself an event). Returns how many were removed.
   */
  prune(before: number, record: AuditAppend): Promise<number>;
}

/** A prepared batch of new resources (made in a worker thread, written in one statement per table). */
export type { PreparedBatch } from './prepared.js';
import type { PreparedBatch } from './prepared.js';

/** How a store's connections are used at one moment (for metrics). */
export interface ConnectionUse {
  /** Connections open for requests: PostgreSQL's pool; SQLite's reader and writer. */
  total: number;
  /** Of those, how many are free (SQLite's reader is free between statements, which run on the server's thread). */
  idle: number;
  /** Callers waiting for a connection: PostgreSQL's for a pooled client; SQLite's transactions for the writer. */
  waiting: number;
}

/**
 * Told of each call to the database (a statement; a bulk helper's few statements count as one):
 * how long it took, in seconds, and whether it ran on a transaction's connection.
 */
export type StatementObserver = (seconds: number, inTransaction: boolean) => void;

/** What the commands and the server's wiring use besides: loading, maintenance, settings. */
export interface StoreAdmin extends Store {
  /** A SQLite store's write gate, which a second writer on another thread of the process (the audit thread) gives way to. */
  writeGate?(): SharedArrayBuffer | undefined;
  /** Current resources per type (deleted ones excluded), maintained at write time. */
  counts(): Promise<Map<string, number>>;
  /**
   * Runs a bulk load. Where it is safe (no other node serves from the database), the
   * indexes only searches need are dropped first and built once at the end (much faster
   * than maintaining them row by row); otherwise they are kept up to date as usual. If
   * the process dies midway, the next start recreates the indexes. `onBuild` is told when
   * `fn` has ended and the indexes are being built (minutes for millions of resources).
   */
  bulk<T>(fn: () => Promise<T>, onBuild?: () => void): Promise<T>;
  /** How many prepared batches a bulk load may write at once. */
  readonly writeConcurrency: number;
  /** The id of every (type, index key) the store knows, for preparing batches elsewhere (sql/prepared.ts). */
  paramIds(): Array<[string, string, number]>;
  /** Writes a batch of new resources prepared elsewhere (a worker thread); returns how many. */
  writePrepared(batch: PreparedBatch): Promise<number>;
  /** Says that this process serves requests from the store, until it closes: a bulk load elsewhere then keeps every index. */
  holdServing(): Promise<void>;
  /**
   * Runs `fn` holding the store's lock, the one migrations take (an advisory lock on PostgreSQL,
   * a lock file on SQLite): what a first start does once (the demo data load, the first signing
   * key) is done by one node while the others starting beside it wait, then find it done.
   * Not reentrant: `fn` must not open the store or take the lock again.
   */
  exclusively<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves when the database answers a query; throws when it does not (/health/ready). */
  ping(): Promise<void>;
  /** Which database holds the store. */
  readonly kind: 'sqlite' | 'postgres';
  /** How the connections to the database are used at this moment (metrics). */
  connections(): ConnectionUse;
  /** Tells `observer` of every call to the database from now on (undefined: no one). */
  observeStatements(observer: StatementObserver | undefined): void;
  /** Removes everything (used by `ccri seed --reset` and tests). */
  clear(): Promise<void>;
  /** A setting kept in the store, created once by `create` and then shared by every node (e.g. the cursor secret). */
  setting(key: string, create: () => string): Promise<string>;
  /**
   * Records in the store that a load (`ccri seed`, `ccri import`) has started (`command`: what
   * was run), or with undefined that it finished. A record left behind says that a load was
   * interrupted and the store holds part of it (interruptedLoad).
   */
  recordLoad(command: string | undefined): Promise<void>;
  /** The load that started and never finished, if any: what was run, and when it started (ISO instant). */
  interruptedLoad(): Promise<{ command: string; started: string } | undefined>;
  /** The embedded authorization server's records (src/auth/server and the CLI only; never requests). */
  auth(): AuthStore;
  /** The audit trail (src/audit and the CLI only; never requests). */
  audit(): AuditStore;
  /** Bulk data export jobs (src/data/export-jobs; never requests). */
  exportJobs(): ExportJobStore;
  /** Recomputes every search index from the stored JSON (`ccri reindex`). */
  reindex(onProgress?: (done: number, total: number) => void): Promise<number>;
  close(): Promise<void>;
}

export interface StoreOptions {
  indexer: Indexer;
  /** Every (resource type, index key) the indexer may emit, registered at start-up. */
  params?: Array<[string, string]>;
  /**
   * The version of the index rows' encoding (search/extract.ts, INDEX_FORMAT). A store whose
   * rows were written under another one is reindexed when it opens.
   */
  indexFormat?: string;
  /** Told when opening the store reindexed it (another index format): how many resources, in how many ms. */
  onReindexed?: (resources: number, ms: number) => void;
  /** Told when opening the store migrated its schema: the versions applied. */
  onMigrated?: (versions: number[]) => void;
  /** Told when a bulk load keeps every index because another process serves from the database. */
  onBulkShared?: () => void;
  /** Called when opening the store built search indexes that a bulk load killed midway had left unbuilt. */
  onIndexesBuilt?: (names: string[], ms: number) => void;
  /** The index keys a search parameter's rows are stored under (by default, its code). */
  indexKeys?: (type: string, code: string) => string[];
  /** Current versions kept in memory for reads by id (0 disables; SQLite only). */
  readCacheSize?: number;
  /**
   * Other serving processes write this SQLite store too (`ccri serve --workers`): the read cache
   * then asks SQLite whether anything changed before every read, rather than at most every 5 ms,
   * so that a write one process answered is read at once by the others. No effect on PostgreSQL.
   */
  peers?: boolean;
  /**
   * How long one query of a request may run, in ms (0 or absent: no limit). PostgreSQL
   * enforces it with statement_timeout, SQLite with an interrupt checked as a search
   * scans; past it the request fails with a 400 too-costly. Administration (migrations,
   * bulk loads, reindexing) is not limited.
   */
  queryTimeoutMs?: number;
  /**
   * The most resources the inner search of one chain or `_has` may match (sql/inner-searches.ts:
   * 10,000 by default); past it the search is a 400 too-costly.
   */
  innerSearchMax?: number;
  /** Milliseconds since the epoch; injected so tests control time. */
  clock?: () => number;
}

/** A page of search results. */
export interface SearchPage {
  rows: StoredVersion[];
  /** The row id of the last row, for keyset paging (SearchPlan.after). */
  lastRid?: number;
  /** In a sorted search, the last row's value of each sort key, for keyset paging (SearchPlan.afterKeys). */
  lastKeys?: SortValue[];
  /** The first row's rid and sort key values: the position a page backwards starts from (SearchPlan.backward). */
  firstRid?: number;
  firstKeys?: SortValue[];
  /** All matches, when counted. */
  total?: number;
  /** True when there are matches after this page (before it, for a page backwards). */
  more: boolean;
}

/** One record of the authorization server: oidc-provider's (a session, a code, a grant, a client…) or its own (a key, a launch). */
export interface AuthEntry {
  payload: Record<string, unknown>;
  /** Epoch ms after which it no longer exists; none for records that never expire (clients, keys in use). */
  expiresAt?: number;
  /** Epoch ms when it was consumed (an authorization code used), if it was. */
  consumedAt?: number;
}

/** What an entry is also found by: the grant it belongs to, an interaction's uid, a device flow's user code. */
export interface AuthEntryKeys {
  grantId?: string;
  uid?: string;
  userCode?: string;
}

export interface AuthUser {
  username: string;
  /** The password's slow hash, never the password (src/auth/server/passwords.ts). */
  passwordHash: string;
  /** The Patient this user is (a patient user), by id. */
  patient?: string;
  /** The Practitioner this user is (a clinician), by id. */
  practitioner?: string;
  /** Epoch ms. */
  created: number;
}

/**
 * The embedded authorization server's storage, shared by every node on the store:
 * entries by (model, id) that expire and are purged, revoked together by grant, and the
 * users who sign in. Used by src/auth/server and the commands, never by interactions.
 */
export interface AuthStore {
  /** Creates or replaces an entry. */
  put(model: string, id: string, entry: AuthEntry, keys?: AuthEntryKeys): Promise<void>;
  /** Creates an entry unless one with this (model, id) exists; true when it created it (nodes racing to make the same record). */
  create(model: string, id: string, entry: AuthEntry, keys?: AuthEntryKeys): Promise<boolean>;
  /** An entry that has not expired. */
  get(model: string, id: string): Promise<AuthEntry | undefined>;
  /** An entry that has not expired, by its interaction uid or user code. */
  findBy(model: string, key: 'uid' | 'userCode', value: string): Promise<AuthEntry | undefined>;
  /** Marks an entry consumed (now); true when it was not consumed before. */
  consume(model: string, id: string): Promise<boolean>;
  /** Removes an entry; true when there was one. */
  remove(model: string, id: string): Promise<boolean>;
  /** Removes every entry of a grant, whatever its model (the grant itself included): the grant is revoked. */
  revokeGrant(grantId: string): Promise<number>;
  /** The entries of a model that have not expired, by id. */
  list(model: string): Promise<Array<{ id: string } & AuthEntry>>;
  /** Removes expired entries; returns how many. */
  purgeExpired(): Promise<number>;
  /** Creates or replaces a user. */
  putUser(user: AuthUser): Promise<void>;
  getUser(username: string): Promise<AuthUser | undefined>;
  listUsers(): Promise<AuthUser[]>;
  removeUser(username: string): Promise<boolean>;
}

export type ExportJobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A bulk data export job (`$export`), kept in the store so that any node answers for it and a restart loses none. */
export interface ExportJob {
  id: string;
  status: ExportJobStatus;
  /** The base the export was asked on (its status and files are served there only). */
  base: string;
  /** Who asked (a keyed hash of the token's subject and client; '' when anonymous): only they may poll. */
  owner: string;
  /** The kick-off request's URL. */
  request: string;
  /** What to export, and the caller's access (JSON). */
  params: Record<string, unknown>;
  /** Epoch ms: resources changed after this are not exported. */
  transactionTime: number;
  created: number;
  updated: number;
  /** Epoch ms of the running node's last sign of life. */
  heartbeat?: number;
  /** The node running it. */
  node?: string;
  /** How many times a node has started it. */
  attempts: number;
  progress?: string;
  /** The files written (JSON: type, file name, count), once done. */
  output?: unknown;
  error?: string;
  /** Epoch ms after which the job and its files are removed. */
  expires?: number;
}

export interface ExportJobStore {
  create(job: ExportJob): Promise<void>;
  get(id: string): Promise<ExportJob | undefined>;
  /**
   * Claims the oldest job that is queued, or running on a node silent since before
   * `staleBefore` (a node that died), for `node`: it is then running there, its attempts
   * counted. Nodes racing for one job: one wins.
   */
  claim(node: string, staleBefore: number): Promise<ExportJob | undefined>;
  /** Changes a running job, only while `node` still holds it; false when it no longer does (cancelled, or claimed by another). */
  update(id: string, node: string, changes: Partial<Pick<ExportJob, 'status' | 'heartbeat' | 'progress' | 'output' | 'error' | 'expires'>>): Promise<boolean>;
  /** Marks a job cancelled (whatever its state); false when there is none. */
  cancel(id: string, expires: number): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  /** Jobs no longer running whose time is up. */
  expired(now: number): Promise<ExportJob[]>;
}
