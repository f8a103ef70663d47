import { randomBytes } from 'node:crypto';
import { type Config, terminologyClient } from './config.js';
import type { Logger, ServerContext } from './interactions/types.js';
import { operationRegistry } from './operations/registry.js';
import { searchRegistry } from './search/registry.js';
import { defaultStoreOptions } from './store/default-options.js';
import { openStore } from './store/open.js';
import type { StoreAdmin } from './store/store.js';

/** The server's parts, and its store with the administration that only the wiring and the commands hold. */
export interface Opened {
  server: ServerContext;
  store: StoreAdmin;
  /** What to tell the operator when a load into this store was interrupted (logged at warn already), or undefined. */
  interrupted?: string;
}

/** The load record of the demo data set that `ccri serve` loads into an empty store at its first start. */
export const DEMO_LOAD = 'ccri serve (the demo data set, at its first start)';

/**
 * What an interrupted load means, and what to do about it. A load is never rolled back:
 * each batch it reported is committed, and it is resumed by running it again.
 */
export function interruptedLoadMessage(load: { command: string; started: string }): string {
  if (load.command === DEMO_LOAD) {
    return (
      `A load into this store did not finish: the demo data set, loaded by \`ccri serve\` at its first start (${load.started}), was interrupted. ` +
      'It was not rolled back: the store holds part of it. The next `ccri serve` with the demo data on finishes it (what was loaded already is written again, as new versions), or `ccri seed` does.'
    );
  }
  return (
    `A load into this store did not finish: \`${load.command}\`, started ${load.started}, was interrupted. It was not rolled back: the store holds what it loaded before it stopped (every batch it reported). ` +
    'Run the same command again to finish it (what was loaded already is written again, as new versions of the same resources' +
    (load.command.startsWith('ccri import') ? '; but entries of transaction Bundles that create resources without ids would be created twice' : '') +
    '), or start again from an empty store with `ccri seed --reset` (and the same options).'
  );
}

/**
 * Opens the store the configuration names and builds the server context requests run
 * in. The HTTP server (server.ts) and the commands (`ccri import` sends transaction
 * Bundles through the request pipeline) build it here alike.
 */
export async function openContext(config: Config, options: { logger: Logger; clock?: () => number; terminologyServer?: boolean }): Promise<Opened> {
  const clock = options.clock ?? Date.now;
  const store = await openStore({
    ...defaultStoreOptions(clock, config.baseUrl),
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
    queryTimeoutMs: config.queryTimeoutMs,
    // The workers of `ccri serve --workers` all write one SQLite file: each reads the others' writes at once.
    ...(config.workers > 1 ? { peers: true } : {}),
    innerSearchMax: config.innerSearchMax,
    onReindexed: (n, ms) => options.logger.warn({ resources: n, ms: Math.round(ms) }, 'The store was written under an older index format: every search index was rebuilt'),
    onMigrated: (versions) => options.logger.info({ versions }, `The store's schema was migrated to version ${versions[versions.length - 1]}`),
    onIndexesBuilt: (names, ms) =>
      options.logger.warn({ indexes: names, ms: Math.round(ms) }, `A bulk load that was interrupted had left ${names.length} search indexes unbuilt: they were built now`),
    onBulkShared: () => options.logger.warn('Another process serves from this database: the bulk load keeps every index up to date (slower, but its searches keep working)'),
  });
  const load = await store.interruptedLoad();
  const interrupted = load ? interruptedLoadMessage(load) : undefined;
  if (interrupted) options.logger.warn({ load }, interrupted);
  const cursorSecret = config.cursorSecret ?? (await store.setting('cursor-secret', () => randomBytes(32).toString('base64url')));
  const server: ServerContext = {
    store,
    registry: searchRegistry(),
    operations: operationRegistry(),
    config: {
      baseUrl: config.baseUrl,
      defaultCount: config.defaultCount,
      maxCount: config.maxCount,
      cursorSecret,
      validation: config.validation,
      searchHandling: config.searchHandling,
      bundleMaxEntries: config.bundleMaxEntries,
      bundleMaxResponseBytes: config.bundleMaxResponseBytes,
    },
    clock,
    log: options.logger,
    ...(config.terminology && options.terminologyServer !== false ? { terminologyServer: terminologyClient(config.terminology) } : {}),
  };
  return { server, store, ...(interrupted ? { interrupted } : {}) };
}
