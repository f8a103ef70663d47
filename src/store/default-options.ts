import { createIndexer, INDEX_FORMAT } from '../search/extract.js';
import { searchRegistry } from '../search/registry.js';
import type { StoreOptions } from './store.js';

/** The store options the tests and the server share: the real registry and indexer. */
export function defaultStoreOptions(clock?: () => number, baseUrl?: string): StoreOptions {
  const registry = searchRegistry();
  return { indexer: createIndexer(registry, baseUrl ? { baseUrl } : {}), params: registry.indexedPairs(), indexKeys: (type, code) => registry.keys(type, code), indexFormat: INDEX_FORMAT, ...(clock ? { clock } : {}) };
}
