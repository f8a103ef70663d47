import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Config } from './config.js';
import { createContext } from './context.js';
import { loadDemoData } from './data/demo.js';
import { buildApp } from './http/app.js';
import { operationTable } from './operations/index.js';
import { loadConformance } from './profiles/load.js';
import type { Logger, RequestContext } from './interactions/types.js';
import type { Store } from './store/store.js';
import { servedCapabilityStatement } from './ui/capability.js';
import { explorerPlugin } from './ui/plugin.js';

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
  const log = options.logger === false ? silentLogger : (options.logger ?? pino({ level: config.logLevel }));
  const ctx = await createContext(config, { logger: log, ...(options.clock ? { clock: options.clock } : {}) });
  const { store } = ctx;
  if (config.demoData && (await store.counts()).size === 0) await loadDemoData(store, ctx);
  // After the demo data check, which looks for an empty store.
  const conformance = await loadConformance(store);
  log.info(conformance, 'Care Connect conformance resources loaded');
  const app = await buildApp({ ctx, basePath: config.basePath, bodyLimit: config.bodyLimit, operations: operationTable() });
  await app.register(explorerPlugin, { openBase: config.baseUrl, capabilityStatement: () => servedCapabilityStatement(ctx), log });
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
