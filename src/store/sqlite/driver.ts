import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { IndexKind } from '../../search/index-rows.js';
import type { PreparedBatch } from '../prepared.js';
import { FhirError } from '../../fhir/outcome.js';
import type { Cancellation } from '../cancel.js';
import { ClientGone, RetryableConflict, queryTooCostly, storeUnavailable } from '../errors.js';
import type { AuditJournals, CurrentRow, SqlConnection, SqlDriver, SqlValue, TransactionOptions } from '../sql/driver.js';
import type { ConnectionUse, StatementObserver } from '../store.js';
import { Mutex } from '../sql/mutex.js';
import { INDEX_TABLES } from '../sql/write-batch.js';
import { SqliteJournals } from './audit-journal.js';
import { Checkpointer } from './checkpointer.js';
import { GUARD_FUNCTION, sqliteDialect } from './dialect.js';
import { UseLock } from './use-lock.js';

/**
 * SQLite through better-sqlite3, in WAL mode, with two connections: a writer used
 * only inside transactions (an async mutex serialises them within the process, and
 * BEGIN IMMEDIATE across processes) and a reader that only ever sees committed data.
 *
 * The reader keeps its read transaction open between statements (a snapshot) until a
 * change it must see may have been committed: SQLite empties a connection's whole page
 * cache when a read transaction begins after any other connection's commit, and the
 * audit trail commits after nearly every request, so a reader that began a transaction
 * per statement read every page of a search again from the file (a search of 1,000 rows:
 * 0.5 ms from the cache, 5 ms after another connection's commit). docs/storage.md,
 * "The reader's snapshot".
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = sqliteDialect;
  readonly writeConcurrency = 1;
  readonly reader: SqlConnection;
  private readonly writerDb: Db;
  private readonly readerDb: Db;
  private readonly writer: SqliteConnection;
  private readonly mutex = new Mutex();
  /** Whether request transactions share commits (member()). */
  private readonly groups: boolean;
  private readonly groupMs: number;
  private readonly checkpointer?: Checkpointer;
  /** Who is told how long each call to the database takes (metrics); shared with the connections. */
  private readonly watch: Watch = {};
  /** Held while the store is open: says to `ccri restore` that this process uses the file (use-lock.ts). */
  private readonly use: UseLock | undefined;

  readonly journals: AuditJournals | undefined;

  constructor(
    private readonly file: string,
    options: {
      queryTimeoutMs?: number;
      now?: () => number;
      /**
       * A second writer of a file another driver in this process serves (the audit thread's): no
       * checkpointer of its own, and it gives way to that driver's writes (its `writeGate`).
       */
      companion?: { gate?: SharedArrayBuffer };
      /**
       * How long a read may trust the cache without asking SQLite whether another process wrote
       * (CROSS_PROCESS_MS by default; 0 asks before every read: other servers write the file too).
       */
      crossProcessMs?: number;
      /** How long the reader keeps one snapshot at most (SNAPSHOT_MS by default; snapshot()). */
      snapshotMs?: number;
      /** How old (ms) a group of transactions sharing a commit may grow (GROUP_MS by default; 0: each commits alone). member(). */
      groupMs?: number;
      /** WAL frames (bytes) past which the writer finishes a checkpoint itself (WAL_LIMIT_BYTES by default; checkpointer.ts). */
      walLimitBytes?: number;
    } = {},
  ) {
    this.journals = file === ':memory:' ? undefined : new SqliteJournals(file);
    if (file !== ':memory:') {
      mkdirSync(dirname(file), { recursive: true });
      this.use = UseLock.shared(file);
    }
    try {
      this.writerDb = openDb(file);
      // An in-memory database is private to its connection: read through the writer.
      this.readerDb = file === ':memory:' ? this.writerDb : openDb(file);
    } catch (err) {
      this.use?.release();
      throw err;
    }
    const limit = options.queryTimeoutMs ?? 0;
    const now = options.now ?? (() => performance.now());
    this.writer = new SqliteConnection(this.writerDb, limit, now, this.watch, true);
    this.reader =
      this.readerDb === this.writerDb ? this.writer : new SqliteConnection(this.readerDb, limit, now, this.watch, false, options.companion ? undefined : () => this.snapshot());
    // The planner's statistics are the serving driver's to keep (a companion's would be of its own few statements).
    if (!options.companion) optimize(this.writerDb);
    this.optimizedAt = options.companion ? Infinity : performance.now();
    this.companion = options.companion !== undefined;
    // A companion batches its own appends; an in-memory database reads through the writer, which must not see uncommitted members.
    this.groupMs = options.groupMs ?? GROUP_MS;
    this.groups = !this.companion && this.readerDb !== this.writerDb && this.groupMs > 0;
    this.crossProcessMs = options.crossProcessMs ?? CROSS_PROCESS_MS;
    this.snapshotMs = options.snapshotMs ?? SNAPSHOT_MS;
    this.writeGate = options.companion?.gate ?? new SharedArrayBuffer(4);
    this.gate = new Int32Array(this.writeGate);
    if (file !== ':memory:' && !options.companion) {
      this.writerDb.pragma('wal_autocheckpoint = 0');
      // Should the thread fail, SQLite checkpoints at commits again, as it does by default.
      this.checkpointer = new Checkpointer(file, () => this.writerDb.open && this.writerDb.pragma('wal_autocheckpoint = 1000'), options.walLimitBytes);
    }
  }

  /** When the planner's statistics were last brought up to date (PRAGMA optimize). */
  private optimizedAt: number;

  /**
   * A relaxed transaction (a bulk load's) does not wait for the disk at checkpoints either
   * (synchronous=OFF, about a quarter of the writing thread's time): a crash of this
   * process loses nothing committed, but a power failure or operating-system crash midway
   * can damage the file, so load again from scratch after one. The setting is the writer
   * connection's, so it is set for that transaction alone, under the writer's mutex, and
   * the next checkpoint syncs everything. docs/storage.md.
   */
  readerFor(signal: Cancellation): SqlConnection {
    return signalled(this.reader, signal);
  }

  async transaction<T>(fn: (conn: SqlConnection) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (!this.groups || options.relaxed || options.unbounded || options.alone) {
      return this.mutex.run(async () => {
        await this.endGroup();
        this.gateUp();
        try {
          return await this.inTransaction(fn, options);
        } finally {
          this.gateDown();
        }
      });
    }
    const { value, group } = await this.mutex.run(() => this.member(fn, options));
    // Answered only once committed: no write is acknowledged that a crash could still lose.
    await group.committed;
    return value;
  }

  /**
   * Group commit. A request's transaction joins the write transaction open now, if any, as a
   * savepoint of its own (one that fails rolls back alone), or begins one; the transaction
   * commits once every transaction that queued for the writer in the same turn of the event
   * loop has run (a setImmediate takes its turn in the queue after them), or sooner when it
   * is GROUP_MAX transactions or GROUP_MS old (when one of them ends). Each member waits for that commit. A commit
   * is most of a small write's cost on SQLite (the changed pages written to the WAL, then
   * BEGIN IMMEDIATE again); the pages a group's members share are written once.
   * docs/storage.md, "Group commit".
   */
  private group?: Group;

  /** A member's SAVEPOINT and RELEASE, prepared once: each member runs both, and exec() would compile them each time. */
  private savepoint?: { open: Statement; release: Statement };

  private async member<T>(fn: (conn: SqlConnection) => Promise<T>, options: TransactionOptions): Promise<{ value: T; group: Group }> {
    let group = this.group;
    if (!group) {
      this.gateUp();
      try {
        await this.begin();
      } catch (err) {
        this.gateDown();
        throw translate(err);
      }
      group = this.group = newGroup();
      const opened = group;
      setImmediate(() => void this.mutex.run(() => this.endGroup(opened)));
    }
    const savepoint = (this.savepoint ??= { open: this.writerDb.prepare('SAVEPOINT member'), release: this.writerDb.prepare('RELEASE member') });
    savepoint.open.run();
    let value: T;
    try {
      value = await fn(signalled(this.writer, options.signal));
      savepoint.release.run();
    } catch (err) {
      if (this.writerDb.inTransaction) {
        this.writerDb.exec('ROLLBACK TO member');
        this.writerDb.exec('RELEASE member');
        // Nothing to keep: the writer is let go at once rather than at the group's turn.
        if (!group.members) await this.endGroup(group);
      } else {
        // SQLite rolled back the whole transaction (an interrupted write, a full disk): the
        // members before this one lost their writes too, and are tried again.
        this.group = undefined;
        this.gateDown();
        group.settle(new RetryableConflict('a write transaction this one shared was rolled back; retry'));
      }
      throw translate(err);
    }
    group.members++;
    if (!options.unchanged) group.changed = true;
    if (group.members >= GROUP_MAX || performance.now() - group.begun >= this.groupMs) await this.endGroup(group);
    return { value, group };
  }

  /** Commits the open group (`group`, or whichever is open), under the writer's mutex; its members learn the outcome. */
  private async endGroup(group: Group | undefined = this.group): Promise<void> {
    if (!group || this.group !== group) return;
    this.group = undefined;
    try {
      // Other processes' readers learn of the change from the count (snapshot()); an audit append changes nothing they keep.
      if (group.changed) this.countChange();
      const observer = this.watch.observer;
      const committing = observer ? performance.now() : 0;
      this.writerDb.exec('COMMIT');
      if (observer) observer((performance.now() - committing) / 1000, true);
      if (group.changed) this.commits++;
      group.settle();
    } catch (err) {
      if (this.writerDb.inTransaction) this.writerDb.exec('ROLLBACK');
      group.settle(translate(err));
    } finally {
      this.restartWal();
      this.gateDown();
      this.optimizeNow();
    }
  }

  /**
   * When the checkpointer's thread asks (checkpointer.ts), a checkpoint on the writer's
   * connection between two transactions, while this process appends nothing: it copies what
   * the thread has not yet, so that the next transaction writes the WAL from its beginning
   * again. One that could not start (the thread's own checkpoint under way) is tried again
   * after the next transaction.
   */
  private restartWal(): void {
    if (!this.checkpointer?.restartWanted() || this.writerDb.inTransaction) return;
    try {
      const [result] = this.writerDb.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number }>;
      if (result?.busy) return;
    } catch {
      // Another process's checkpoint: the thread asks again at its next look.
    }
    this.checkpointer.restartDone();
  }

  /** Says to a companion (the audit thread) that a write of this driver waits or runs, so it gives way (begin()). */
  private gateUp(): void {
    if (!this.companion) Atomics.add(this.gate, 0, 1);
  }

  private gateDown(): void {
    if (this.companion) return;
    Atomics.sub(this.gate, 0, 1);
    Atomics.notify(this.gate, 0);
  }

  private async inTransaction<T>(fn: (conn: SqlConnection) => Promise<T>, options: TransactionOptions): Promise<T> {
    if (options.relaxed) this.writerDb.pragma('synchronous = OFF');
    try {
      await this.begin();
    } catch (err) {
      if (options.relaxed) this.writerDb.pragma('synchronous = NORMAL');
      throw translate(err);
    }
    try {
      const result = await fn(signalled(this.writer, options.signal));
      // Other processes' readers learn of the change from the count (snapshot()); an audit append changes nothing they keep.
      if (!options.unchanged) this.countChange();
      const observer = this.watch.observer;
      const committing = observer ? performance.now() : 0;
      this.writerDb.exec('COMMIT');
      if (observer) observer((performance.now() - committing) / 1000, true);
      // A commit that changed no resource (an audit append) leaves the read cache be until the periodic check.
      if (!options.unchanged) this.commits++;
      return result;
    } catch (err) {
      if (this.writerDb.inTransaction) this.writerDb.exec('ROLLBACK');
      throw translate(err);
    } finally {
      // Before synchronous is set back: a bulk load's checkpoint does not wait for the disk either.
      this.restartWal();
      if (options.relaxed) this.writerDb.pragma('synchronous = NORMAL');
      this.optimizeNow();
    }
  }

  /**
   * BEGIN IMMEDIATE without blocking this thread while another connection writes (the
   * audit thread's copy for search, another process's load): SQLite's own busy wait sleeps
   * the whole thread, a millisecond at least, so it is asked without waiting, then again
   * after a short pause, until BUSY_WAIT_MS have passed.
   */
  private busyTimeout?: { off: Statement; on: Statement };

  private async begin(): Promise<void> {
    // A companion runs on a thread of its own, where waiting blocks nothing else: it lets the serving
    // driver's write that is waiting or under way go first (taking the lock in turn, the two starved each
    // other's requests for seconds), then waits in SQLite's own busy wait.
    if (this.companion) {
      const until = performance.now() + GIVE_WAY_MS;
      for (let writing = Atomics.load(this.gate, 0); writing > 0 && performance.now() < until; writing = Atomics.load(this.gate, 0)) Atomics.wait(this.gate, 0, writing, 50);
      return void this.writerDb.exec('BEGIN IMMEDIATE');
    }
    const started = performance.now();
    const timeout = (this.busyTimeout ??= { off: this.writerDb.prepare('PRAGMA busy_timeout = 0'), on: this.writerDb.prepare(`PRAGMA busy_timeout = ${BUSY_WAIT_MS}`) });
    for (let pause = 0; ; pause = Math.min(Math.max(pause * 2, 0.25), 20)) {
      timeout.off.get();
      try {
        this.writerDb.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY' || performance.now() - started >= BUSY_WAIT_MS) throw err;
      } finally {
        timeout.on.get();
      }
      await new Promise((r) => (pause < 1 ? setImmediate(r) : setTimeout(r, pause)));
    }
  }

  /**
   * Keeps the planner's statistics current as the store grows through requests (a store
   * never bulk-loaded has none, and without them SQLite probed the (pid, code) index once
   * per candidate: a sort on a token parameter over 40,000 Observations never finished).
   * Cheap when nothing changed much; asked at most every OPTIMIZE_EVERY_MS, after a commit.
   */
  private optimizeNow(): void {
    const now = performance.now();
    if (now - this.optimizedAt < OPTIMIZE_EVERY_MS || this.writerDb.inTransaction || !this.writerDb.open) return;
    this.optimizedAt = now;
    optimize(this.writerDb);
  }

  /**
   * The store's lock is an exclusive transaction on a small file beside the database
   * (`<file>-lock`): the operating system releases it if the process dies. It is asked for
   * without blocking this thread, again and again until it is free.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.file === ':memory:') return fn();
    const lock = new Database(`${this.file}-lock`);
    try {
      lock.pragma('busy_timeout = 0');
      for (let waited = 0; ; waited += LOCK_POLL_MS) {
        try {
          lock.exec('BEGIN EXCLUSIVE');
          break;
        } catch (err) {
          if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
          if (waited >= LOCK_WAIT_MS) throw new Error(`Another process has held the store's lock (${this.file}-lock) for ${LOCK_WAIT_MS / 1000} s`);
          await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
        }
      }
      // What is read under the lock is what the lock's last holder left.
      this.fresh();
      return await fn();
    } finally {
      if (lock.inTransaction) lock.exec('COMMIT');
      lock.close();
    }
  }

  /**
   * SQLite's processes are those of one machine, and a bulk load beside a serving process
   * only makes that process's searches slow until the load ends (docs/storage.md): loads
   * always claim the database.
   */
  async holdServing(): Promise<void> {}

  async claimForBulk(): Promise<() => Promise<void>> {
    return async () => undefined;
  }

  private dataVersion: Statement | undefined;
  private readonly companion: boolean;
  private readonly crossProcessMs: number;
  private readonly snapshotMs: number;
  /**
   * How many of the serving driver's transactions are waiting for the write lock or holding it
   * (0 or 1: they take turns), shared with its companions, which give way (begin()).
   */
  readonly writeGate: SharedArrayBuffer;
  private readonly gate: Int32Array;

  /** This process's commits that changed something a reader keeps (all but audit appends). */
  private commits = 0;
  private seenCommits = -1;
  private checkedAt = -Infinity;
  private lastDataVersion = 0;

  /**
   * The reader's snapshot: the read transaction it keeps open between statements, begun at
   * `begunAt` after this process's `commits` and, in the store, `changes` (the count that
   * every process's transactions but audit appends add to: countChange). `generation`
   * moves when a new snapshot may hold a change the last did not (the read cache's counter).
   */
  private readonly snap = { commits: -1, changes: '', begunAt: 0, askedAt: -Infinity, generation: 0, timer: undefined as NodeJS.Timeout | undefined };
  /** A small connection that asks the store's change count (a read of a row, whose own page cache matters not). */
  private probe?: Statement;
  /** Whether store_meta exists yet (a new file's first migration makes it). */
  private counting = false;

  /**
   * Before each of the reader's statements: keeps its snapshot while nothing it must see
   * may have been committed since it began, or begins another. A new one is begun after
   * this process commits a change (at once), after another process does (asked of the
   * store's change count at most every CROSS_PROCESS_MS, or before every read with other
   * servers on the file), and at the latest SNAPSHOT_MS after the last began, so that the
   * checkpointer may copy the WAL back past it and a server left idle holds nothing.
   */
  private snapshot(): void {
    const db = this.readerDb;
    const now = performance.now();
    let changed = this.commits !== this.snap.commits;
    let changes = this.snap.changes;
    if (!changed && now - this.snap.askedAt >= this.crossProcessMs) {
      changes = this.changeCount();
      this.snap.askedAt = now;
      changed = changes !== this.snap.changes;
    }
    if (db.inTransaction && !changed && now - this.snap.begunAt < this.snapshotMs) return;
    if (changed) {
      this.snap.generation++;
      if (this.snap.askedAt !== now) {
        changes = this.changeCount();
        this.snap.askedAt = now;
      }
    }
    this.endSnapshot();
    // A deferred BEGIN: the snapshot is taken by the statement that follows.
    db.exec('BEGIN');
    this.snap.commits = this.commits;
    this.snap.changes = changes;
    this.snap.begunAt = now;
    this.snap.timer = setTimeout(() => this.endSnapshot(), this.snapshotMs);
    this.snap.timer.unref();
  }

  private endSnapshot(): void {
    clearTimeout(this.snap.timer);
    this.snap.timer = undefined;
    if (this.readerDb.open && this.readerDb.inTransaction) this.readerDb.exec('COMMIT');
  }

  /** The store's change count ('' before there is one), read on a connection of its own. */
  private changeCount(): string {
    if (!this.probe) {
      if (!this.probeDb) {
        this.probeDb = openDb(this.file);
        this.probeDb.pragma('cache_size = 16');
      }
      try {
        this.probe = this.probeDb.prepare("SELECT value FROM store_meta WHERE key = 'changes'").pluck();
      } catch {
        // Not migrated yet: nothing to count, and this process's migration is one of its own commits.
        return '';
      }
    }
    return String(this.probe.get() ?? '');
  }

  private probeDb?: Db;

  /**
   * Adds one to the store's change count, in the transaction that made the change, so that
   * every other process's reader learns of it (snapshot()). A few microseconds a transaction.
   */
  private countChange(): void {
    if (this.companion || this.readerDb === this.writerDb) return;
    this.counting ||= Boolean(this.writerDb.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store_meta'").get());
    if (!this.counting) return;
    (this.countStatement ??= this.writerDb.prepare("INSERT INTO store_meta (key, value) VALUES ('changes', '1') ON CONFLICT (key) DO UPDATE SET value = value + 1")).run();
  }

  private countStatement?: Statement;

  fresh(): void {
    if (this.companion || this.readerDb === this.writerDb) return;
    this.snap.askedAt = -Infinity;
    this.endSnapshot();
  }

  /**
   * A number that moves whenever a read may see a change the last did not: the reader's
   * snapshot generation (snapshot()). A companion, whose reader takes no snapshot, asks
   * SQLite's data_version of its writer, which leaves out that connection's own commits
   * (it writes only what no cache holds: audit records) and counts every other's, at most
   * every CROSS_PROCESS_MS. docs/storage.md, "The read cache".
   */
  changeCounter(): number | undefined {
    // A private in-memory database has one connection, whose own commits data_version does not count.
    if (this.readerDb === this.writerDb) return undefined;
    if (!this.companion) {
      this.snapshot();
      return this.snap.generation;
    }
    const now = performance.now();
    if (this.commits !== this.seenCommits || now - this.checkedAt >= this.crossProcessMs) {
      this.dataVersion ??= this.writerDb.prepare('PRAGMA data_version').pluck();
      this.lastDataVersion = this.dataVersion.get() as number;
      this.seenCommits = this.commits;
      this.checkedAt = now;
    }
    return this.lastDataVersion;
  }

  /**
   * Statistics for the planner after a bulk load. The resource tables are read in full:
   * their per-type histograms decide between a type index and a rid range (a sampled
   * estimate of 1,000 rows per type, against 21,000 real ones, made a deep keyset page of
   * Observations sort 200,000 rows: 300 ms instead of 4). The index tables, four fifths of
   * the work, are sampled (analysis_limit): the search SQL fixes their access paths.
   */
  async analyze(): Promise<void> {
    await this.transaction(async () => {
      this.writerDb.pragma('analysis_limit = 0');
      this.writerDb.exec('ANALYZE resource; ANALYZE resource_version; ANALYZE type_count_part; ANALYZE search_param; ANALYZE store_meta');
      this.writerDb.pragma('analysis_limit = 1000');
      for (const table of [...Object.keys(INDEX_TABLES).map((t) => `idx_${t}`), 'compartment']) this.writerDb.exec(`ANALYZE ${table}`);
      this.writerDb.pragma('analysis_limit = 0');
    });
  }

  /** The reader (free between statements: they run on this thread) and the writer, busy for a whole transaction. */
  connections(): ConnectionUse {
    const total = this.readerDb === this.writerDb ? 1 : 2;
    return { total, idle: total - (this.mutex.busy ? 1 : 0), waiting: this.mutex.waiting };
  }

  observe(observer: StatementObserver | undefined): void {
    if (observer) this.watch.observer = observer;
    else delete this.watch.observer;
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    await this.mutex.run(async () => {
      await this.endGroup();
      this.endSnapshot();
      this.probeDb?.close();
      if (this.readerDb !== this.writerDb) this.readerDb.close();
      this.writerDb.close();
      this.use?.release();
    });
  }

  async explain(sql: string, params: SqlValue[]): Promise<string[]> {
    this.fresh();
    const rows = this.readerDb.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
    return rows.map((r) => r.detail);
  }
}

