import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { INNER_SEARCH_MAX, INNER_SEARCH_MAX_SETTING } from './store/sql/inner-searches.js';
import { isPostgresUrl, withoutPassword } from './store/url.js';
import { checkUrl, DEFAULT_SYSTEMS, RemoteTerminology } from './terminology/remote.js';

/**
 * Configuration: command-line flags win over environment variables, which win over
 * the defaults here. Every setting is listed in the README.
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  /** The public base URL of the FHIR API; defaults to http://localhost:{port}/STU3. */
  baseUrl: string;
  basePath: string;
  defaultCount: number;
  maxCount: number;
  /** Signs paging cursors; when unset, a secret is generated once and kept in the store. */
  cursorSecret?: string;
  /**
   * Profile validation of writes: off; warn (log, and return with Prefer: return=OperationOutcome);
   * enforce (422 on errors); claimed (enforce for resources that claim a profile in meta.profile,
   * warn for the rest).
   */
  validation: ValidationSetting;
  /**
   * Search parameters the server does not know or support: strict (400, listing the valid
   * ones) or lenient (ignored, with a warning in the Bundle). `Prefer: handling=` overrides it.
   */
  searchHandling: SearchHandling;
  bodyLimit: number;
  /**
   * How long one database query of a request may run (ms; 0 for no limit): PostgreSQL's
   * statement_timeout, an interrupt on SQLite. Past it the request is a 400 too-costly.
   */
  queryTimeoutMs: number;
  /**
   * The most resources the inner search of one chain or `_has` may match (10,000 by default;
   * 1 to 100,000); past it the search is a 400 too-costly.
   */
  innerSearchMax: number;
  /** The most entries a batch or transaction Bundle may have. */
  bundleMaxEntries: number;
  /** The most bytes the entries of a batch or transaction's answer may add up to. */
  bundleMaxResponseBytes: number;
  logLevel: string;
  /** Load the demo data set when the store is empty. */
  demoData: boolean;
  /** The open base: read and write (a local copy), read only (a public demo), or not served. */
  openApi: OpenApiMode;
  /** Where the secure base is served (bearer tokens). */
  securePath: string;
  /** The public URL of the secure base: the same origin as `baseUrl`, at `securePath`. */
  secureBaseUrl: string;
  /** An external identity provider whose tokens the secure base accepts (the embedded one is then off). */
  auth?: { issuer: string; jwksUrl?: string; discoveryUrl?: string };
  /** PEM files of the certificate and key to serve HTTPS with. */
  tls?: { cert: string; key: string };
  /** Opens dynamic client registration (RFC 7591) at /auth/register, requiring this as the initial access token. */
  registrationToken?: string;
  /**
   * Lets the authorization server fetch a client's JWKS (jwks_uri) from loopback and private
   * addresses. Off by default: such fetches are refused, so that a registration cannot make
   * the server call into its own network (SSRF).
   */
  authFetchPrivate: boolean;
  /**
   * Behind a reverse proxy that sets them: the client's address from X-Forwarded-For, and
   * links and Locations from X-Forwarded-Proto and -Host. Off by default: the headers are
   * then ignored and links name the configured base URL.
   */
  trustProxy: boolean;
  /** At most this many requests a minute from one address (0: no limit); loopback is exempt unless `rateLimitLoopback`. */
  rateLimit: number;
  rateLimitLoopback: boolean;
  /** On SIGTERM or SIGINT, how long in-flight requests may take to finish before the process stops anyway. */
  shutdownGraceMs: number;
  /**
   * `/metrics` in Prometheus's text format (docs/operations-guide.md). Served to this machine
   * only (a loopback connection that no proxy forwarded), or, when `metricsToken` is set, to
   * any caller that presents it as a bearer token.
   */
  metrics: boolean;
  metricsToken?: string;
  /**
   * Load shedding (503 with Retry-After while over any of these; 0 turns one off): the event
   * loop's mean delay over a sample, V8's heap in use, the resident set.
   */
  shed: { eventLoopDelayMs: number; heapBytes: number; rssBytes: number };
  /**
   * Slow clients (docs/limits.md): how long the request line and headers, and the whole request
   * with its body, may take to arrive (408 past either); how long a kept-alive connection may
   * sit idle; how many connections may be open at once (more are closed at once). 0: no limit.
   */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** Audit of use (docs/audit.md): an AuditEvent for every request, on by default. */
  audit: boolean;
  /** Also append every AuditEvent, as one JSON line, to this file (for a log shipper). */
  auditLog?: string;
  /** This node's name: the AuditEvents' source site, and the name of its audit chain. */
  nodeName: string;
  /**
   * How many processes serve (`ccri serve --workers`, CCRI_WORKERS): above 1, a primary process
   * forks that many workers sharing the port (node:cluster), each a node of its own (docs/deploy.md).
   */
  workers: number;
  /** Seconds a finished bulk export's files (and its status) are kept (CCRI_EXPORT_TTL). */
  exportTtl: number;
  /**
   * A remote FHIR STU3 terminology server (CCRI_TERMINOLOGY_URL) for the code systems this server
   * cannot hold: the validator and search's `:in`, `:not-in`, `:below` and `:above` ask it.
   */
  terminology?: TerminologyConfig;
  /** Extra CodeSystems and ValueSets the server holds (CCRI_DEFINITIONS, `ccri serve --definitions`): files or folders. */
  definitions: string[];
}

