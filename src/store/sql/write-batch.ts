import { conflict, forbidden, preconditionFailed } from '../../fhir/outcome.js';
import { RetryableConflict } from '../errors.js';
import { type Access, visibility } from '../../search/access.js';
import type { Indexer, IndexKind, IndexRows } from '../../search/index-rows.js';
import { serialise } from '../serialise.js';
import type { StoredVersion, WriteOp, WriteResult } from '../store.js';
import type { CurrentRow, SqlConnection, SqlValue } from './driver.js';
import type { ParamIds } from './param-ids.js';
import type { SqlDialect } from './schema.js';

/** The index tables and their columns after (rid, pid), in IndexRows order. */
export const INDEX_TABLES: { readonly [K in IndexKind]: readonly string[] } = {
  token: ['system', 'code', 'text'],
  string: ['norm', 'exact'],
  date: ['low', 'high'],
  number: ['value'],
  quantity: ['value', 'system', 'code', 'unit', 'canon_value', 'canon_unit'],
  reference: ['target_type', 'target_id', 'url'],
  uri: ['uri'],
  composite: ['system1', 'code1', 'system2', 'code2', 'low2', 'high2', 'canon2', 'unit2', 'norm2'],
};


/** Everything a batch needs besides the connection. */
export interface BatchContext {
  now: number;
  /** How far the writer may write: a write may touch, and leave, a resource only there. */
  access: Access;
  dialect: SqlDialect;
  indexer: Indexer;
  pids: ParamIds;
  /** Parameter ids created in this transaction (adopted on commit). */
  pending: Map<string, number>;
  /**
   * What the transaction's writes add to the count of current resources per type, written
   * once at its end (addCounts): a count row is then locked from there to the commit, not
   * from the first write of its type, and each transaction locks the rows it counts in one
   * order (on PostgreSQL, four clients' transaction Bundles deadlocked on them and waited
   * for the deadlock timeout, a second each time).
   */
  counts: Map<string, number>;
}

const key = (type: string, id: string) => `${type}/${id}`;

/**
 * Writes a batch of resources in a few statements per table: look up the current
 * rows (locked), check preconditions, insert the new resource rows and versions,
 * replace the index rows. Keys must be distinct within one batch (writeMany splits).
 * One resource or five hundred take the same path, so single writes and bulk loads
 * cannot drift apart.
 */