/**
 * PRAGMA optimize with a small sample per index (analysis_limit), over every table (0x10000):
 * gathers the planner's statistics where they are missing or stale. Tens of milliseconds
 * on a store of 80,000 resources. A failure (a read-only file) leaves the plans as they were.
 */
function optimize(db: Db): void {
  try {
    db.pragma('analysis_limit = 400');
    db.pragma('optimize = 0x10002');
    db.pragma('analysis_limit = 0');
  } catch {
    // Statistics are an optimisation: without them queries still answer.
  }
}

const OPTIMIZE_EVERY_MS = 10 * 60 * 1000;

/**
 * SQLite's failures as a client should see them: a query stopped at the time limit is the
 * request's 400 (too-costly); a database that is locked past busy_timeout, unreadable,
 * full or gone is a 503 with Retry-After. Anything else is passed on as it is.
 */
function translate(err: unknown): unknown {
  if (err instanceof FhirError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  if (/^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|CORRUPT|NOTADB|FULL|READONLY|PROTOCOL|NOMEM)/.test(code)) return storeUnavailable(`The database is unavailable (${code})`);
  return err;
}

function openDb(file: string): Db {
  const db = new Database(file);
  // First: turning a new file to WAL takes a lock, which another process opening the file at the
  // same moment (a worker of `ccri serve --workers`) waits for rather than failing "database is locked".
  db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  // Memory is bounded: a 32 MB page cache per connection and no memory-mapping (mapped pages
  // count as the process's resident memory); the operating system's file cache does the rest.
  db.pragma('cache_size = -32768');
  db.pragma('temp_store = MEMORY');
  db.pragma('mmap_size = 0');
  return db;
}

