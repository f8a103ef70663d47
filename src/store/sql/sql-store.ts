import { type Access, EVERYTHING, seesEverything, visibility } from '../../search/access.js';
import { accessTest } from '../../search/compile/access.js';
import { limit, raw, type Sql, sql, typeIn } from '../../search/compile/builder.js';
import type { SearchPlan } from '../../search/plan.js';
import { type PreparedBatch, preparedOps } from '../prepared.js';
import type { Cancellation } from '../cancel.js';
import { appendIn, eventWriter, SqlAuditStore } from './audit-store.js';
import { SqlAuthStore } from './auth-store.js';
import { SqlExportJobStore } from './export-job-store.js';
import type { AuditAppend, AuditStore, AuthStore, ConnectionUse, StatementObserver, ExportJobStore, HistoryPage, HistoryQuery, StoreAdmin, StoredVersion, StoreOptions, StoreReader, StoreTx, WriteOp, WriteResult } from '../store.js';
import { fixed, type SqlConnection, type SqlDriver, type SqlValue } from './driver.js';
import { migrate } from './migrate.js';
import { indexDdl } from './schema.js';
import { searchOnlyIndexes } from './migrations.js';
import { ParamIds } from './param-ids.js';
import { INNER_SEARCH_MAX } from './inner-searches.js';
import { compileForStore, runSearch } from './search-runner.js';
import { toStoredVersion, type VersionRow } from './version-row.js';
import { RetryableConflict, storeContended } from '../errors.js';
import { addCounts, type BatchContext, deleteIndexRows, INDEX_TABLES, insertIndexRows, writeBatch } from './write-batch.js';

const READ = fixed(
  'SELECT r.type, r.id, v.version, v.last_updated, v.method, v.json FROM resource r ' +
    'JOIN resource_version v ON v.rid = r.rid AND v.version = r.version WHERE r.type = ? AND r.id = ?',
);
const VREAD = fixed(
  'SELECT v.type, v.id, v.version, v.last_updated, v.method, v.json FROM resource r ' +
    'JOIN resource_version v ON v.rid = r.rid WHERE r.type = ? AND r.id = ? AND v.version = ?',
);

/**
 * The one Store implementation, over a dialect's SqlDriver.
 * https://hl7.org/fhir/STU3/http.html
 */
export class SqlStore implements StoreAdmin {
  private readonly clock: () => number;
  private readonly pids: ParamIds;
  private readonly cache = new Map<string, StoredVersion>();
  private readonly cacheSize: number;
  private cacheCounter = -1;
  /** The most resources the inner search of a chain or `_has` may match (inner-searches.ts). */
  private readonly innerMax: number;

  constructor(
    private readonly driver: SqlDriver,
    private readonly options: StoreOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.pids = new ParamIds(driver, options.indexKeys);
    this.cacheSize = options.readCacheSize ?? 10_000;
    this.innerMax = options.innerSearchMax ?? INNER_SEARCH_MAX;
  }

  /**
   * Brings the store up to date, holding the store's lock so that nodes starting together
   * take turns: the schema migrations this store lacks, then, if its index rows were
   * written under another index format, a reindex. The next node to take the lock finds
   * both done.
   */
  async init(): Promise<this> {
    await this.driver.withLock(async () => {
      const applied = await migrate(this.driver);
      if (applied.length) this.options.onMigrated?.(applied);
      // An upgraded store's new indexes have no statistics yet: without them SQLite took a new
      // index on resource for every search of a type (a keyset page: 330 ms instead of 1).
      if (applied.length && !applied.includes(1) && (await this.driver.reader.get('SELECT 1 AS x FROM resource LIMIT 1'))) await this.driver.analyze();
      await this.pids.register(this.options.params ?? []);
      await this.reindexIfStale();
      await this.buildMissingIndexes();
    });
    return this;
  }

