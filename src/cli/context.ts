import pino from 'pino';
import type { Config } from '../config.js';
import { createContext as create } from '../context.js';
import type { Logger, RequestContext } from '../interactions/types.js';

/**
 * The context for commands: like the server's, but logging errors only to stderr
 * (CCRI_LOG_LEVEL to see more): a load would otherwise print a line per warning.
 */
export function createContext(config: Config, options: { logger?: Logger; clock?: () => number } = {}): Promise<RequestContext> {
  return create(config, {
    logger: options.logger ?? pino({ level: process.env.CCRI_LOG_LEVEL ?? 'error' }, pino.destination(2)),
    ...(options.clock ? { clock: options.clock } : {}),
  });
}

/** Seconds with one decimal, and a rate per second. */
export function timing(count: number, ms: number): string {
  const s = ms / 1000;
  return `${s.toFixed(1)} s, ${Math.round(count / Math.max(s, 0.001)).toLocaleString('en-GB')} resources/s`;
}
