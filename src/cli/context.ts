import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { Config } from '../config.js';
import type { Logger, RequestContext } from '../interactions/types.js';
import { searchRegistry } from '../search/registry.js';
import { defaultStoreOptions } from '../store/default-options.js';
import { openStore } from '../store/open.js';

/**
 * The store and a request context for commands that run interactions outside the
 * HTTP server (`ccri import` sends transaction Bundles through `transaction`), built
 * as `createServer` builds its own.
 */
export async function createContext(config: Config, options: { logger?: Logger; clock?: () => number } = {}): Promise<RequestContext> {
  const clock = options.clock ?? Date.now;
  const store = await openStore({
    ...defaultStoreOptions(clock, config.baseUrl),
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
    dataDir: config.dataDir,
  });
  const cursorSecret = config.cursorSecret ?? (await store.setting('cursor-secret', () => randomBytes(32).toString('base64url')));
  return {
    store,
    registry: searchRegistry(),
    config: { baseUrl: config.baseUrl, defaultCount: config.defaultCount, maxCount: config.maxCount, cursorSecret, validation: config.validation },
    clock,
    // Commands log errors only (CCRI_LOG_LEVEL to see more): a load would otherwise print a line per warning.
    log: options.logger ?? pino({ level: process.env.CCRI_LOG_LEVEL ?? 'error' }, pino.destination(2)),
  };
}

/** Seconds with one decimal, and a rate per second. */
export function timing(count: number, ms: number): string {
  const s = ms / 1000;
  return `${s.toFixed(1)} s, ${Math.round(count / Math.max(s, 0.001)).toLocaleString('en-GB')} resources/s`;
}