  /** The indexes only searches need, which a bulk load drops first and builds at its end. */
  private searchOnlyIndexes(): Array<{ name: string; ddl: string }> {
    return [...searchOnlyIndexes().map((i) => ({ name: i.name, ddl: indexDdl(i) })), ...this.driver.dialect.textIndex.searchOnly];
  }

  /**
   * A bulk load killed midway (kill -9, a crash, a power cut) has dropped the indexes only
   * searches need and never built them again: searches would then scan whole tables. The
   * next process to open the store builds them, as the load would have at its end (minutes
   * at most for millions of resources, never a reindex). On PostgreSQL only when no node
   * serves and no load runs (the serving lock is free): a load that is running builds them
   * itself when it ends. On SQLite a load running in another process only waits meanwhile.
   */
  private async buildMissingIndexes(): Promise<void> {
    const have = new Set((await this.driver.reader.all<{ name: string }>(this.driver.dialect.indexNames)).map((r) => r.name));
    const missing = this.searchOnlyIndexes().filter((i) => !have.has(i.name));
    if (!missing.length) return;
    const release = await this.driver.claimForBulk();
    if (!release) return;
    try {
      const started = performance.now();
      await Promise.all(missing.map(({ ddl }) => this.driver.transaction((conn) => conn.run(ddl), { unbounded: true })));
      await this.driver.analyze();
      this.options.onIndexesBuilt?.(missing.map((i) => i.name), performance.now() - started);
    } finally {
      await release();
    }
  }

  private async reindexIfStale(): Promise<void> {
    const format = this.options.indexFormat;
    if (format === undefined) return;
    const stored = await this.driver.reader.get<{ value: string }>("SELECT value FROM store_meta WHERE key = 'index-format'");
    if (stored?.value === format) return;
    // Rows written under another format (or before formats were recorded) would answer
    // searches wrongly: rebuild them, once.
    const started = performance.now();
    const any = await this.driver.reader.get('SELECT 1 AS x FROM resource LIMIT 1');
    // A bulk load's way: the search-only indexes are built once at the end.
    const n = any ? await this.bulk(() => this.reindex()) : 0;
    if (n) this.options.onReindexed?.(n, performance.now() - started);
    await this.driver.transaction(
      (conn) => conn.run("INSERT INTO store_meta (key, value) VALUES ('index-format', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [format]),
      { unbounded: true },
    );
  }

  /** Says that this process serves requests from the store, until it closes: a bulk load elsewhere then keeps every index. */
  holdServing(): Promise<void> {
    return this.driver.holdServing();
  }

  exclusively<T>(fn: () => Promise<T>): Promise<T> {
    return this.driver.withLock(fn);
  }

  /**
   * Reads and searches narrowed to `access`. Reads by id of a type the caller sees in
   * full go through a cache of current versions where the database can say when
   * anything changed (SQLite's reader snapshot generation, moved by any committed change in
   * any process); the whole cache is dropped on any change, so it is never stale.
   */
  reader(access: Access, signal?: Cancellation): StoreReader {
    const conn = signal ? this.driver.readerFor(signal) : this.driver.reader;
    // AuditEvents are searched as resources once copied from the audit trail: a read that may see them catches up first.
    const audited = visibility(access, 'AuditEvent') !== 'none';
    /** `fn` once the AuditEvents are caught up, when what it reads (`types`; undefined: any type) may hold some; at once otherwise, with no promise of its own. */
    const caughtUp = <T>(types: readonly string[] | undefined, fn: () => Promise<T>): Promise<T> =>
      audited && (!types || types.includes('AuditEvent')) ? this.audit().index().then(fn) : settled(fn);
    return {
      read: (type, id) => caughtUp([type], () => (visibility(access, type) === 'all' ? this.cachedRead(conn, type, id) : readWith(conn, type, id, access))),
      vread: (type, id, version) => caughtUp([type], () => vreadWith(conn, type, id, version, access)),
      history: (query) => caughtUp(query.type ? [query.type] : undefined, () => historyWith(conn, query, access)),
      search: (plan) => caughtUp(plan.types, () => runSearch(conn, this.pids, this.driver.dialect, plan, access, this.innerMax)),
    };
  }

  private cachedRead(conn: SqlConnection, type: string, id: string): Promise<StoredVersion | undefined> {
    const counter = this.driver.changeCounter?.();
    if (counter === undefined || this.cacheSize === 0) return readWith(conn, type, id);
    if (counter !== this.cacheCounter) {
      this.cache.clear();
      this.cacheCounter = counter;
    }
    const key = `${type}/${id}`;
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    return readWith(conn, type, id).then((v) => {
      if (v) {
        if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, v);
      }
      return v;
    });
  }