export async function writeBatch(conn: SqlConnection, given: WriteOp[], ctx: BatchContext): Promise<WriteResult[]> {
  const current = new Map<string, CurrentRow>();
  const known = given.filter((o) => !o.newId);
  if (known.length) for (const row of await conn.currentMany(known.map((o) => [o.type, o.id]))) current.set(key(row.type, row.id), row);
  const indexed = new Map<WriteOp, IndexRows>();
  const ops = await admit(conn, given, current, indexed, ctx);
  for (const op of ops) checkPreconditions(op, current.get(key(op.type, op.id)));

  const lastUpdated = new Date(ctx.now).toISOString();
  const results: WriteResult[] = new Array(ops.length);
  const fresh: number[] = [];
  const revived: number[] = [];
  /** resource_version rows, flat: rid, type, id, version, last_updated, method, json. */
  const versions: SqlValue[] = [];
  const staleIndexes: number[] = [];
  /** Rows whose compartment rows go: updated and revived ones (a deletion keeps its resource's compartments). */
  const staleCompartments: number[] = [];
  const deletedCounts = new Map<string, number>();
  const json: Array<string | null> = new Array(ops.length).fill(null);

  ops.forEach((op, i) => {
    const cur = current.get(key(op.type, op.id));
    if (op.resource === null) {
      if (!cur || cur.deleted) {
        results[i] = { kind: 'noop', version: { type: op.type, id: op.id, version: cur?.version ?? 0, lastUpdated, deleted: true, json: null, method: 'DELETE' } };
        return;
      }
      const version = cur.version + 1;
      versions.push(cur.rid, op.type, op.id, version, ctx.now, 'DELETE', null);
      staleIndexes.push(cur.rid);
      deletedCounts.set(op.type, (deletedCounts.get(op.type) ?? 0) + 1);
      results[i] = { kind: 'deleted', version: { type: op.type, id: op.id, version, lastUpdated, deleted: true, json: null, method: 'DELETE' } };
      return;
    }
    const version = cur ? cur.version + 1 : 1;
    json[i] = serialise(op.resource, op.id, version, lastUpdated);
    const method: StoredVersion['method'] = cur ? 'PUT' : 'POST';
    if (!cur) fresh.push(i);
    else {
      if (cur.deleted) revived.push(i);
      else staleIndexes.push(cur.rid);
      staleCompartments.push(cur.rid);
    }
    results[i] = {
      kind: cur && !cur.deleted ? 'updated' : 'created',
      version: { type: op.type, id: op.id, version, lastUpdated, deleted: false, json: json[i], method },
    };
  });

  // Resource rows: insert the new ones (their rids come back), update the rest.
  const rids = new Map<number, number>();
  // The old index and compartment rows go first: on PostgreSQL every write after them is held back and sent as one statement.
  await conn.deleteByRids([...indexDeletes(ctx.dialect, staleIndexes, false), { table: 'compartment', column: 'rid', rids: staleCompartments }]);
  const inserted = await conn.insertResources(fresh.map((i) => [ops[i]!.type, ops[i]!.id, 1, ctx.now]));
  if (inserted.length !== fresh.length) {
    const missing = fresh.map((i) => ops[i]!).find((o) => !inserted.some((r) => r.type === o.type && r.id === o.id))!;
    throw new RetryableConflict(`${missing.type}/${missing.id} was created by a concurrent request; retry`);
  }
  const insertedByKey = new Map(inserted.map((r) => [key(r.type, r.id), r.rid]));
  ops.forEach((op, i) => {
    const cur = current.get(key(op.type, op.id));
    rids.set(i, cur ? cur.rid : insertedByKey.get(key(op.type, op.id))!);
  });
  const updates: Array<[number, number, number, number]> = [];
  ops.forEach((op, i) => {
    const cur = current.get(key(op.type, op.id));
    const r = results[i]!;
    if (cur && r.kind !== 'noop') updates.push([cur.rid, r.version.version, ctx.now, op.resource === null ? 1 : 0]);
  });
  await conn.updateResources(updates);

  ops.forEach((op, i) => {
    if (op.resource !== null) versions.push(rids.get(i)!, op.type, op.id, results[i]!.version.version, ctx.now, results[i]!.version.method, json[i]!);
  });
  await conn.insertMany('resource_version', ['rid', 'type', 'id', 'version', 'last_updated', 'method', 'json'], versions);

  const written = ops.map((op, i) => ({ op, i })).filter(({ op }) => op.resource !== null);
  await insertIndexRows(
    conn,
    written.map(({ op, i }) => ({ rid: rids.get(i)!, type: op.type, rows: indexed.get(op) ?? ctx.indexer(op.resource!) })),
    ctx,
  );

  const counts = ctx.counts;
  for (const i of [...fresh, ...revived]) counts.set(ops[i]!.type, (counts.get(ops[i]!.type) ?? 0) + 1);
  for (const [type, n] of deletedCounts) counts.set(type, (counts.get(type) ?? 0) - n);
  return results;
}

/**
 * The writes the writer's access lets through. Where it may write only in some patients'
 * compartments, a resource it touches must lie in one of them (a deletion of one that does
 * not is a no-op, as if it were absent), and what it writes must lie in one of them too;
 * anything else is a 403. The index rows computed to tell are kept in `indexed`.
 */
async function admit(conn: SqlConnection, ops: WriteOp[], current: Map<string, CurrentRow>, indexed: Map<WriteOp, IndexRows>, ctx: BatchContext): Promise<WriteOp[]> {
  const reach = (op: WriteOp) => visibility(ctx.access, op.type, 'write');
  const confined = ops.filter((op) => reach(op) !== 'all');
  if (!confined.length) return ops;
  const patients = ctx.access.patients;
  for (const op of confined) if (reach(op) === 'none' || !patients.length) throw forbidden(`Writing ${op.type} resources is not allowed for this caller`);
  const existing = confined.map((op) => current.get(key(op.type, op.id))).filter((c): c is CurrentRow => c !== undefined);
  const inside = new Set<number>();
  if (existing.length) {
    const rows = await conn.all<{ rid: number | string }>(
      `SELECT DISTINCT rid FROM compartment WHERE rid IN (${existing.map(() => '?').join(', ')}) AND patient IN (${patients.map(() => '?').join(', ')})`,
      [...existing.map((c) => c.rid), ...patients],
    );
    for (const r of rows) inside.add(Number(r.rid));
  }
  const isInside = (type: string, id: string, compartments: readonly string[]) => (type === 'Patient' && patients.includes(id)) || compartments.some((p) => patients.includes(p));
  const skipped = new Set<WriteOp>();
  for (const op of confined) {
    const cur = current.get(key(op.type, op.id));
    if (cur && !inside.has(cur.rid) && !(op.type === 'Patient' && patients.includes(op.id))) {
      if (op.resource === null) {
        skipped.add(op);
        continue;
      }
      throw forbidden(`${op.type}/${op.id} lies outside the compartments this caller may write to`);
    }
    if (op.resource !== null) {
      const rows = ctx.indexer(op.resource);
      indexed.set(op, rows);
      if (!isInside(op.type, op.id, rows.compartments)) throw forbidden(`The ${op.type} would lie outside the compartments this caller may write to (of Patient/${patients.join(', Patient/')})`);
    }
  }
  if (!skipped.size) return ops;
  // A deletion of what the writer cannot see changes nothing, as if it were absent.
  for (const op of skipped) current.delete(key(op.type, op.id));
  return ops;
}