/** How often, and how long, a process waits for another's lock (a migration or a reindex of a large store can take minutes). */
const LOCK_POLL_MS = 50;
const LOCK_WAIT_MS = 30 * 60 * 1000;

const CHUNK = 50;
const MAX_STATEMENTS = 1000;

/** How long a read may go on trusting the cache without asking SQLite whether another process wrote. */
export const CROSS_PROCESS_MS = 5;
/** How long the reader keeps one snapshot at most (snapshot()). */
export const SNAPSHOT_MS = 100;
/** How long a connection waits for another's write lock before the store answers busy. */
const BUSY_WAIT_MS = 10_000;
/** A group's most members, and its age (ms) past which the next member to finish commits it (member()). */
const GROUP_MAX = 100;
const GROUP_MS = 5;

interface Group {
  begun: number;
  members: number;
  /** Whether a member changed anything a reader keeps (all but audit appends). */
  changed: boolean;
  /** Settles when the group commits, or fails to. */
  committed: Promise<void>;
  settle(err?: unknown): void;
}

function newGroup(): Group {
  let settle!: (err?: unknown) => void;
  const committed = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  // A group whose only member failed has nobody waiting on it.
  committed.catch(() => undefined);
  return { begun: performance.now(), members: 0, changed: false, committed, settle };
}
/** How long a companion gives way to the serving driver's writes at most, before it waits for the lock in turn. */
const GIVE_WAY_MS = 1000;