  /** How many prepared batches a bulk load writes at once: PostgreSQL writes on several connections, SQLite has one writer. */
  get writeConcurrency(): number {
    return this.driver.writeConcurrency;
  }

  /** The id of every (type, index key) this store knows, for preparing batches elsewhere. */
  paramIds(): Array<[string, string, number]> {
    return this.pids.entries();
  }

  /**
   * Writes a prepared batch of new resources in one transaction, a statement per table;
   * when any of them exists already, or two share an id, resource by resource through
   * writeMany instead, with the same outcome.
   */
  async writePrepared(batch: PreparedBatch): Promise<number> {
    const direct =
      batch.distinct &&
      (await this.driver.transaction(
        async (conn) => {
          if (!(await conn.insertPrepared(batch))) return false;
          await addCounts(conn, new Map(Object.entries(batch.counts)));
          return true;
        },
        { relaxed: this.bulkLoads > 0, unbounded: true },
      ));
    if (!direct) await this.transaction(EVERYTHING, (tx) => tx.writeMany(preparedOps(batch)));
    return batch.count;
  }

  /**
   * A request's transaction. One that lost a race it can win by trying again (a deadlock or
   * a serialisation failure on PostgreSQL, or a resource created by a concurrent request
   * between the look and the insert) is run again from the start, up to MAX_ATTEMPTS times
   * with a short random pause; then a deadlock is a 503 (Retry-After) and a lost creation a
   * 409. `fn` must therefore be safe to run again (it is given a fresh transaction each time).
   */
  async transaction<T>(access: Access, fn: (tx: StoreTx) => Promise<T>, options: { audit?: AuditAppend; signal?: Cancellation } = {}): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.transactionOnce(access, fn, options);
      } catch (err) {
        const retryable = err instanceof RetryableConflict || isDeadlock(err);
        if (!retryable) throw err;
        if (attempt >= MAX_ATTEMPTS) throw err instanceof RetryableConflict ? err : storeContended();
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
      }
    }
  }

  private async transactionOnce<T>(access: Access, fn: (tx: StoreTx) => Promise<T>, options: { audit?: AuditAppend; signal?: Cancellation }): Promise<T> {
    const pending = new Map<string, number>();
    const result = await this.driver.transaction(async (conn) => {
      const now = this.clock();
      const batch: BatchContext = { now, access, dialect: this.driver.dialect, indexer: this.options.indexer, pids: this.pids, pending, counts: new Map() };
      const tx: StoreTx = {
        read: (type, id) => readWith(conn, type, id, access),
        vread: (type, id, version) => vreadWith(conn, type, id, version, access),
        history: (query) => historyWith(conn, query, access),
        // A search's total may be read from the counts: the transaction's own writes are in them first.
        search: async (plan) => (await addCounts(conn, batch.counts), runSearch(conn, this.pids, this.driver.dialect, plan, access, this.innerMax)),
        write: async (op) => (await writeMany(conn, [op], batch))[0]!,
        writeMany: (ops) => writeMany(conn, ops, batch),
        serialise: (key) => conn.advisoryLock(key),
        lock: async (keys) => {
          // One statement, rows locked in rid order: transactions touching the same resources in any order take them in the same order.
          const sorted = [...new Map(keys.map((k) => [`${k[0]}/${k[1]}`, k])).values()].sort((a, b) => (a[0] + '/' + a[1] < b[0] + '/' + b[1] ? -1 : 1));
          if (sorted.length) await conn.currentMany(sorted);
        },
      };
      const result = await fn(tx);
      // The counts first: PostgreSQL sends them with the write's other inserts, and the event's
      // rows and its chain's new head together, so the head stays locked for one statement and the commit.
      await addCounts(conn, batch.counts);
      if (options.audit) await appendIn(conn, this.driver, options.audit);
      return result;
    }, options.signal ? { signal: options.signal } : undefined);
    this.pids.adopt(pending);
    return result;
  }

  private auditStore?: SqlAuditStore;

  audit(): AuditStore {
    this.auditStore ??= new SqlAuditStore(this.driver, eventWriter(this.driver, this.options.indexer, this.pids, this.clock));
    return this.auditStore;
  }

  /** The SQLite driver's write gate, which a companion on another thread gives way to (sqlite/driver.ts). */
  writeGate(): SharedArrayBuffer | undefined {
    return this.driver.writeGate;
  }

  async ping(): Promise<void> {
    await this.driver.reader.get('SELECT 1 AS x');
  }

  get kind(): 'sqlite' | 'postgres' {
    return this.driver.dialect.name === 'sqlite' ? 'sqlite' : 'postgres';
  }

  connections(): ConnectionUse {
    return this.driver.connections();
  }

  observeStatements(observer: StatementObserver | undefined): void {
    this.driver.observe(observer);
  }

  async counts(): Promise<Map<string, number>> {
    const rows = await this.driver.reader.all<{ type: string; n: number | string }>('SELECT type, sum(n) AS n FROM type_count_part GROUP BY type HAVING sum(n) > 0 ORDER BY type');
    return new Map(rows.map((r) => [r.type, Number(r.n)]));
  }

  async clear(): Promise<void> {
    await this.driver.transaction(async (conn) => {
      // The audit trail goes too (its events are resources): a reset starts again from nothing.
      for (const table of ['resource', 'resource_version', 'type_count_part', 'compartment', 'audit_chain', 'audit_head', 'audit_indexed', ...this.driver.dialect.textTables, ...Object.keys(INDEX_TABLES).map((t) => `idx_${t}`)]) {
        await conn.run(`DELETE FROM ${table}`);
      }
    }, { unbounded: true });
  }

  /** Bulk loads running now: their batches are written in relaxed transactions (SqlDriver.transaction). */
  private bulkLoads = 0;

  /**
   * A bulk load. When no other process serves from the database, the indexes only
   * searches need are dropped first and built once at the end; when one does (another
   * node on a shared PostgreSQL), they are kept, so its searches keep working. Either way
   * the load's own batches do not wait for the disk.
   */
  async bulk<T>(fn: () => Promise<T>, onBuild?: () => void): Promise<T> {
    const release = await this.driver.claimForBulk();
    const deferred = release ? this.searchOnlyIndexes() : [];
    if (!release) this.options.onBulkShared?.();
    try {
      await this.driver.transaction(async (conn) => {
        for (const { name } of deferred) await conn.run(`DROP INDEX IF EXISTS ${name}`);
      }, { unbounded: true });
      this.bulkLoads++;
      try {
        return await fn();
      } finally {
        this.bulkLoads--;
        if (deferred.length) onBuild?.();
        // One transaction per index: PostgreSQL builds them side by side on its pool's
        // connections; SQLite's single writer takes them in turn.
        await Promise.all(deferred.map(({ ddl }) => this.driver.transaction((conn) => conn.run(ddl), { unbounded: true })));
        await this.driver.analyze();
      }
    } finally {
      await release?.();
    }
  }

  async recordLoad(command: string | undefined): Promise<void> {
    await this.driver.transaction(async (conn) => {
      if (command === undefined) await conn.run("DELETE FROM store_meta WHERE key = 'load-in-progress'");
      else {
        const value = JSON.stringify({ command, started: new Date(this.clock()).toISOString() });
        await conn.run("INSERT INTO store_meta (key, value) VALUES ('load-in-progress', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [value]);
      }
    }, { unbounded: true });
  }

  async interruptedLoad(): Promise<{ command: string; started: string } | undefined> {
    const row = await this.driver.reader.get<{ value: string }>("SELECT value FROM store_meta WHERE key = 'load-in-progress'");
    if (!row) return undefined;
    try {
      const v = JSON.parse(row.value) as { command?: unknown; started?: unknown };
      return { command: String(v.command ?? 'a load'), started: String(v.started ?? 'an unknown time') };
    } catch {
      return { command: 'a load', started: 'an unknown time' };
    }
  }

  private authStore?: SqlAuthStore;
  private exportJobStore?: SqlExportJobStore;

  /** Bulk export jobs (export-job-store.ts). */
  exportJobs(): ExportJobStore {
    this.exportJobStore ??= new SqlExportJobStore(this.driver, this.clock);
    return this.exportJobStore;
  }

  /** The embedded authorization server's records (auth-store.ts). */
  auth(): AuthStore {
    this.authStore ??= new SqlAuthStore(this.driver, this.clock);
    return this.authStore;
  }

  async setting(key: string, create: () => string): Promise<string> {
    const existing = await this.driver.reader.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [key]);
    if (existing) return existing.value;
    await this.driver.transaction((conn) => conn.run('INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, create()]));
    const row = await this.driver.reader.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [key]);
    return row!.value;
  }

  async reindex(onProgress?: (done: number, total: number) => void): Promise<number> {
    const total = Number((await this.driver.reader.get<{ n: number }>('SELECT count(*) AS n FROM resource WHERE deleted = 0'))?.n ?? 0);
    let done = 0;
    let after = 0;
    const batch = 500;
    for (;;) {
      const rows = await this.driver.reader.all<{ rid: number; type: string; json: string }>(
        'SELECT r.rid, r.type, v.json FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version ' +
          `WHERE r.deleted = 0 AND r.rid > ? ORDER BY r.rid LIMIT ${batch}`,
        [after],
      );
      if (!rows.length) break;
      const pending = new Map<string, number>();
      await this.driver.transaction(
        async (conn) => {
          const items = rows.map((row) => ({ rid: Number(row.rid), type: row.type, rows: this.options.indexer(JSON.parse(row.json) as Record<string, unknown>) }));
          await deleteIndexRows(conn, this.driver.dialect, items.map((i) => i.rid));
          await insertIndexRows(conn, items, { pids: this.pids, pending });
        },
        { relaxed: this.bulkLoads > 0, unbounded: true },
      );
      this.pids.adopt(pending);
      after = Number(rows[rows.length - 1]!.rid);
      done += rows.length;
      onProgress?.(done, total);
    }
    return done;
  }

  async close(): Promise<void> {
    // The audit journal's events are moved into the chain first (what cannot be stays in the journal for the next process).
    await this.auditStore?.close().catch(() => undefined);
    return this.driver.close();
  }

  /** The database's plan for a search's page query (for the EXPLAIN tests and diagnosis). */
  async explain(plan: SearchPlan, access: Access, options: { forceIndexes?: boolean } = {}): Promise<string[]> {
    const compiled = await compileForStore(this.driver.reader, this.pids, this.driver.dialect, plan, access, this.innerMax);
    // The page's query only: an index-driven sort's `rest` (the resources without a value, after the others) reads every candidate.
    return this.driver.explain(compiled.page.text, compiled.page.params as SqlValue[], options);
  }
}

