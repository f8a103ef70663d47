import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger as PinoLogger } from 'pino';
import { externalIssuer } from './auth/external.js';
import type { TokenIssuer } from './auth/issuer.js';
import { securePolicy } from './auth/policy.js';
import { smartScopes } from './auth/scopes.js';
import type { Config } from './config.js';
import { type AuthEvent, type AuthServer, authServer, AUTH_PREFIX } from './auth/server/index.js';
import { ensureClient } from './auth/server/clients.js';
import { createDemoUsers, type DemoUser } from './auth/server/demo-users.js';
import { DEMO_LOAD, openContext } from './context.js';
import { loadDemoData } from './data/demo.js';
import { ExportJobs, type ExportJobsOptions } from './data/export-jobs.js';
import { type AppOptions, buildApp } from './http/app.js';
import { Metrics } from './http/metrics.js';
import type { BaseSecurity, FhirResponse, Incoming, Logger, ServerContext } from './interactions/types.js';
import { AuditWriter, auditRecorder, otherEventFacts } from './audit/recorder.js';
import { AuditThread } from './audit/thread.js';
import { storeLocation } from './store/open.js';
import { createPipeline, type Pipeline, type Recorder } from './pipeline/dispatch.js';
import { openPolicy } from './pipeline/policy.js';
import { loadConformance } from './profiles/load.js';
import type { StoreAdmin } from './store/store.js';
import { servedCapabilityStatement } from './ui/capability.js';
import { explorerPlugin } from './ui/plugin.js';
import { EXPLORER_CLIENT_ID, EXPLORER_CLIENT_NAME, explorerRedirects, registeredExplorerScopes, type SignInConfig } from './ui/sign-in.js';

export interface Server {
  app: FastifyInstance;
  /** The store, with its administration (tests and the commands use it; requests never do). */
  store: StoreAdmin;
  server: ServerContext;
  /** The pipelines of the bases served. */
  bases: { open?: Pipeline; secure?: Pipeline };
  /** Runs a request through the open base's pipeline in process, as HTTP requests are. */
  dispatch(incoming: Incoming): Promise<FhirResponse>;
  /** The embedded authorization server (its TokenIssuer for the secure base), unless an external provider issues the tokens. */
  auth?: AuthServer;
  /** The demo users made at this start, with their passwords (shown once by `ccri serve`). */
  demoUsers: DemoUser[];
  /** The audit trail's writer, unless audit is off (CCRI_AUDIT=off). */
  audit?: AuditWriter;
  close(): Promise<void>;
}

export interface ServerOptions {
  logger?: Logger | false;
  clock?: () => number;
  /** Whose tokens the secure base accepts, instead of the configured issuer (tests). */
  issuer?: TokenIssuer;
  /** How bulk export jobs are looked for and taken up again (tests shorten them). */
  exports?: Pick<ExportJobsOptions, 'pollMs' | 'staleMs' | 'pageSize'>;
  /** How often the load shedder measures the event loop and memory (1000 ms; tests shorten it). */
  shedSampleMs?: number;
}