class SqliteConnection implements SqlConnection {
  private readonly statements = new Map<string, Statement>();
  /** performance.now() past which the guard stops the running statement (Infinity when none runs, or no limit). */
  private deadline = Infinity;

  /**
   * better-sqlite3 offers no interrupt, and a statement runs on this thread to its end. The
   * search SQL therefore calls GUARD_FUNCTION as it scans (for one candidate row in 64, and
   * likewise in the subqueries that build candidate lists: dialect.ts); past the deadline it
   * throws, which stops the statement at once and frees the connection. Other statements
   * never call it.
   */
  constructor(
    private readonly db: Db,
    private readonly limitMs: number,
    private readonly now: () => number,
    private readonly watch: Watch,
    private readonly inTransaction: boolean,
    /** The reader's: called before each statement (SqliteDriver.snapshot). */
    private readonly beforeRead?: () => void,
  ) {
    db.function(GUARD_FUNCTION, { deterministic: false, varargs: false }, () => {
      if (this.now() > this.deadline) throw new QueryTimeout();
      return 1;
    });
  }

  /** Runs one statement under the time limit, translating SQLite's errors (translate). */
  private timed<T>(run: () => T): T {
    if (this.limitMs > 0) this.deadline = this.now() + this.limitMs;
    const observer = this.watch.observer;
    const started = observer ? performance.now() : 0;
    try {
      this.beforeRead?.();
      return run();
    } catch (err) {
      if (err instanceof QueryTimeout) throw queryTooCostly(this.limitMs);
      throw translate(err);
    } finally {
      this.deadline = Infinity;
      if (observer) observer((performance.now() - started) / 1000, this.inTransaction);
    }
  }