/** How many times a request's transaction is tried when it loses a race it can win by trying again. */
const MAX_ATTEMPTS = 5;

/** PostgreSQL's deadlock_detected and serialization_failure. */
function isDeadlock(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** `base` and, when the caller may not see every row of `types`, that `alias`'s row is visible. */
function narrowed(base: Sql, access: Access, alias: string, types: readonly string[]): Sql {
  const visible = accessTest(access, alias, types);
  return visible ? sql`${base} AND ${visible}` : base;
}

/** What `fn` returns; what it throws, as a rejection (a store's reads never throw where their callers await). */
function settled<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}

async function readWith(conn: SqlConnection, type: string, id: string, access?: Access): Promise<StoredVersion | undefined> {
  const q = access ? narrowed(sql`${raw(READ)}`, access, 'r', [type]) : raw(READ);
  const row = await conn.get<VersionRow>(q.text, [type, id, ...(q.params as SqlValue[])]);
  return row ? toStoredVersion(row) : undefined;
}

async function vreadWith(conn: SqlConnection, type: string, id: string, version: number, access: Access): Promise<StoredVersion | undefined> {
  const q = narrowed(raw(VREAD), access, 'r', [type]);
  const row = await conn.get<VersionRow>(q.text, [type, id, version, ...(q.params as SqlValue[])]);
  return row ? toStoredVersion(row) : undefined;
}

