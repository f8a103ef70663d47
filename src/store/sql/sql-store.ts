import { stringifyJson } from '../../fhir/json.js';
import { conflict, preconditionFailed } from '../../fhir/outcome.js';
import type { IndexRows } from '../../search/index-rows.js';
import type { SearchPage, SearchPlan } from '../../search/plan.js';
import type { HistoryPage, HistoryQuery, Store, StoredVersion, StoreOptions, StoreTx, WriteOp, WriteResult } from '../store.js';
import type { SqlConnection, SqlDriver, SqlValue } from './driver.js';
import { ParamIds } from './param-ids.js';
import { runSearch } from './search-runner.js';

interface VersionRow {
  type: string;
  id: string;
  version: number | string;
  last_updated: number | string;
  method: string;
  json: string | null;
}

const READ_SQL =
  'SELECT r.type, r.id, v.version, v.last_updated, v.method, v.json FROM resource r ' +
  'JOIN resource_version v ON v.rid = r.rid AND v.version = r.version WHERE r.type = ? AND r.id = ?';
const VREAD_SQL =
  'SELECT v.type, v.id, v.version, v.last_updated, v.method, v.json FROM resource r ' +
  'JOIN resource_version v ON v.rid = r.rid WHERE r.type = ? AND r.id = ? AND v.version = ?';

export function toStoredVersion(row: VersionRow): StoredVersion {
  return {
    type: row.type,
    id: row.id,
    version: Number(row.version),
    lastUpdated: new Date(Number(row.last_updated)).toISOString(),
    deleted: row.method === 'DELETE',
    json: row.json,
    method: row.method as StoredVersion['method'],
  };
}

/** The index tables and their columns after (rid, pid), in IndexRows order. */
export const INDEX_TABLES = {
  token: ['system', 'code', 'text'],
  string: ['norm', 'exact'],
  date: ['low', 'high'],
  number: ['value'],
  quantity: ['value', 'system', 'code', 'canon_value', 'canon_unit'],
  reference: ['target_type', 'target_id', 'url'],
  uri: ['uri'],
  composite: ['system1', 'code1', 'system2', 'code2', 'low2', 'high2', 'canon2', 'unit2', 'norm2'],
} as const;

