import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';
import { loadDemoData } from './data/demo.js';
import { buildApp } from './http/app.js';
import { operationTable } from './operations/index.js';
import { loadConformance } from './profiles/load.js';
import type { Logger, RequestContext } from './interactions/types.js';
import { searchRegistry } from './search/registry.js';
import { defaultStoreOptions } from './store/default-options.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';

export interface Server {
  app: FastifyInstance;
  store: Store;
  ctx: RequestContext;
  close(): Promise<void>;
}

/**
 * Wires the store, the registry and the HTTP app together (without listening).
 * Tests use this with `app.inject()`; `ccri serve` adds `listen`.
 */
export async function createServer(config: Config, options: { logger?: Logger | false; clock?: () => number } = {}): Promise<Server> {
  const clock = options.clock ?? Date.now;
  const log = options.logger === false ? silentLogger : (options.logger ?? pino({ level: config.logLevel }));
  const store = await openStore({
    ...defaultStoreOptions(clock, config.baseUrl),
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
  });
  const cursorSecret = config.cursorSecret ?? (await store.setting('cursor-secret', () => randomBytes(32).toString('base64url')));
  const ctx: RequestContext = {
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
    log,
  };
  if (config.demoData && (await store.counts()).size === 0) await loadDemoData(store, ctx);
  // After the demo data check, which looks for an empty store.
  const conformance = await loadConformance(store);
  log.info(conformance, 'Care Connect conformance resources loaded');
  const app = await buildApp({ ctx, basePath: config.basePath, bodyLimit: config.bodyLimit, operations: operationTable() });
  return {
    app,
    store,
    ctx,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}

const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