export interface TerminologyConfig {
  url: string;
  /** The longest one call may take (ms). */
  timeoutMs: number;
  /** The most answers cached (0: none). */
  cacheEntries: number;
  /** How long an answer is cached (seconds). */
  cacheTtl: number;
  /** The code systems it is asked about, or '*' for every one this server does not hold. */
  systems: string[] | '*';
}

/** The terminology server's settings from the environment, for `url` (a flag's, or CCRI_TERMINOLOGY_URL). */
export function terminologyConfig(url: string, env: NodeJS.ProcessEnv = process.env): TerminologyConfig {
  const systems = env.CCRI_TERMINOLOGY_SYSTEMS?.trim();
  const config: TerminologyConfig = {
    url: checkUrl(url),
    timeoutMs: int('CCRI_TERMINOLOGY_TIMEOUT_MS', env.CCRI_TERMINOLOGY_TIMEOUT_MS, 5000),
    cacheEntries: int('CCRI_TERMINOLOGY_CACHE_SIZE', env.CCRI_TERMINOLOGY_CACHE_SIZE, 10_000),
    cacheTtl: int('CCRI_TERMINOLOGY_CACHE_TTL', env.CCRI_TERMINOLOGY_CACHE_TTL, 3600),
    systems: !systems ? [...DEFAULT_SYSTEMS] : systems === '*' ? '*' : systems.split(',').map((x) => x.trim()).filter(Boolean),
  };
  if (config.timeoutMs < 1) throw new Error('CCRI_TERMINOLOGY_TIMEOUT_MS must be at least 1 (ms)');
  if (config.cacheTtl < 1) throw new Error('CCRI_TERMINOLOGY_CACHE_TTL must be at least 1 (seconds)');
  return config;
}

/** The client of a configured terminology server. */
export function terminologyClient(config: TerminologyConfig): RemoteTerminology {
  return new RemoteTerminology({ url: config.url, timeoutMs: config.timeoutMs, cacheEntries: config.cacheEntries, cacheTtlMs: config.cacheTtl * 1000, systems: config.systems });
}

/** The most processes `ccri serve --workers` forks: each holds its own connections to the store. */
export const MAX_WORKERS = 64;

/**
 * The node name of worker `index` (1, 2, …) of a node named `name`: each worker writes an audit
 * chain of its own (docs/audit.md, one chain per node), and a replacement of a worker that died
 * goes on with that worker's chain.
 */
export function workerNodeName(name: string, index: number): string {
  return `${name}-w${index}`;
}

export type OpenApiMode = 'readwrite' | 'read' | 'off';

export type ValidationSetting = 'off' | 'warn' | 'enforce' | 'claimed';
const VALIDATION_SETTINGS: readonly string[] = ['off', 'warn', 'enforce', 'claimed'];
export type SearchHandling = 'strict' | 'lenient';

