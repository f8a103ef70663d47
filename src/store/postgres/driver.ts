import pg from 'pg';
import type { IndexKind } from '../../search/index-rows.js';
import type { PreparedBatch } from '../prepared.js';
import { FhirError } from '../../fhir/outcome.js';
import type { Cancellation } from '../cancel.js';
import { ClientGone, queryTooCostly, storeUnavailable } from '../errors.js';
import { type CurrentRow, isFixed, type SqlConnection, type SqlDriver, type SqlValue, type TransactionOptions } from '../sql/driver.js';
import type { ConnectionUse, StatementObserver } from '../store.js';
import { INDEX_TABLES } from '../sql/write-batch.js';
import { postgresDialect } from './dialect.js';

// BIGINT columns (rids, epoch milliseconds, counts) fit in a double; read them as numbers.
pg.types.setTypeParser(20, (v: string) => Number(v));

/** How our connections name themselves to the server (pg_stat_activity). */
const APPLICATION = 'ccri';

/** How long to wait for a connection to the database before answering 503. */
const CONNECT_TIMEOUT_MS = 10_000;

/** An advisory lock's key: the lock's purpose within the store's schema. */
function lockKey(purpose: 'migrate' | 'serve'): string {
  return `hashtext(current_schema() || ':ccri-${purpose}')`;
}

/** `?` placeholders become `$1, $2, ...` (our SQL never holds a literal question mark). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The fixed statements (sql/driver.ts, `fixed`) in PostgreSQL's form, translated once each. */
const fixedTexts = new Map<string, string>();

/** A statement as sent: its text in PostgreSQL's form, and whether it is kept prepared. */
function translated(sql: string): { text: string; prepare: Prepare } {
  if (!isFixed(sql)) return { text: numbered(sql), prepare: false };
  let text = fixedTexts.get(sql);
  if (text === undefined) fixedTexts.set(sql, (text = numbered(sql)));
  return { text, prepare: 'fixed' };
}

/**
 * How a statement is sent: planned each time (`false`); named, so that each connection keeps
 * it prepared (`fixed`: the statements marked with `fixed`, a few dozen texts, all named); or
 * named while fewer than HELPERS_MAX such texts are (`helper`: the write helpers' statements,
 * whose texts vary with the tables a write touches; the common shapes come first).
 */
type Prepare = false | 'fixed' | 'helper';
export const HELPERS_MAX = 64;

/** Column types for unnest() in bulk inserts. */
const COLUMN_TYPES: Record<string, string> = {
  rid: 'bigint', pid: 'int', low: 'bigint', high: 'bigint', value: 'float8', canon_value: 'float8', low2: 'float8', high2: 'float8', canon2: 'float8',
  version: 'int', last_updated: 'bigint', n: 'bigint', part: 'int', recorded: 'bigint',
};

/**
 * SQLSTATEs a client can do something about. A statement stopped by statement_timeout
 * (57014, query_canceled) is the request's 400 too-costly, unless the client went away
 * and we cancelled it; a server shutting down, a connection lost or refused, or a
 * database or schema that is gone (08*, 57P*, 53*, 3D000, 3F000, 42P01: relation missing)
 * is a 503 with Retry-After. Deadlocks and serialisation failures (40P01, 40001) are retried
 * by the store (sql-store.ts) and are passed on as they are.
 */
export function translatePgError(err: unknown, limitMs: number, signal?: Cancellation): unknown {
  if (err instanceof FhirError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '57014') return signal?.aborted ? new ClientGone() : queryTooCostly(limitMs);
  if (/^(08|57P|53)/.test(code) || code === '3D000' || code === '3F000' || code === '42P01') return storeUnavailable(`The database is unavailable (${code})`);
  if (['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE'].includes(code)) return storeUnavailable(`The database cannot be reached (${code})`);
  if (typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message)) {
    return storeUnavailable('The connection to the database was lost');
  }
  return err;
}

class PgConnection implements SqlConnection {
  /**
   * A transaction's inserts not yet sent: they go to the server as one statement (each a
   * data-modifying WITH part) when the next other statement is sent or the transaction
   * commits. A write's version, index rows, compartments and text are then one round trip,
   * not one each. Nothing reads them before that: every other statement sends them first.
   */
  private pending: Array<{ sql: string; params: unknown[] }> = [];

