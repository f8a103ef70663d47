import type { Store } from '../store/store.js';
import type { Resource } from '../interactions/types.js';

export interface WriteOptions {
  /** Resources per store transaction (default 500): one transaction per resource is slow on SQLite. */
  batchSize?: number;
  /** Called after each batch with the number written so far. */
  onProgress?: (written: number) => void;
  /**
   * Transactions in flight at once (default 1). On PostgreSQL, 2–3 keep both the database
   * and this process busy: one batch is prepared while another is written. Only for
   * resources whose ids are all distinct (a generated population), since two batches
   * creating the same id concurrently would conflict.
   */
  concurrency?: number;
}

/**
 * Writes resources that carry their own ids (create-or-update), a batch of them
 * per store transaction. The store sets meta.versionId and meta.lastUpdated.
 * Resources without an id are refused.
 */
export async function writeResources(store: Store, resources: Iterable<Resource> | AsyncIterable<Resource>, options: WriteOptions = {}): Promise<number> {
  const size = options.batchSize ?? 500;
  const limit = Math.max(1, options.concurrency ?? 1);
  let batch: Resource[] = [];
  let written = 0;
  const inflight = new Set<Promise<void>>();
  const flush = async () => {
    if (!batch.length) return;
    const items = batch;
    batch = [];
    const p = store
      .transaction((tx) => tx.writeMany(items.map((r) => ({ type: r.resourceType, id: r.id!, resource: r }))))
      .then(() => {
        written += items.length;
        options.onProgress?.(written);
      });
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= limit) await Promise.race(inflight);
  };
  for await (const r of resources) {
    if (typeof r.id !== 'string' || !r.id) throw new Error(`A ${r.resourceType} without an id cannot be written directly`);
    batch.push(r);
    if (batch.length >= size) await flush();
  }
  await flush();
  await Promise.all(inflight);
  return written;
}
