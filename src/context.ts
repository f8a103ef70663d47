import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import type { Logger, RequestContext } from './interactions/types.js';
import { searchRegistry } from './search/registry.js';
import { defaultStoreOptions } from './store/default-options.js';
import { openStore } from './store/open.js';

/**
 * Opens the store the configuration names and builds the context interactions run
 * in. The HTTP server (server.ts) and the commands that run interactions without it
 * (`ccri import` sends transaction Bundles through `transaction`) build it here alike.
 */
export async function createContext(config: Config, options: { logger: Logger; clock?: () => number }): Promise<RequestContext> {
  const clock = options.clock ?? Date.now;
  const store = await openStore({
    ...defaultStoreOptions(clock, config.baseUrl),
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
    onReindexed: (n, ms) => options.logger.warn({ resources: n, ms: Math.round(ms) }, 'The store was written under an older index format: every search index was rebuilt'),
  });
  const cursorSecret = config.cursorSecret ?? (await store.setting('cursor-secret', () => randomBytes(32).toString('base64url')));
  return {
    store,
    registry: searchRegistry(),
    config: {
      baseUrl: config.baseUrl,
      defaultCount: config.defaultCount,
      maxCount: config.maxCount,
      cursorSecret,
      validation: config.validation,
    },
    clock,
    log: options.logger,
  };
}