/**
 * The one Store implementation, over a dialect's SqlDriver.
 * https://hl7.org/fhir/STU3/http.html
 */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly clock: () => number;
  private readonly pids: ParamIds;
  private readonly cache = new Map<string, StoredVersion>();
  private readonly cacheSize: number;
  private cacheCounter = -1;

  constructor(
    private readonly driver: SqlDriver,
    private readonly options: StoreOptions,
  ) {
    this.dialect = driver.dialect;
    this.clock = options.clock ?? Date.now;
    this.pids = new ParamIds(driver);
    this.cacheSize = options.readCacheSize ?? 10_000;
  }

  async init(): Promise<this> {
    await this.driver.migrate();
    await this.pids.register(this.options.params ?? []);
    return this;
  }

  /**
   * Reads by id go through a cache of current versions where the database can say
   * when anything changed (SQLite's data_version, bumped by any committed write in
   * any process); the whole cache is dropped on any change, so it is never stale.
   */
  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    const counter = this.driver.changeCounter?.();
    if (counter === undefined || this.cacheSize === 0) return readWith(this.driver.reader, type, id);
    if (counter !== this.cacheCounter) {
      this.cache.clear();
      this.cacheCounter = counter;
    }
    const key = `${type}/${id}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const v = await readWith(this.driver.reader, type, id);
    if (v) {
      if (this.cache.size >= this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(key, v);
    }
    return v;
  }

  vread(type: string, id: string, version: number): Promise<StoredVersion | undefined> {
    return vreadWith(this.driver.reader, type, id, version);
  }

  history(query: HistoryQuery): Promise<HistoryPage> {
    return historyWith(this.driver.reader, query);
  }

  search(plan: SearchPlan): Promise<SearchPage> {
    return runSearch(this.driver.reader, this.pids, plan);
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const pending = new Map<string, number>();
    const result = await this.driver.transaction(async (conn) => {
      const now = this.clock();
      const tx: StoreTx = {
        read: (type, id) => readWith(conn, type, id),
        vread: (type, id, version) => vreadWith(conn, type, id, version),
        history: (query) => historyWith(conn, query),
        search: (plan) => runSearch(conn, this.pids, plan),
        write: (op) => this.write(conn, op, now, pending),
      };
      return fn(tx);
    });
    this.pids.adopt(pending);
    return result;
  }

  async counts(): Promise<Map<string, number>> {
    const rows = await this.driver.reader.all<{ type: string; n: number | string }>('SELECT type, n FROM type_count WHERE n > 0 ORDER BY type');
    return new Map(rows.map((r) => [r.type, Number(r.n)]));
  }

  async clear(): Promise<void> {
    await this.driver.transaction(async (conn) => {
      for (const table of ['resource', 'resource_version', 'type_count', 'compartment', ...Object.keys(INDEX_TABLES).map((t) => `idx_${t}`)]) {
        await conn.run(`DELETE FROM ${table}`);
      }
    });
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
          'WHERE r.deleted = 0 AND r.rid > ? ORDER BY r.rid LIMIT ?',
        [after, batch],
      );
      if (!rows.length) break;
      const pending = new Map<string, number>();
      await this.driver.transaction(async (conn) => {
        for (const row of rows) {
          const rid = Number(row.rid);
          await deleteIndexRows(conn, rid);
          await this.insertIndexRows(conn, rid, row.type, this.options.indexer(JSON.parse(row.json) as Record<string, unknown>), pending);
        }
      });
      this.pids.adopt(pending);
      after = Number(rows[rows.length - 1]!.rid);
      done += rows.length;
      onProgress?.(done, total);
    }
    return done;
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  /** One write: check preconditions, store the new version, replace the index rows. */
  private async write(conn: SqlConnection, op: WriteOp, now: number, pending: Map<string, number>): Promise<WriteResult> {
    const current = await this.lockCurrent(conn, op.type, op.id);
    if (op.ifMatch !== undefined && (!current || current.deleted || current.version !== op.ifMatch)) {
      throw preconditionFailed(
        current && !current.deleted
          ? `Version conflict: ${op.type}/${op.id} is at version ${current.version}, not ${op.ifMatch}`
          : `Version conflict: ${op.type}/${op.id} does not exist, so it is not at version ${op.ifMatch}`,
      );
    }
    if (op.mustNotExist && current && !current.deleted) throw conflict(`${op.type}/${op.id} already exists`);

    if (op.resource === null) {
      if (!current || current.deleted) {
        const existing = current ? await readWith(conn, op.type, op.id) : undefined;
        return { kind: 'noop', version: existing ?? deletedPlaceholder(op.type, op.id, now) };
      }
      const version = current.version + 1;
      await this.insertVersion(conn, current.rid, op.type, op.id, version, now, 'DELETE', null);
      await conn.run('UPDATE resource SET version = ?, last_updated = ?, deleted = 1 WHERE rid = ?', [version, now, current.rid]);
      await deleteIndexRows(conn, current.rid);
      await conn.run('UPDATE type_count SET n = n - 1 WHERE type = ?', [op.type]);
      return { kind: 'deleted', version: { type: op.type, id: op.id, version, lastUpdated: iso(now), deleted: true, json: null, method: 'DELETE' } };
    }

    const version = current ? current.version + 1 : 1;
    const lastUpdated = iso(now);
    const resource = op.resource;
    resource.id = op.id;
    const meta = (resource.meta && typeof resource.meta === 'object' ? resource.meta : {}) as Record<string, unknown>;
    const { versionId: _v, lastUpdated: _l, ...rest } = meta;
    resource.meta = { versionId: String(version), lastUpdated, ...rest };
    putIdentityFirst(resource);
    const json = stringifyJson(resource);
    const method = current ? 'PUT' : 'POST';
    const rid = current ? current.rid : await this.insertResource(conn, op.type, op.id, now);
    await this.insertVersion(conn, rid, op.type, op.id, version, now, method, json);
    if (current) {
      await conn.run('UPDATE resource SET version = ?, last_updated = ?, deleted = 0 WHERE rid = ?', [version, now, rid]);
      if (!current.deleted) await deleteIndexRows(conn, rid);
    }
    await this.insertIndexRows(conn, rid, op.type, this.options.indexer(resource), pending);
    if (!current || current.deleted) await this.bumpCount(conn, op.type);
    return {
      kind: current && !current.deleted ? 'updated' : 'created',
      version: { type: op.type, id: op.id, version, lastUpdated, deleted: false, json, method },
    };
  }

  /** The current row, locked for the rest of the transaction (PostgreSQL: FOR UPDATE). */
  private async lockCurrent(conn: SqlConnection, type: string, id: string) {
    const row = await conn.get<{ rid: number | string; version: number | string; deleted: number | boolean }>(
      `SELECT rid, version, deleted FROM resource WHERE type = ? AND id = ?${this.driver.forUpdate}`,
      [type, id],
    );
    return row ? { rid: Number(row.rid), version: Number(row.version), deleted: Boolean(Number(row.deleted)) } : undefined;
  }

  /** Inserts the resource row; a concurrent insert of the same id surfaces as a 409 the client can retry. */
  private async insertResource(conn: SqlConnection, type: string, id: string, now: number): Promise<number> {
    try {
      const row = await conn.get<{ rid: number | string }>(
        'INSERT INTO resource (type, id, version, last_updated, deleted) VALUES (?, ?, 1, ?, 0) RETURNING rid',
        [type, id, now],
      );
      return Number(row!.rid);
    } catch (err) {
      if (this.driver.isUniqueViolation(err)) throw conflict(`${type}/${id} was created by a concurrent request; retry`);
      throw err;
    }
  }

  private async insertVersion(conn: SqlConnection, rid: number, type: string, id: string, version: number, now: number, method: string, json: string | null) {
    await conn.run('INSERT INTO resource_version (rid, type, id, version, last_updated, method, json) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      rid, type, id, version, now, method, json,
    ]);
  }

  private async bumpCount(conn: SqlConnection, type: string) {
    const changed = await conn.run('UPDATE type_count SET n = n + 1 WHERE type = ?', [type]);
    if (!changed) await conn.run('INSERT INTO type_count (type, n) VALUES (?, 1) ON CONFLICT (type) DO UPDATE SET n = type_count.n + 1', [type]);
  }

  private async insertIndexRows(conn: SqlConnection, rid: number, type: string, rows: IndexRows, pending: Map<string, number>): Promise<void> {
    const pid = await this.pids.resolver(conn, type, rows, pending);
    for (const table of Object.keys(INDEX_TABLES) as Array<keyof typeof INDEX_TABLES>) {
      const list = rows[table] as unknown as Array<[string, ...SqlValue[]]>;
      if (!list.length) continue;
      await conn.insertMany(
        `idx_${table}`,
        ['rid', 'pid', ...INDEX_TABLES[table]],
        list.map(([param, ...values]) => [rid, pid(param), ...values]),
      );
    }
    if (rows.compartments.length) {
      await conn.insertMany('compartment', ['rid', 'patient'], [...new Set(rows.compartments)].map((p) => [rid, p]));
    }
  }
}

async function deleteIndexRows(conn: SqlConnection, rid: number): Promise<void> {
  for (const table of Object.keys(INDEX_TABLES)) await conn.run(`DELETE FROM idx_${table} WHERE rid = ?`, [rid]);
  await conn.run('DELETE FROM compartment WHERE rid = ?', [rid]);
}

async function readWith(conn: SqlConnection, type: string, id: string): Promise<StoredVersion | undefined> {
  const row = await conn.get<VersionRow>(READ_SQL, [type, id]);
  return row ? toStoredVersion(row) : undefined;
}

async function vreadWith(conn: SqlConnection, type: string, id: string, version: number): Promise<StoredVersion | undefined> {
  const row = await conn.get<VersionRow>(VREAD_SQL, [type, id, version]);
  return row ? toStoredVersion(row) : undefined;
}

/** Newest first; `beforeSeq` continues from a previous page. https://hl7.org/fhir/STU3/http.html#history */
async function historyWith(conn: SqlConnection, q: HistoryQuery): Promise<HistoryPage> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.type) {
    where.push('type = ?');
    params.push(q.type);
  }
  if (q.id !== undefined) {
    where.push('id = ?');
    params.push(q.id);
  }
  if (q.since !== undefined) {
    where.push('last_updated >= ?');
    params.push(q.since);
  }
  if (q.before !== undefined) {
    where.push('last_updated < ?');
    params.push(q.before);
  }
  const filter = where.length ? ` WHERE ${where.join(' AND ')}` : '';
  const total = Number((await conn.get<{ n: number }>(`SELECT count(*) AS n FROM resource_version${filter}`, params))?.n ?? 0);
  const pageWhere = q.beforeSeq !== undefined ? `${filter ? `${filter} AND` : ' WHERE'} seq < ?` : filter;
  const rows = await conn.all<VersionRow & { seq: number | string }>(
    `SELECT seq, type, id, version, last_updated, method, json FROM resource_version${pageWhere} ORDER BY seq DESC LIMIT ?`,
    [...params, ...(q.beforeSeq !== undefined ? [q.beforeSeq] : []), q.count],
  );
  return { total, versions: rows.map((r) => ({ ...toStoredVersion(r), seq: Number(r.seq) })) };
}

/** Moves resourceType, id and meta to the front, in place (keeping the object and its exact decimals). */
function putIdentityFirst(resource: Record<string, unknown>): void {
  for (const key of Object.keys(resource)) {
    if (key === 'resourceType' || key === 'id' || key === 'meta') continue;
    const value = resource[key];
    delete resource[key];
    resource[key] = value;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function deletedPlaceholder(type: string, id: string, now: number): StoredVersion {
  return { type, id, version: 0, lastUpdated: iso(now), deleted: true, json: null, method: 'DELETE' };
}