  constructor(
    private readonly client: pg.Pool | pg.PoolClient,
    private readonly driver: PostgresDriver,
    /** The cancellation of the request this connection serves (store/cancel.ts), if any. */
    private readonly signal?: Cancellation,
  ) {}

  /** An insert of a transaction, sent with the next statement (see `pending`); outside a transaction, at once. */
  private async insert(sql: string, params: unknown[]): Promise<void> {
    if (!this.inTransaction) {
      await this.raw(sql, params);
      return;
    }
    this.pending.push({ sql, params });
  }

  /** Sends the inserts held back, as one statement. */
  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const parts = this.pending;
    this.pending = [];
    if (parts.length === 1) {
      await this.send(parts[0]!.sql, parts[0]!.params, 'helper');
      return;
    }
    const params: unknown[] = [];
    const texts = parts.map((p) => {
      const shift = params.length;
      params.push(...p.params);
      return p.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`);
    });
    const last = texts.pop()!;
    await this.send(`WITH ${texts.map((t, i) => `w${i} AS (${t})`).join(', ')} ${last}`, params, 'helper');
  }

  /**
   * One statement. When the request that runs it has a cancellation signal (its client
   * disconnected: store/cancel.ts) the statement is cancelled on the server
   * (pg_cancel_backend), so a query does not outlive its client.
   */
  private async query(sql: string, params: unknown[], prepare: Prepare = false): Promise<pg.QueryResult> {
    await this.flush();
    const signal = this.signal;
    if (signal?.aborted) throw new ClientGone();
    const observer = this.driver.observer;
    const started = observer ? performance.now() : 0;
    const statement = this.driver.statement(sql, params, prepare);
    try {
      if (!signal) return await this.client.query(statement);
      // The backend must be known to cancel its statement: a pooled read takes a client of its own.
      const client = 'release' in this.client ? this.client : await (this.client as pg.Pool).connect();
      const stopListening = signal.onAbort(() => void this.driver.cancelBackend(client as pg.PoolClient));
      try {
        return await client.query(statement);
      } finally {
        stopListening();
        if (client !== this.client) (client as pg.PoolClient).release();
      }
    } catch (err) {
      throw translatePgError(err, this.driver.queryTimeoutMs, signal);
    } finally {
      if (observer) observer((performance.now() - started) / 1000, this.inTransaction);
    }
  }

  /** A statement of the bulk helpers (not cancellable: they run inside a write transaction), timed for the observer; kept prepared. */
  private async raw(sql: string, params: unknown[]): Promise<pg.QueryResult> {
    await this.flush();
    return this.send(sql, params, 'helper');
  }

  private async send(sql: string, params: unknown[], prepare: Prepare): Promise<pg.QueryResult> {
    const observer = this.driver.observer;
    const statement = this.driver.statement(sql, params, prepare);
    if (!observer) return this.client.query(statement);
    const started = performance.now();
    try {
      return await this.client.query(statement);
    } finally {
      observer((performance.now() - started) / 1000, this.inTransaction);
    }
  }

  /** Whether this is a transaction's connection (not the pool's reads). */
  private get inTransaction(): boolean {
    return 'release' in this.client;
  }

  async all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    const { text, prepare } = translated(sql);
    return (await this.query(text, params as unknown[], prepare)).rows as T[];
  }

  async get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    const { text, prepare } = translated(sql);
    return (await this.query(text, params as unknown[], prepare)).rows[0] as T | undefined;
  }

  async run(sql: string, params: SqlValue[] = []): Promise<number> {
    const { text, prepare } = translated(sql);
    return (await this.query(text, params as unknown[], prepare)).rowCount ?? 0;
  }

  async runLater(sql: string, params: SqlValue[] = []): Promise<void> {
    await this.insert(translated(sql).text, params as unknown[]);
  }

  /**
   * A transaction-scoped advisory lock on `key` within the store's schema (two-key form, so
   * it never meets the one-key migration and serving locks): conditional writes with the
   * same criteria take turns, so two cannot both find nothing and both create.
   */
  async advisoryLock(key: string): Promise<void> {
    await this.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':ccri-criteria'), hashtext($1))`, [key]);
  }