/**
 * Adds to the current-resource counts per type (and empties `counts`): to one part of each
 * type's count, picked at random for the transaction (migration 7), so that concurrent
 * transactions seldom lock the same rows.
 */
export async function addCounts(conn: SqlConnection, counts: Map<string, number>): Promise<void> {
  const part = Math.floor(Math.random() * COUNT_PARTS);
  // In type order, so concurrent transactions lock the count rows in the same order (no deadlock).
  const values = [...counts]
    .filter(([, n]) => n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([type, n]) => [type, part, n]);
  counts.clear();
  // One insert, which PostgreSQL holds back and sends with the transaction's other inserts: a round trip fewer a write.
  if (values.length) await conn.insertMany('type_count_part', ['type', 'part', 'n'], values, COUNT_CONFLICT);
}

/** How many parts each type's count is kept in. */
export const COUNT_PARTS = 16;
const COUNT_CONFLICT = 'ON CONFLICT (type, part) DO UPDATE SET n = type_count_part.n + excluded.n';
export const ADD_COUNT = `INSERT INTO type_count_part (type, part, n) VALUES (?, ?, ?) ${COUNT_CONFLICT}`;

function checkPreconditions(op: WriteOp, cur: CurrentRow | undefined): void {
  if (op.ifMatch !== undefined && (!cur || cur.deleted || cur.version !== op.ifMatch)) {
    throw preconditionFailed(
      cur && !cur.deleted
        ? `Version conflict: ${op.type}/${op.id} is at version ${cur.version}, not ${op.ifMatch}`
        : `Version conflict: ${op.type}/${op.id} does not exist, so it is not at version ${op.ifMatch}`,
    );
  }
  if (op.mustNotExist && cur && !cur.deleted) throw conflict(`${op.type}/${op.id} already exists`);
}

/**
 * Deletes the search-index rows of `rids`, and their compartment rows too unless
 * `compartments` is false. A deleted resource keeps its compartment rows: they say whose
 * it was, so that access narrowed to compartments treats its history, and its 410, as
 * those of the resource it was (docs/storage.md).
 */
export async function deleteIndexRows(conn: SqlConnection, dialect: SqlDialect, rids: number[], compartments = true): Promise<void> {
  await conn.deleteByRids(indexDeletes(dialect, rids, compartments));
}

/** The deletes of the index rows (and the compartment rows, unless told not to) of `rids`. */
function indexDeletes(dialect: SqlDialect, rids: number[], compartments: boolean): Array<{ table: string; column: string; rids: number[] }> {
  if (!rids.length) return [];
  return [
    ...Object.keys(INDEX_TABLES).map((table) => ({ table: `idx_${table}`, column: 'rid', rids })),
    ...(compartments ? [{ table: 'compartment', column: 'rid', rids }] : []),
    ...dialect.textTables.map((table) => ({ table, column: dialect.textKey, rids })),
  ];
}

/** All the index rows of many resources, one insertMany per table. */
export async function insertIndexRows(conn: SqlConnection, items: Array<{ rid: number; type: string; rows: IndexRows }>, ctx: Pick<BatchContext, 'pids' | 'pending'>): Promise<void> {
  // Flat rows per table (rid, pid, then the table's columns): no array per row.
  const byTable = new Map<IndexKind, SqlValue[]>();
  const compartments: SqlValue[] = [];
  const text: Array<[number, string, string]> = [];
  for (const { rid, type, rows } of items) {
    const pid = await ctx.pids.resolver(conn, type, rows, ctx.pending);
    for (const table of Object.keys(INDEX_TABLES) as IndexKind[]) {
      const list = rows[table] as unknown as Array<[string, ...SqlValue[]]>;
      if (!list.length) continue;
      let out = byTable.get(table);
      if (!out) byTable.set(table, (out = []));
      for (const row of list) {
        out.push(rid, pid(row[0]));
        for (let c = 1; c < row.length; c++) out.push(row[c]!);
      }
    }
    for (const p of new Set(rows.compartments)) compartments.push(rid, p);
    if (rows.text && (rows.text.narrative || rows.text.content)) text.push([rid, rows.text.narrative, rows.text.content]);
  }
  for (const [table, rows] of byTable) await conn.insertMany(`idx_${table}`, ['rid', 'pid', ...INDEX_TABLES[table]], rows);
  await conn.insertMany('compartment', ['rid', 'patient'], compartments);
  await conn.insertText(text);
}