/**
 * Wires the store, the pipelines of the open and the secure base, and the HTTP app
 * together (without listening). Tests use this with `app.inject()`; `ccri serve` adds
 * `listen`.
 */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Server> {
  const log: Logger = options.logger === false ? pino({ enabled: false }) : (options.logger ?? pino({ level: config.logLevel }));
  const { server, store } = await openContext(config, { logger: log, ...(options.clock ? { clock: options.clock } : {}) });
  // A bulk load by another process now keeps the indexes this server's searches use.
  await store.holdServing();
  const demoUsers: DemoUser[] = [];
  // What a first start does once, under the store's lock: nodes (or the workers of `ccri serve --workers`)
  // starting together take turns, and the next finds it done rather than loading the demo data set again.
  await store.exclusively(async () => {
    // The demo data set goes into an empty store, and into one whose first start was cut short while loading it
    // (the load record another node's load in progress leaves is not seen here: it holds the lock meanwhile).
    if (config.demoData && ((await store.counts()).size === 0 || (await store.interruptedLoad())?.command === DEMO_LOAD)) {
      await store.recordLoad(DEMO_LOAD);
      await loadDemoData(store, log);
      await store.recordLoad(undefined);
      if (!config.auth) demoUsers.push(...(await createDemoUsers(store.auth())));
    }
  });
  // After the demo data check, which looks for an empty store.
  const conformance = await loadConformance(store);
  log.info(conformance, 'Care Connect conformance resources loaded');
  // Bulk export jobs: any node polls them from the store and runs one at a time.
  const exports = new ExportJobs({ store, dataDir: config.dataDir, ttlMs: config.exportTtl * 1000, log, ...(options.clock ? { clock: options.clock } : {}), ...options.exports });
  server.bulk = exports;
  exports.run();

  // One writer of this node's audit chain; each base's recorder names the base in its events' source.
  const location = storeLocation({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir }, store);
  const thread = config.audit && location && new AuditThread({ location, chain: config.nodeName, queryTimeoutMs: config.queryTimeoutMs, baseUrl: config.baseUrl }, log);
  // The events of reads are handed to the audit thread on PostgreSQL; on SQLite they are journaled on this thread, and the audit thread moves them into the chain (docs/audit.md, "Where the work is done").
  const handOff = Boolean(location && 'databaseUrl' in location);
  const audit = config.audit ? new AuditWriter({ store: store.audit(), chain: config.nodeName, log, handOff, ...(thread ? { thread } : {}), ...(config.auditLog ? { file: config.auditLog } : {}) }) : undefined;
  // On a SQLite file, the events of reads are made durable in this node's journal beside it (docs/audit.md, "Durable").
  if (audit && thread && !handOff && !(await store.audit().journal(config.nodeName, (chain, events) => thread.move(chain, events)))) {
    log.warn({ chain: config.nodeName }, 'another process journals this audit chain (a second server with the same node name?): the events of reads are committed batch by batch instead');
  }
  const recorder = (url: string): { recorder?: Recorder } => (audit ? { recorder: auditRecorder({ writer: audit, source: { site: config.nodeName, base: url } }) } : {});

  const bases: Server['bases'] = {};
  const mounted: AppOptions['bases'] = [];
  if (config.openApi !== 'off') {
    const readOnly = config.openApi === 'read' ? { readOnly: { secureBase: config.secureBaseUrl } } : {};
    bases.open = createPipeline(server, { url: config.baseUrl, policy: openPolicy('anonymous', readOnly), ...recorder(config.baseUrl) });
    mounted.push({ name: 'open', path: config.basePath, pipeline: bases.open, url: config.baseUrl });
  }
  // The embedded authorization server at /auth, unless the tokens come from an external provider.
  const auth = config.auth
    ? undefined
    : await authServer({
        store,
        publicUrl: config.baseUrl,
        secureBaseUrl: config.secureBaseUrl,
        log,
        fetchPrivate: config.authFetchPrivate,
        ...(config.registrationToken ? { registrationToken: config.registrationToken } : {}),
        ...(audit ? { events: authEvents(audit, { site: config.nodeName, base: `${new URL(config.baseUrl).origin}${AUTH_PREFIX}` }) } : {}),
      });
  const issuer = options.issuer ?? (config.auth ? await externalIssuer(config.auth) : auth?.issuer);
  if (issuer) {
    const policy = securePolicy({ url: config.secureBaseUrl, issuer, registry: server.registry, ...(options.clock ? { clock: options.clock } : {}) });
    bases.secure = createPipeline(server, { url: config.secureBaseUrl, policy, security: securityOf(issuer), ...recorder(config.secureBaseUrl) });
    mounted.push({ name: 'secure', path: config.securePath, pipeline: bases.secure, url: config.secureBaseUrl, rateKeyOf: (authorization) => policy.rateKeyOf!(authorization) });
  }
  const metrics = config.metrics
    ? new Metrics({
        database: store,
        ...(audit ? { audit: { queued: () => audit.queued, lag: () => store.audit().lag() } } : {}),
        ...(config.metricsToken ? { token: config.metricsToken } : {}), bases: mounted.map((b) => ({ path: b.path, name: b.name })),
      })
    : undefined;
  const https = config.tls ? { cert: readPem(config.tls.cert, 'certificate'), key: readPem(config.tls.key, 'key') } : undefined;
  const app = await buildApp({
    bases: mounted,
    plugins: auth ? [{ prefix: AUTH_PREFIX, plugin: auth.plugin }] : [],
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    ready: () => store.ping(),
    rateLimit: { perMinute: config.rateLimit, loopback: config.rateLimitLoopback },
    shed: { ...config.shed, ...(options.shedSampleMs ? { sampleMs: options.shedSampleMs } : {}) },
    connections: { headersTimeoutMs: config.headersTimeoutMs, requestTimeoutMs: config.requestTimeoutMs, keepAliveTimeoutMs: config.keepAliveTimeoutMs, maxConnections: config.maxConnections },
    ...(metrics ? { metrics } : {}),
    ...(isPino(log) ? { logger: log } : {}),
    ...(https ? { https } : {}),
  });
  // The explorer's pages call the API from the browser; its OpenAPI document is built from the CapabilityStatement, asked for through a base's pipeline.
  const described = bases.open ?? bases.secure;
  if (described) {
    const signIn = await explorerSignIn(config, store, auth && bases.secure ? auth : undefined);
    await app.register(explorerPlugin, {
      openBase: bases.open ? config.baseUrl : config.secureBaseUrl,
      ...(bases.secure ? { secureBase: config.secureBaseUrl } : {}),
      signIn,
      capabilityStatement: () => servedCapabilityStatement((incoming) => described.dispatch(incoming)),
      log,
    });
  }
  return {
    app,
    store,
    server,
    bases,
    auth,
    demoUsers,
    ...(audit ? { audit } : {}),
    dispatch: (incoming) => {
      if (!bases.open) throw new Error('The open base is off (CCRI_OPEN_API=off)');
      return bases.open.dispatch(incoming);
    },
    close: async () => {
      // Every part is closed even when one before it fails (its files gone, say); the first failure is thrown once all have been tried.
      const failures: unknown[] = [];
      for (const step of [() => exports.stop(), () => app.close(), () => metrics?.close(), () => audit?.close(), () => auth?.close(), () => store.close(), () => server.terminologyServer?.close()]) {
        try {
          await step();
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length) throw failures[0];
    },
  };
}

/**
 * The explorer is a SMART app of the embedded authorization server: a public client (PKCE),
 * registered under a fixed client_id at every start (idempotently, in the store, so every
 * node agrees), with its addresses derived from the configured public URL. With no embedded
 * server (an external identity provider issues the tokens), it says why it cannot sign anyone in.
 */
async function explorerSignIn(config: Config, store: StoreAdmin, auth: AuthServer | undefined): Promise<SignInConfig> {
  if (!auth) {
    const reason = config.auth
      ? `This server accepts tokens from an external identity provider (${config.auth.issuer}), so its own authorization server is off and the explorer cannot sign you in. A SMART app registered with that provider can call the secure base.`
      : 'This server has no authorization server to sign in with.';
    return { available: false, reason };
  }
  const { redirectUri, signedOutUri } = explorerRedirects(config.baseUrl);
  await ensureClient(store.auth(), {
    clientId: EXPLORER_CLIENT_ID,
    name: EXPLORER_CLIENT_NAME,
    grant: 'authorization_code',
    public: true,
    redirectUris: [redirectUri],
    postLogoutRedirectUris: [signedOutUri],
    scope: registeredExplorerScopes().join(' '),
  });
  return { available: true, issuer: auth.issuer.issuer, clientId: EXPLORER_CLIENT_ID, redirectUri, signedOutUri };
}

const AUTH_EVENTS: Record<AuthEvent['code'], { display: string; action: 'C' | 'E' }> = {
  'sign-in': { display: 'sign-in', action: 'E' },
  'token-issued': { display: 'access token issued', action: 'C' },
  'token-refused': { display: 'access token refused', action: 'C' },
  'client-registered': { display: 'client registered', action: 'C' },
};

/** The authorization server's events, recorded in the audit trail (docs/audit.md). */
function authEvents(audit: AuditWriter, source: { site: string; base: string }): (e: AuthEvent) => Promise<void> {
  return (e) => {
    const { display, action } = AUTH_EVENTS[e.code];
    return audit.write(
      otherEventFacts(
        {
          type: 'authentication',
          code: e.code,
          display,
          action,
          success: e.success,
          requestId: e.requestId,
          method: e.method,
          path: e.path,
          ...(e.user ? { user: e.user } : {}),
          ...(e.client ? { client: e.client } : {}),
          ...(e.address ? { address: e.address } : {}),
          ...(e.description ? { description: e.description } : {}),
        },
        Date.now(),
        source,
      ),
    );
  };
}

/** What the secure base declares about how it is secured (docs/security.md, "Discovery"). */
function securityOf(issuer: TokenIssuer): BaseSecurity {
  return {
    issuer: issuer.issuer,
    endpoints: issuer.endpoints,
    // What this resource server enforces; an issuer that launches apps adds its own (auth/server).
    capabilities: ['permission-patient', 'permission-user', ...(issuer.capabilities ?? [])],
    tokenEndpointAuthMethods: [...(issuer.tokenEndpointAuthMethods ?? ['client_secret_basic', 'private_key_jwt'])],
    scopesSupported: smartScopes(),
  };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`The TLS ${what} ${path} cannot be read: ${(err as Error).message}`);
  }
}

/** Whether a logger is pino's own (Fastify logs its access lines through it; any other logger only gets the pipeline's lines). */
function isPino(log: Logger): log is PinoLogger {
  return typeof (log as Partial<PinoLogger>).fatal === 'function' && typeof (log as Partial<PinoLogger>).level === 'string' && (log as PinoLogger).isLevelEnabled('fatal');
}