  /** One statement for all rows: INSERT ... SELECT * FROM unnest($1::type[], ...). */
  async insertMany(table: string, columns: string[], values: SqlValue[], suffix = ''): Promise<void> {
    const width = columns.length;
    if (!values.length) return;
    const arrays = columns.map((_, c) => {
      const column: SqlValue[] = new Array(values.length / width);
      for (let r = 0; r < column.length; r++) column[r] = values[r * width + c] ?? null;
      return column;
    });
    const unnest = columns.map((c, i) => `$${i + 1}::${COLUMN_TYPES[c] ?? 'text'}[]`).join(', ');
    await this.insert(`INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${unnest})${suffix ? ` ${suffix}` : ''}`, arrays);
  }

  async currentMany(keys: Array<[string, string]>): Promise<CurrentRow[]> {
    if (!keys.length) return [];
    const res = await this.query(
      'SELECT r.rid, r.type, r.id, r.version, r.deleted FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(type, id) ' +
        'ON r.type = k.type AND r.id = k.id ORDER BY r.rid FOR UPDATE OF r',
      [keys.map((k) => k[0]), keys.map((k) => k[1])],
      'helper',
    );
    return res.rows.map((r: Record<string, unknown>) => ({ rid: Number(r.rid), type: String(r.type), id: String(r.id), version: Number(r.version), deleted: Number(r.deleted) === 1 }));
  }

  async insertResources(rows: Array<[string, string, number, number]>): Promise<Array<{ rid: number; type: string; id: string }>> {
    if (!rows.length) return [];
    const res = await this.raw(
      'INSERT INTO resource (type, id, version, last_updated, deleted) SELECT t, i, v, l, 0 FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[]) AS u(t, i, v, l) ' +
        'ON CONFLICT (type, id) DO NOTHING RETURNING rid, type, id',
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
    );
    return res.rows.map((r: Record<string, unknown>) => ({ rid: Number(r.rid), type: String(r.type), id: String(r.id) }));
  }