  /** Runs a bulk helper's statements, telling the observer how long they took (as one call). */
  private clocked<T>(run: () => T): T {
    const observer = this.watch.observer;
    if (!observer) return run();
    const started = performance.now();
    try {
      return run();
    } finally {
      observer((performance.now() - started) / 1000, this.inTransaction);
    }
  }

  /**
   * better-sqlite3 is synchronous; prepared statements are cached by their text. The cache
   * is bounded (search shapes come from requests, and each distinct shape is a statement):
   * past MAX_STATEMENTS the oldest is dropped.
   */
  private prepare(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.statements.size >= MAX_STATEMENTS) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Writes are serialised (BEGIN IMMEDIATE), so a conditional write's look and write are never interleaved with another's. */
  async advisoryLock(): Promise<void> {}

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.timed(() => this.prepare(sql).all(params) as T[]);
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.timed(() => this.prepare(sql).get(params) as T | undefined);
  }

  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    return this.timed(() => this.prepare(sql).run(params).changes);
  }

  /** At once: a statement costs SQLite microseconds, and no round trip. */
  async runLater(sql: string, params: SqlValue[] = []): Promise<void> {
    await this.run(sql, params);
  }

  /**
   * Rows go in 50 at a time through one multi-row INSERT, with the values in one flat
   * array (no argument spreading): about three times faster than a statement per row.
   */
  async insertMany(table: string, columns: string[], values: SqlValue[], suffix = ''): Promise<void> {
    this.clocked(() => this.insertManyNow(table, columns, values, suffix));
  }

  private insertManyNow(table: string, columns: string[], values: SqlValue[], suffix: string): void {
    const width = columns.length;
    const rows = values.length / width;
    if (!rows) return;
    const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const tail = suffix ? ` ${suffix}` : '';
    let i = 0;
    if (rows >= CHUNK) {
      const stmt = this.prepare(head + Array(CHUNK).fill(tuple).join(', ') + tail);
      for (; i + CHUNK <= rows; i += CHUNK) stmt.run(values.slice(i * width, (i + CHUNK) * width));
    }
    if (i < rows) {
      const stmt = this.prepare(head + tuple + tail);
      for (; i < rows; i++) stmt.run(values.slice(i * width, (i + 1) * width));
    }
  }

  async currentMany(keys: Array<[string, string]>): Promise<CurrentRow[]> {
    return this.clocked(() => {
      const stmt = this.prepare('SELECT rid, type, id, version, deleted FROM resource WHERE type = ? AND id = ?');
      const out: CurrentRow[] = [];
      for (const [type, id] of keys) {
        const r = stmt.get(type, id) as { rid: number; type: string; id: string; version: number; deleted: number } | undefined;
        if (r) out.push({ rid: r.rid, type: r.type, id: r.id, version: r.version, deleted: r.deleted === 1 });
      }
      return out;
    });
  }

  async insertResources(rows: Array<[string, string, number, number]>): Promise<Array<{ rid: number; type: string; id: string }>> {
    return this.clocked(() => {
      // A key that exists already is left out of the answer (as on PostgreSQL): the caller retries.
      const stmt = this.prepare('INSERT INTO resource (type, id, version, last_updated, deleted) VALUES (?, ?, ?, ?, 0) ON CONFLICT (type, id) DO NOTHING');
      return rows.flatMap(([type, id, version, lastUpdated]) => {
        const done = stmt.run(type, id, version, lastUpdated);
        return done.changes ? [{ rid: Number(done.lastInsertRowid), type, id }] : [];
      });
    });
  }

  async updateResources(rows: Array<[number, number, number, number]>): Promise<void> {
    return this.clocked(() => {
      const stmt = this.prepare('UPDATE resource SET version = ?, last_updated = ?, deleted = ? WHERE rid = ?');
      for (const [rid, version, lastUpdated, deleted] of rows) stmt.run(version, lastUpdated, deleted, rid);
    });
  }

  async deleteByRids(deletes: ReadonlyArray<{ table: string; column: string; rids: readonly number[] }>): Promise<void> {
    return this.clocked(() => {
      for (const { table, column, rids } of deletes) {
        if (!rids.length) continue;
        const stmt = this.prepare(`DELETE FROM ${table} WHERE ${column} = ?`);
        for (const rid of rids) stmt.run(rid);
      }
    });
  }

  async insertText(rows: Array<[number, string, string]>): Promise<void> {
    return this.clocked(() => {
      const narrative = this.prepare('INSERT INTO idx_text_narrative (rowid, words) VALUES (?, ?)');
      const content = this.prepare('INSERT INTO idx_text_content (rowid, words) VALUES (?, ?)');
      for (const [rid, n, c] of rows) {
        if (n) narrative.run(rid, n);
        if (c) content.run(rid, c);
      }
    });
  }

  /**
   * New rows take rids max(rid) + 1 onwards, in batch order (an INTEGER PRIMARY KEY takes
   * the next number, and this connection holds the write lock), so a row's position in
   * the batch plus the first rid is its resource's rid.
   */
  async insertPrepared(b: PreparedBatch): Promise<boolean> {
    return this.clocked(() => this.insertPreparedNow(b));
  }

  private insertPreparedNow(b: PreparedBatch): boolean {
    const clash = this.prepare('SELECT 1 AS x FROM json_each(?) j JOIN resource r ON r.type = j.value ->> 0 AND r.id = j.value ->> 1 LIMIT 1').get(b.keys);
    if (clash) return false;
    const first = Number((this.prepare('SELECT coalesce(max(rid), 0) + 1 AS rid FROM resource').get() as { rid: number }).rid);
    const inserted = this.prepare('INSERT INTO resource (type, id, version, last_updated, deleted) SELECT value ->> 0, value ->> 1, 1, ?, 0 FROM json_each(?) ORDER BY key').run(b.lastUpdated, b.keys);
    if (inserted.changes !== b.count || Number(inserted.lastInsertRowid) !== first + b.count - 1) throw new Error('Bulk insert: resource ids were not assigned in order');
    // The JSON texts are bound as values; the rest of each version row comes from the keys.
    const versions: SqlValue[] = [];
    const keys = JSON.parse(b.keys) as Array<[string, string]>;
    keys.forEach(([type, id], i) => versions.push(first + i, type, id, 1, b.lastUpdated, 'POST', b.json[i]!));
    this.insertManyNow('resource_version', ['rid', 'type', 'id', 'version', 'last_updated', 'method', 'json'], versions, '');
    for (const [table, columns] of Object.entries(INDEX_TABLES) as Array<[IndexKind, readonly string[]]>) {
      if (b.tables[table] === '[]') continue;
      const picks = columns.map((_, c) => `value ->> ${c + 2}`).join(', ');
      this.prepare(`INSERT INTO idx_${table} (rid, pid, ${columns.join(', ')}) SELECT ? + (value ->> 0), value ->> 1, ${picks} FROM json_each(?)`).run(first, b.tables[table]);
    }
    this.prepare('INSERT INTO compartment (rid, patient) SELECT ? + (value ->> 0), value ->> 1 FROM json_each(?)').run(first, b.compartments);
    this.prepare("INSERT INTO idx_text_narrative (rowid, words) SELECT ? + (value ->> 0), value ->> 1 FROM json_each(?) WHERE value ->> 1 <> ''").run(first, b.text);
    this.prepare("INSERT INTO idx_text_content (rowid, words) SELECT ? + (value ->> 0), value ->> 2 FROM json_each(?) WHERE value ->> 2 <> ''").run(first, b.text);
    return true;
  }
}