export type ConfigOverrides = Partial<Omit<Config, 'baseUrl' | 'secureBaseUrl' | 'shed'>> & { baseUrl?: string; shed?: Partial<Config['shed']> };

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not '${value}'`);
  return n;
}

function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new Error(`${name} must be on or off, not '${value}'`);
}

function port(name: string, value: string | number): number {
  const n = typeof value === 'number' ? value : value.trim() === '' ? NaN : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a whole number from 0 to 65535 (0 for any free port), not '${value}'`);
  return n;
}

/** 90% of V8's heap limit (--max-old-space-size): past it, garbage collection is nearly all the process does. */
function defaultShedHeapBytes(): number {
  return Math.floor(getHeapStatistics().heap_size_limit * 0.9);
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const envPort = env.CCRI_PORT ?? env.PORT;
  const listenPort = overrides.port !== undefined ? port('port', overrides.port) : envPort ? port(env.CCRI_PORT ? 'CCRI_PORT' : 'PORT', envPort) : 8080;
  const basePath = overrides.basePath ?? '/STU3';
  const validation = (overrides.validation ?? env.CCRI_VALIDATION ?? 'claimed') as Config['validation'];
  if (!VALIDATION_SETTINGS.includes(validation)) throw new Error(`CCRI_VALIDATION must be off, warn, enforce or claimed, not '${validation}'`);
  const searchHandling = (overrides.searchHandling ?? env.CCRI_SEARCH_HANDLING ?? 'strict') as SearchHandling;
  if (searchHandling !== 'strict' && searchHandling !== 'lenient') throw new Error(`CCRI_SEARCH_HANDLING must be strict or lenient, not '${String(searchHandling)}'`);
  const openApi = (overrides.openApi ?? env.CCRI_OPEN_API ?? 'readwrite') as OpenApiMode;
  if (!['readwrite', 'read', 'off'].includes(openApi)) throw new Error(`CCRI_OPEN_API must be readwrite, read or off, not '${openApi}'`);
  const securePath = (overrides.securePath ?? env.CCRI_SECURE_PATH ?? '/secure/STU3').replace(/\/+$/, '');
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(securePath)) throw new Error(`CCRI_SECURE_PATH must be a path such as /secure/STU3, not '${securePath}'`);
  if (securePath === basePath) throw new Error(`CCRI_SECURE_PATH must differ from the open base's path (${basePath})`);
  const tls = overrides.tls ?? (env.CCRI_TLS_CERT || env.CCRI_TLS_KEY ? { cert: env.CCRI_TLS_CERT ?? '', key: env.CCRI_TLS_KEY ?? '' } : undefined);
  if (tls && (!tls.cert || !tls.key)) throw new Error('HTTPS needs both a certificate and a key (--tls-cert and --tls-key, or CCRI_TLS_CERT and CCRI_TLS_KEY)');
  const config: Config = {
    port: listenPort,
    host: overrides.host ?? env.CCRI_HOST ?? 'localhost',
    dataDir: overrides.dataDir ?? env.CCRI_DATA_DIR ?? 'data',
    baseUrl: (overrides.baseUrl ?? env.CCRI_BASE_URL ?? `${tls ? 'https' : 'http'}://localhost:${listenPort}${basePath}`).replace(/\/+$/, ''),
    basePath,
    defaultCount: overrides.defaultCount ?? int('CCRI_DEFAULT_COUNT', env.CCRI_DEFAULT_COUNT, 10),
    maxCount: overrides.maxCount ?? int('CCRI_MAX_COUNT', env.CCRI_MAX_COUNT, 100),
    validation,
    searchHandling,
    bodyLimit: overrides.bodyLimit ?? int('CCRI_BODY_LIMIT', env.CCRI_BODY_LIMIT, 16 * 1024 * 1024),
    queryTimeoutMs: overrides.queryTimeoutMs ?? int('CCRI_QUERY_TIMEOUT_MS', env.CCRI_QUERY_TIMEOUT_MS, 10_000),
    innerSearchMax: overrides.innerSearchMax ?? int('CCRI_INNER_SEARCH_MAX', env.CCRI_INNER_SEARCH_MAX, INNER_SEARCH_MAX),
    bundleMaxEntries: overrides.bundleMaxEntries ?? int('CCRI_BUNDLE_MAX_ENTRIES', env.CCRI_BUNDLE_MAX_ENTRIES, 1000),
    bundleMaxResponseBytes: overrides.bundleMaxResponseBytes ?? int('CCRI_BUNDLE_MAX_RESPONSE_BYTES', env.CCRI_BUNDLE_MAX_RESPONSE_BYTES, 16 * 1024 * 1024),
    logLevel: overrides.logLevel ?? env.CCRI_LOG_LEVEL ?? 'info',
    demoData: overrides.demoData ?? env.CCRI_DEMO_DATA !== 'false',
    openApi,
    securePath,
    secureBaseUrl: '',
    authFetchPrivate: overrides.authFetchPrivate ?? env.CCRI_AUTH_FETCH_PRIVATE === 'true',
    trustProxy: overrides.trustProxy ?? onOff('CCRI_TRUST_PROXY', env.CCRI_TRUST_PROXY, false),
    rateLimit: overrides.rateLimit ?? int('CCRI_RATE_LIMIT', env.CCRI_RATE_LIMIT, 1200),
    rateLimitLoopback: overrides.rateLimitLoopback ?? onOff('CCRI_RATE_LIMIT_LOOPBACK', env.CCRI_RATE_LIMIT_LOOPBACK, false),
    shutdownGraceMs: overrides.shutdownGraceMs ?? int('CCRI_SHUTDOWN_GRACE_MS', env.CCRI_SHUTDOWN_GRACE_MS, 10_000),
    metrics: overrides.metrics ?? onOff('CCRI_METRICS', env.CCRI_METRICS, true),
    shed: {
      eventLoopDelayMs: overrides.shed?.eventLoopDelayMs ?? int('CCRI_SHED_EVENT_LOOP_DELAY_MS', env.CCRI_SHED_EVENT_LOOP_DELAY_MS, 0),
      heapBytes: overrides.shed?.heapBytes ?? int('CCRI_SHED_HEAP_BYTES', env.CCRI_SHED_HEAP_BYTES, defaultShedHeapBytes()),
      rssBytes: overrides.shed?.rssBytes ?? int('CCRI_SHED_RSS_BYTES', env.CCRI_SHED_RSS_BYTES, 0),
    },
    headersTimeoutMs: overrides.headersTimeoutMs ?? int('CCRI_HEADERS_TIMEOUT_MS', env.CCRI_HEADERS_TIMEOUT_MS, 10_000),
    requestTimeoutMs: overrides.requestTimeoutMs ?? int('CCRI_REQUEST_TIMEOUT_MS', env.CCRI_REQUEST_TIMEOUT_MS, 60_000),
    keepAliveTimeoutMs: overrides.keepAliveTimeoutMs ?? int('CCRI_KEEP_ALIVE_TIMEOUT_MS', env.CCRI_KEEP_ALIVE_TIMEOUT_MS, 10_000),
    maxConnections: overrides.maxConnections ?? int('CCRI_MAX_CONNECTIONS', env.CCRI_MAX_CONNECTIONS, 1000),
    audit: overrides.audit ?? onOff('CCRI_AUDIT', env.CCRI_AUDIT, true),
    nodeName: overrides.nodeName ?? env.CCRI_NODE_NAME ?? hostname(),
    workers: overrides.workers ?? int('CCRI_WORKERS', env.CCRI_WORKERS, 1),
    exportTtl: overrides.exportTtl ?? int('CCRI_EXPORT_TTL', env.CCRI_EXPORT_TTL, 3600),
    definitions: overrides.definitions ?? (env.CCRI_DEFINITIONS ? env.CCRI_DEFINITIONS.split(',').map((x) => x.trim()).filter(Boolean) : []),
  };
  const terminologyUrl = overrides.terminology?.url ?? env.CCRI_TERMINOLOGY_URL;
  if (overrides.terminology) config.terminology = overrides.terminology;
  else if (terminologyUrl) {
    try {
      config.terminology = terminologyConfig(terminologyUrl, env);
    } catch (err) {
      throw new Error(`CCRI_TERMINOLOGY_URL: ${(err as Error).message}`);
    }
  }
  if (!/^[A-Za-z0-9._:-]{1,100}$/.test(config.nodeName)) throw new Error(`CCRI_NODE_NAME must be 1 to 100 letters, digits, '.', '_', ':' or '-', not '${config.nodeName}'`);
  const auditLog = overrides.auditLog ?? env.CCRI_AUDIT_LOG;
  if (auditLog) config.auditLog = auditLog;
  const metricsToken = overrides.metricsToken ?? env.CCRI_METRICS_TOKEN;
  if (metricsToken) {
    if (metricsToken.length < 16 || !/^[\x21-\x7e]+$/.test(metricsToken)) throw new Error('CCRI_METRICS_TOKEN must be at least 16 printable characters without spaces');
    config.metricsToken = metricsToken;
  }
  // Node refuses a header timeout longer than the whole request's.
  if (config.requestTimeoutMs > 0 && config.headersTimeoutMs > config.requestTimeoutMs) {
    throw new Error(`CCRI_HEADERS_TIMEOUT_MS (${config.headersTimeoutMs}) must not be longer than CCRI_REQUEST_TIMEOUT_MS (${config.requestTimeoutMs}): the headers are part of the request`);
  }
  if (config.exportTtl < 1) throw new Error('CCRI_EXPORT_TTL must be at least 1 (seconds)');
  if (config.workers < 1 || config.workers > MAX_WORKERS) throw new Error(`CCRI_WORKERS must be a whole number from 1 to ${MAX_WORKERS}, not '${config.workers}'`);
  if (config.innerSearchMax < 1 || config.innerSearchMax > INNER_SEARCH_MAX_SETTING) throw new Error(`CCRI_INNER_SEARCH_MAX must be 1 to ${INNER_SEARCH_MAX_SETTING}, not ${config.innerSearchMax}`);
  // Beside the open base: its URL with the open base's path replaced (a proxy's path prefix is kept).
  config.secureBaseUrl = config.baseUrl.endsWith(basePath) ? `${config.baseUrl.slice(0, -basePath.length)}${securePath}` : `${new URL(config.baseUrl).origin}${securePath}`;
  const databaseUrl = overrides.databaseUrl ?? env.DATABASE_URL;
  if (databaseUrl) {
    // A URL that names no PostgreSQL database is a mistake, not a request for SQLite.
    if (!isPostgresUrl(databaseUrl)) throw new Error(`The database URL (--database-url or DATABASE_URL) must start with postgres:// or postgresql://, not '${withoutPassword(databaseUrl)}'; leave it unset to use SQLite`);
    config.databaseUrl = databaseUrl;
  }
  const issuer = overrides.auth?.issuer ?? env.CCRI_AUTH_ISSUER;
  if (issuer) {
    const jwksUrl = overrides.auth?.jwksUrl ?? env.CCRI_AUTH_JWKS_URL;
    const discoveryUrl = overrides.auth?.discoveryUrl ?? env.CCRI_AUTH_DISCOVERY;
    if (!jwksUrl && !discoveryUrl) throw new Error('CCRI_AUTH_ISSUER needs CCRI_AUTH_JWKS_URL or CCRI_AUTH_DISCOVERY: where the issuer publishes its keys');
    config.auth = { issuer, ...(jwksUrl ? { jwksUrl } : {}), ...(discoveryUrl ? { discoveryUrl } : {}) };
  } else if (env.CCRI_AUTH_JWKS_URL || env.CCRI_AUTH_DISCOVERY) {
    throw new Error('CCRI_AUTH_JWKS_URL and CCRI_AUTH_DISCOVERY need CCRI_AUTH_ISSUER: the issuer whose tokens to accept');
  }
  if (tls) config.tls = tls;
  const cursorSecret = overrides.cursorSecret ?? env.CCRI_CURSOR_SECRET;
  if (cursorSecret) config.cursorSecret = cursorSecret;
  const registrationToken = overrides.registrationToken ?? env.CCRI_REGISTRATION_TOKEN;
  if (registrationToken) config.registrationToken = registrationToken;
  return config;
}
