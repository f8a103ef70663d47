import type { FastifyInstance } from 'fastify';
import pino, { type Logger as PinoLogger } from 'pino';
import type { Config } from './config.js';
import { type AuthServer, authServer, AUTH_PREFIX } from './auth/server/index.js';
import { createDemoUsers, type DemoUser } from './auth/server/demo-users.js';
import { openContext } from './context.js';
import { loadDemoData } from './data/demo.js';
import { buildApp } from './http/app.js';
import type { FhirResponse, Incoming, Logger, ServerContext } from './interactions/types.js';
import { createPipeline } from './pipeline/dispatch.js';
import { openPolicy } from './pipeline/policy.js';
import { loadConformance } from './profiles/load.js';
import type { StoreAdmin } from './store/store.js';

export interface Server {
  app: FastifyInstance;
  /** The store, with its administration (tests and the commands use it; requests never do). */
  store: StoreAdmin;
  server: ServerContext;
  /** Runs a request through the open base's pipeline in process, as HTTP requests are. */
  dispatch(incoming: Incoming): Promise<FhirResponse>;
  /** The embedded authorization server (its TokenIssuer for the secure base). */
  auth: AuthServer;
  /** The demo users made at this start, with their passwords (shown once by `ccri serve`). */
  demoUsers: DemoUser[];
  close(): Promise<void>;
}

/**
 * Wires the store, the pipeline and the HTTP app together (without listening).
 * Tests use this with `app.inject()`; `ccri serve` adds `listen`.
 */
export async function createServer(config: Config, options: { logger?: Logger | false; clock?: () => number } = {}): Promise<Server> {
  const log: Logger = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ level: config.logLevel }));
  const { server, store } = await openContext(config, { logger: log, ...(options.clock ? { clock: options.clock } : {}) });
  // A bulk load by another process now keeps the indexes this server's searches use.
  await store.holdServing();
  const demoUsers: DemoUser[] = [];
  if (config.demoData && (await store.counts()).size === 0) {
    await loadDemoData(store, log);
    demoUsers.push(...(await createDemoUsers(store.auth())));
  }
  // After the demo data check, which looks for an empty store.
  const conformance = await loadConformance(store);
  log.info(conformance, 'Care Connect conformance resources loaded');
  const open = createPipeline(server, { url: config.baseUrl, policy: openPolicy() });
  // The secure base's URL: until the secure base's settings land, /secure/STU3 on the public origin.
  const auth = await authServer({ store, publicUrl: config.baseUrl, secureBaseUrl: `${new URL(config.baseUrl).origin}/secure/STU3`, log, fetchPrivate: config.authFetchPrivate, ...(config.registrationToken ? { registrationToken: config.registrationToken } : {}) });
  const app = await buildApp({
    bases: [{ path: config.basePath, pipeline: open }],
    plugins: [{ prefix: AUTH_PREFIX, plugin: auth.plugin }],
    bodyLimit: config.bodyLimit,
    ...(isPino(log) ? { logger: log } : {}),
  });
  return {
    app,
    store,
    server,
    dispatch: (incoming) => open.dispatch(incoming),
    auth,
    demoUsers,
    close: async () => {
      await app.close();
      await auth.close();
      await store.close();
    },
  };
}

/** Whether a logger is pino's own (Fastify logs its access lines through it; any other logger only gets the pipeline's lines). */
function isPino(log: Logger): log is PinoLogger {
  return typeof (log as Partial<PinoLogger>).fatal === 'function' && typeof (log as Partial<PinoLogger>).level === 'string' && (log as PinoLogger).isLevelEnabled('fatal');
}
