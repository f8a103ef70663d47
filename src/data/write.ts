import { EVERYTHING } from '../search/access.js';
import type { Store } from '../store/store.js';
import type { Resource } from '../fhir/resource.js';

export interface WriteOptions {
  /** Resources per store transaction (default 500): one transaction per resource is slow on SQLite. */
  batchSize?: number;
}

/**
 * Writes resources that carry their own ids (create-or-update), a batch of them
 * per store transaction. The store sets meta.versionId and meta.lastUpdated.
 * Resources without an id are refused. (Bulk loads go through data/bulk instead.)
 */
export async function writeResources(store: Store, resources: Iterable<Resource> | AsyncIterable<Resource>, options: WriteOptions = {}): Promise<number> {
  const size = options.batchSize ?? 500;
  let batch: Resource[] = [];
  let written = 0;
  const flush = async () => {
    if (!batch.length) return;
    const items = batch;
    batch = [];
    await store.transaction(EVERYTHING, (tx) => tx.writeMany(items.map((r) => ({ type: r.resourceType, id: r.id!, resource: r }))));
    written += items.length;
  };
  for await (const r of resources) {
    if (typeof r.id !== 'string' || !r.id) throw new Error(`A ${r.resourceType} without an id cannot be written directly`);
    batch.push(r);
    if (batch.length >= size) await flush();
  }
  await flush();
  return written;
}
