import pino from 'pino';
import type { Config } from '../config.js';
import { openContext } from '../context.js';
import type { FhirResponse, Incoming, Logger, ServerContext } from '../interactions/types.js';
import { createPipeline } from '../pipeline/dispatch.js';
import { openPolicy } from '../pipeline/policy.js';
import type { StoreAdmin } from '../store/store.js';

/** What a command works with: the store with its administration, and the request pipeline as the operator. */
export interface CommandContext {
  server: ServerContext;
  store: StoreAdmin;
  /** Runs a request through the pipeline, as the operator at the command line (who sees everything). */
  dispatch(incoming: Incoming): Promise<FhirResponse>;
}

/**
 * The context for commands: like the server's, but logging errors only to stderr
 * (CCRI_LOG_LEVEL to see more): a load would otherwise print a line per warning.
 */
export async function createContext(config: Config, options: { logger?: Logger; clock?: () => number } = {}): Promise<CommandContext> {
  const { server, store, interrupted } = await openContext(config, {
    logger: options.logger ?? pino({ level: process.env.CCRI_LOG_LEVEL ?? 'error' }, pino.destination(2)),
    ...(options.clock ? { clock: options.clock } : {}),
    // The operator's loads do not wait on a remote terminology server (nor does `ccri import`'s bulk path).
    terminologyServer: false,
  });
  // Commands log errors only: the operator is told here, whatever the log level.
  if (interrupted) console.error(`Warning: ${interrupted}`);
  // The operator's own loads are not held to the limits that protect the server from its
  // clients: a Synthea patient's transaction Bundle has thousands of entries.
  server.config = { ...server.config, bundleMaxEntries: Number.MAX_SAFE_INTEGER, bundleMaxResponseBytes: Number.MAX_SAFE_INTEGER };
  const pipeline = createPipeline(server, { url: config.baseUrl, policy: openPolicy('system') });
  return { server, store, dispatch: (incoming) => pipeline.dispatch(incoming) };
}

/** Seconds with one decimal, and a rate per second. */
export function timing(count: number, ms: number): string {
  const s = ms / 1000;
  return `${s.toFixed(1)} s, ${Math.round(count / Math.max(s, 0.001)).toLocaleString('en-GB')} resources/s`;
}