/**
 * Newest first; `beforeSeq` continues from a previous page. Under narrowed access, the
 * versions of the resources the caller sees (a resource's compartments are those of its
 * latest version). https://hl7.org/fhir/STU3/http.html#history
 */
async function historyWith(conn: SqlConnection, q: HistoryQuery, access: Access): Promise<HistoryPage> {
  const where: Sql[] = [];
  if (q.id !== undefined) {
    // One resource's versions, through its rid and the (rid, version) key.
    where.push(sql`rid = (SELECT rid FROM resource WHERE type = ${q.type ?? ''} AND id = ${q.id})`);
  } else if (q.type) {
    where.push(sql`type ${typeIn([q.type])}`);
  }
  if (q.since !== undefined) where.push(sql`last_updated >= ${q.since}`);
  if (q.before !== undefined) where.push(sql`last_updated < ${q.before}`);
  if (!seesEverything(access)) {
    const types = q.type ? [q.type] : [...new Set([...Object.keys(access.types ?? {}), ...(await historyTypes(conn))])];
    const visible = accessTest(access, 'resource_version', types);
    if (visible) where.push(q.type ? visible : sql`(${visible})`);
  }
  const filter = where.length ? sql` WHERE ${joinAnd(where)}` : raw('');
  const total = Number((await conn.get<{ n: number }>(`SELECT count(*) AS n FROM resource_version${filter.text}`, filter.params as SqlValue[]))?.n ?? 0);
  const page = q.beforeSeq !== undefined ? sql` WHERE ${joinAnd([...where, sql`seq < ${q.beforeSeq}`])}` : filter;
  const rows = await conn.all<VersionRow & { seq: number | string }>(
    `SELECT seq, type, id, version, last_updated, method, json FROM resource_version${page.text} ORDER BY seq DESC ${limit(q.count).text}`,
    page.params as SqlValue[],
  );
  return { total, versions: rows.map((r) => ({ ...toStoredVersion(r), seq: Number(r.seq) })) };
}

/** The types that have any version (for system history under narrowed access, which names the types it may show). */
async function historyTypes(conn: SqlConnection): Promise<string[]> {
  return (await conn.all<{ type: string }>('SELECT DISTINCT type FROM type_count_part')).map((r) => r.type);
}

function joinAnd(parts: Sql[]): Sql {
  return parts.reduce((acc, p, i) => (i === 0 ? p : sql`${acc} AND ${p}`));
}

/**
 * Many writes in one transaction: runs of distinct keys go through writeBatch together;
 * a key met twice starts a new run, so later writes see earlier ones.
 */
async function writeMany(conn: SqlConnection, ops: WriteOp[], ctx: BatchContext): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  let run: WriteOp[] = [];
  let keys = new Set<string>();
  const flush = async () => {
    if (run.length) results.push(...(await writeBatch(conn, run, ctx)));
    run = [];
    keys = new Set();
  };
  for (const op of ops) {
    const k = `${op.type}/${op.id}`;
    if (keys.has(k) || run.length >= 1000) await flush();
    run.push(op);
    keys.add(k);
  }
  await flush();
  return results;
}
