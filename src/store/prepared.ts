import { parseJson } from '../fhir/json.js';
import { type Indexer, INDEX_KINDS, type IndexKind } from '../search/index-rows.js';
import { serialise } from './serialise.js';
import type { WriteOp } from './store.js';

/**
 * A batch of new resources made ready for the store away from the thread that writes:
 * serialised (version 1, one lastUpdated), indexed, with parameter ids resolved. Each
 * part is one JSON text, so a batch crosses between threads as a few strings and the
 * database reads the rows out of them itself (SQLite's json_each): the writing thread
 * does no per-row work. Bulk loads prepare in a worker thread (data/prepare-worker.ts)
 * while the main thread writes the previous batch.
 *
 * Rows refer to their resource by its position in the batch; the store turns positions
 * into row ids as it inserts. docs/storage.md, "Bulk loads".
 */
export interface PreparedBatch {
  /** How many resources. */
  count: number;
  /** Whether every (type, id) in the batch is distinct. */
  distinct: boolean;
  /** Epoch ms: every resource's meta.lastUpdated. */
  lastUpdated: number;
  /** `[[type, id], …]` in batch order. */
  keys: string;
  /** Each resource's JSON, in batch order (bound as values: cheaper to write than read out of JSON). */
  json: string[];
  /** Per kind of index row, `[[position, pid, …columns], …]` (columns in IndexRows order). */
  tables: Record<IndexKind, string>;
  /** `[[position, patient id], …]`. */
  compartments: string;
  /** `[[position, narrative words, content words], …]`. */
  text: string;
  /** New resources per type. */
  counts: Record<string, number>;
}

/** What preparing needs: the indexer, and the store's ids of a type's index keys. */
export interface PrepareContext {
  indexer: Indexer;
  pidsOf: (type: string) => ReadonlyMap<string, number> | undefined;
}

type Resource = Record<string, unknown> & { resourceType: string; id?: string };

const TABLE_NAMES = INDEX_KINDS;

/** The batch as ordinary writes (for stores and transactions that write it resource by resource). */
export function preparedOps(batch: PreparedBatch): WriteOp[] {
  const keys = JSON.parse(batch.keys) as Array<[string, string]>;
  return keys.map(([type, id], i) => ({ type, id, resource: parseJson(batch.json[i]!) as Record<string, unknown> }));
}

/**
 * Prepares resources that carry their own ids as new (version 1) resources. The
 * resources' id and meta are set as a write would set them. Throws on a resource
 * without an id or an index key the store has not registered.
 */
export function prepareBatch(resources: Resource[], ctx: PrepareContext, now: number): PreparedBatch {
  const lastUpdated = new Date(now).toISOString();
  const out: Array<[string, string]> = [];
  const json: string[] = [];
  const tables = Object.fromEntries(TABLE_NAMES.map((t) => [t, [] as unknown[][]])) as Record<IndexKind, unknown[][]>;
  const compartments: Array<[number, string]> = [];
  const text: Array<[number, string, string]> = [];
  const counts: Record<string, number> = {};
  const keys = new Set<string>();
  resources.forEach((resource, i) => {
    const { resourceType: type, id } = resource;
    if (typeof id !== 'string' || !id) throw new Error(`A ${type} without an id cannot be written directly`);
    keys.add(`${type}/${id}`);
    counts[type] = (counts[type] ?? 0) + 1;
    const rows = ctx.indexer(resource);
    out.push([type, id]);
    json.push(serialise(resource, id, 1, lastUpdated));
    const pids = ctx.pidsOf(type);
    for (const table of TABLE_NAMES) {
      const into = tables[table];
      for (const row of rows[table] as unknown as Array<[string, ...unknown[]]>) {
        const pid = pids?.get(row[0]);
        if (pid === undefined) throw new Error(`No parameter id for ${type} ${row[0]}`);
        // The row becomes [position, pid, …columns] in place: no second array.
        row.splice(0, 1, i, pid);
        into.push(row);
      }
    }
    for (const p of new Set(rows.compartments)) compartments.push([i, p]);
    if (rows.text && (rows.text.narrative || rows.text.content)) text.push([i, rows.text.narrative, rows.text.content]);
  });
  return {
    count: resources.length,
    distinct: keys.size === resources.length,
    lastUpdated: now,
    keys: JSON.stringify(out),
    json,
    tables: Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, JSON.stringify(rows)])) as Record<IndexKind, string>,
    compartments: JSON.stringify(compartments),
    text: JSON.stringify(text),
    counts,
  };
}