/** Thrown by the guard function past the deadline (SqliteConnection). */
/** `conn` as a request with `signal` uses it: each call refuses to start once the client is gone. */
function signalled(conn: SqlConnection, signal: Cancellation | undefined): SqlConnection {
  return signal ? new Signalled(conn, signal) : conn;
}

const refused = (): Promise<never> => Promise.reject(new ClientGone());

/**
 * A connection for one request: a statement is not started once its client has gone
 * (store/cancel.ts), so a search of many statements stops at the next one. Each call here is
 * one statement, or a bulk helper's few, on the server's thread: nothing runs between them
 * that could abort one midway.
 */
class Signalled implements SqlConnection {
  constructor(
    private readonly conn: SqlConnection,
    private readonly signal: Cancellation,
  ) {}

  all<T>(sql: string, params?: SqlValue[]): Promise<T[]> {
    return this.signal.aborted ? refused() : this.conn.all<T>(sql, params);
  }
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined> {
    return this.signal.aborted ? refused() : this.conn.get<T>(sql, params);
  }
  run(sql: string, params?: SqlValue[]): Promise<number> {
    return this.signal.aborted ? refused() : this.conn.run(sql, params);
  }
  runLater(sql: string, params?: SqlValue[]): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.runLater(sql, params);
  }
  advisoryLock(key: string): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.advisoryLock(key);
  }
  insertMany(table: string, columns: string[], values: SqlValue[], suffix?: string): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.insertMany(table, columns, values, suffix);
  }
  currentMany(keys: Array<[string, string]>): Promise<CurrentRow[]> {
    return this.signal.aborted ? refused() : this.conn.currentMany(keys);
  }
  insertResources(rows: Array<[string, string, number, number]>): Promise<Array<{ rid: number; type: string; id: string }>> {
    return this.signal.aborted ? refused() : this.conn.insertResources(rows);
  }
  updateResources(rows: Array<[number, number, number, number]>): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.updateResources(rows);
  }
  deleteByRids(deletes: ReadonlyArray<{ table: string; column: string; rids: readonly number[] }>): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.deleteByRids(deletes);
  }
  insertText(rows: Array<[number, string, string]>): Promise<void> {
    return this.signal.aborted ? refused() : this.conn.insertText(rows);
  }
  insertPrepared(batch: PreparedBatch): Promise<boolean> {
    return this.signal.aborted ? refused() : this.conn.insertPrepared(batch);
  }
}

class QueryTimeout extends Error {}

/** Who is told of each call's duration (metrics), shared by a driver and its connections. */
interface Watch {
  observer?: StatementObserver;
}