  async updateResources(rows: Array<[number, number, number, number]>): Promise<void> {
    if (!rows.length) return;
    // Held back with the inserts: only this transaction, which holds the rows' locks, touches them.
    await this.insert(
      'UPDATE resource r SET version = u.v, last_updated = u.l, deleted = u.d FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::smallint[]) AS u(rid, v, l, d) WHERE r.rid = u.rid',
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3])],
    );
  }

  /**
   * One statement for every table (each delete a data-modifying WITH part), sent at once rather than
   * held back: a table's new rows may have the keys of the rows deleted (idx_text's rid), and the
   * parts of one statement do not see each other's changes.
   */
  async deleteByRids(deletes: ReadonlyArray<{ table: string; column: string; rids: readonly number[] }>): Promise<void> {
    const parts = deletes.filter((d) => d.rids.length);
    if (!parts.length) return;
    const params: Array<readonly number[]> = [];
    const texts = parts.map((d) => {
      let n = params.indexOf(d.rids);
      if (n < 0) n = params.push(d.rids) - 1;
      return `DELETE FROM ${d.table} WHERE ${d.column} = ANY($${n + 1}::bigint[])`;
    });
    const last = texts.pop()!;
    await this.raw(texts.length ? `WITH ${texts.map((t, i) => `d${i} AS (${t})`).join(', ')} ${last}` : last, params);
  }

  /**
   * A prepared batch in one statement per table: the rows are read out of the batch's JSON
   * (json_array_elements), each row's position mapped to its rid through the array of new rids.
   */
  async insertPrepared(b: PreparedBatch): Promise<boolean> {
    const keys = JSON.parse(b.keys) as Array<[string, string]>;
    const types = keys.map((k) => k[0]);
    const ids = keys.map((k) => k[1]);
    const clash = await this.raw('SELECT 1 FROM resource r JOIN unnest($1::text[], $2::text[]) AS k(type, id) ON r.type = k.type AND r.id = k.id LIMIT 1', [types, ids]);
    if (clash.rowCount) return false;
    const inserted = await this.raw(
      'INSERT INTO resource (type, id, version, last_updated, deleted) SELECT t, i, 1, $3, 0 FROM unnest($1::text[], $2::text[]) AS u(t, i) RETURNING rid, type, id',
      [types, ids, b.lastUpdated],
    );
    const ridOf = new Map(inserted.rows.map((r: Record<string, unknown>) => [`${String(r.type)}/${String(r.id)}`, Number(r.rid)]));
    const rids = keys.map(([type, id]) => ridOf.get(`${type}/${id}`)!);
    await this.insertMany(
      'resource_version',
      ['rid', 'type', 'id', 'version', 'last_updated', 'method', 'json'],
      keys.flatMap(([type, id], i): SqlValue[] => [rids[i]!, type, id, 1, b.lastUpdated, 'POST', b.json[i]!]),
    );
    const rid = '($2::bigint[])[(v->>0)::int + 1]';
    for (const [table, columns] of Object.entries(INDEX_TABLES) as Array<[IndexKind, readonly string[]]>) {
      if (b.tables[table] === '[]') continue;
      const picks = columns.map((c, i) => (COLUMN_TYPES[c] ? `(v->>${i + 2})::${COLUMN_TYPES[c]}` : `v->>${i + 2}`)).join(', ');
      await this.raw(`INSERT INTO idx_${table} (rid, pid, ${columns.join(', ')}) SELECT ${rid}, (v->>1)::int, ${picks} FROM json_array_elements($1::json) v`, [b.tables[table], rids]);
    }
    if (b.compartments !== '[]') await this.raw(`INSERT INTO compartment (rid, patient) SELECT ${rid}, v->>1 FROM json_array_elements($1::json) v`, [b.compartments, rids]);
    if (b.text !== '[]') {
      await this.raw(
        `INSERT INTO idx_text (rid, narrative, content) SELECT ${rid}, to_tsvector('simple', v->>1), to_tsvector('simple', v->>2) FROM json_array_elements($1::json) v`,
        [b.text, rids],
      );
    }
    return true;
  }

  async insertText(rows: Array<[number, string, string]>): Promise<void> {
    if (!rows.length) return;
    await this.insert(
      "INSERT INTO idx_text (rid, narrative, content) SELECT rid, to_tsvector('simple', n), to_tsvector('simple', c) FROM unnest($1::bigint[], $2::text[], $3::text[]) AS t(rid, n, c)",
      [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
  }
}

/**
 * PostgreSQL through a `pg` pool. Reads go to the pool; each write transaction
 * takes its own client. Row locks (SELECT ... FOR UPDATE) make concurrent updates
 * of one resource wait for each other, so an If-Match check is always against the
 * committed current version.
 */
export class PostgresDriver implements SqlDriver {
  readonly dialect = postgresDialect;
  readonly writeConcurrency: number;
  readonly reader: SqlConnection;
  private readonly pool: pg.Pool;
  /** Connections held outside the pool for the life of the driver (the serving lock). */
  private readonly held: pg.Client[] = [];

  /** The names of the statements kept prepared (server-side, on each connection as it first runs one), by text. */
  private readonly prepared = new Map<string, string>();
  private helpers = 0;

  /**
   * A statement as `pg` takes it: named, so kept prepared and planned once per connection
   * rather than parsed and planned each time it is sent, as `prepare` says (Prepare). A read
   * by id then costs PostgreSQL about a third of the CPU.
   */
  statement(text: string, values: unknown[], prepare: Prepare): pg.QueryConfig {
    if (!prepare) return { text, values };
    let name = this.prepared.get(text);
    if (name === undefined && (prepare === 'fixed' || this.helpers < HELPERS_MAX)) {
      if (prepare === 'helper') this.helpers++;
      this.prepared.set(text, (name = `ccri_${this.prepared.size + 1}`));
    }
    return name === undefined ? { text, values } : { name, text, values };
  }

  /** The query time limit of requests' statements (ms; 0: none), PostgreSQL's statement_timeout on every pooled connection. */
  readonly queryTimeoutMs: number;
  /** Told how long each call to the database takes (metrics). */
  observer?: StatementObserver;

  constructor(
    private readonly connectionString: string,
    poolSize = 10,
    options: { queryTimeoutMs?: number } = {},
  ) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 0;
    this.pool = new pg.Pool({
      connectionString,
      max: poolSize,
      application_name: APPLICATION,
      // A database that cannot be reached answers 503 after this, rather than requests waiting without end.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      ...(this.queryTimeoutMs > 0 ? { statement_timeout: this.queryTimeoutMs } : {}),
    });
    this.writeConcurrency = Math.max(1, poolSize - 2);
    // An idle client's error (server restart) must not crash the process.
    this.pool.on('error', () => undefined);
    this.reader = new PgConnection(this.pool, this);
  }

  readerFor(signal: Cancellation): SqlConnection {
    return new PgConnection(this.pool, this, signal);
  }

  async transaction<T>(fn: (conn: SqlConnection) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw translatePgError(err, this.queryTimeoutMs);
    }
    let broken = false;
    try {
      await client.query('BEGIN');
      // A bulk load need not wait for each commit to reach the disk (a crash means loading again).
      if (options.relaxed) await client.query('SET LOCAL synchronous_commit = off');
      // Administration and bulk loads are not held to the requests' time limit.
      if ((options.relaxed || options.unbounded) && this.queryTimeoutMs > 0) await client.query('SET LOCAL statement_timeout = 0');
      const conn = new PgConnection(client, this, options.signal);
      const result = await fn(conn);
      await conn.flush();
      const observer = this.observer;
      const committing = observer ? performance.now() : 0;
      await client.query('COMMIT');
      if (observer) observer((performance.now() - committing) / 1000, true);
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw translatePgError(err, this.queryTimeoutMs, options.signal);
    } finally {
      // A client whose connection failed is dropped from the pool rather than handed out again.
      client.release(broken || undefined);
    }
  }

  /**
   * Cancels the statement `client` is running, from a connection of its own (the pool's may
   * all be busy). Best effort: a statement that has just finished is not affected.
   */
  async cancelBackend(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: number }).processID;
    if (!pid) return;
    try {
      const c = await this.connect();
      try {
        await c.query('SELECT pg_cancel_backend($1)', [pid]);
      } finally {
        await c.end().catch(() => undefined);
      }
    } catch {
      // The statement_timeout still bounds it.
    }
  }

  async analyze(): Promise<void> {
    // PostgreSQL samples by itself (default_statistics_target). The store's own tables only: a bare
    // ANALYZE takes every table of the database, other schemas' too, and holds a lock on each to the commit.
    await this.transaction(async (conn) => {
      const tables = await conn.get<{ list: string | null }>("SELECT string_agg(format('%I', tablename), ', ') AS list FROM pg_tables WHERE schemaname = current_schema()");
      if (tables?.list) await conn.run(`ANALYZE ${tables.list}`);
    }, { unbounded: true });
  }

  /**
   * An advisory lock, named after the schema the store lives in (so that stores in other
   * schemas of the database do not wait on it), held by a connection of its own: nodes
   * starting together take turns, and a node that dies releases it with its connection.
   */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const client = await this.connect();
    try {
      await client.query(`SELECT pg_advisory_lock(${lockKey('migrate')})`);
      return await fn();
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** A shared advisory lock held for the life of the driver, on a connection of its own. */
  async holdServing(): Promise<void> {
    const client = await this.connect();
    await client.query(`SELECT pg_advisory_lock_shared(${lockKey('serve')})`);
    this.held.push(client);
  }

  /** The serving lock, exclusively, if no node holds it shared. */
  async claimForBulk(): Promise<(() => Promise<void>) | undefined> {
    const client = await this.connect();
    const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${lockKey('serve')}) AS ok`);
    if (!rows[0]?.ok) {
      await client.end().catch(() => undefined);
      return undefined;
    }
    return async () => {
      await client.end().catch(() => undefined);
    };
  }

  private async connect(): Promise<pg.Client> {
    // Bounded as the pool's are: a database that does not answer fails the start (or the lock) with a reason, rather than hanging it.
    const client = new pg.Client({ connectionString: this.connectionString, application_name: APPLICATION, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  /** The pool's clients: open, free, and the callers waiting for one. */
  connections(): ConnectionUse {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  observe(observer: StatementObserver | undefined): void {
    if (observer) this.observer = observer;
    else delete this.observer;
  }

  async close(): Promise<void> {
    for (const client of this.held.splice(0)) await client.end().catch(() => undefined);
    await this.pool.end();
  }

  /** `forceIndexes` turns sequential scans off, to show that an index can serve the query (tiny test tables would not pick one). */
  async explain(sql: string, params: SqlValue[], options: { forceIndexes?: boolean } = {}): Promise<string[]> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (options.forceIndexes) await client.query('SET LOCAL enable_seqscan = off');
      const res = await client.query(`EXPLAIN ${numbered(sql)}`, params as unknown[]);
      return res.rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
  }
}
