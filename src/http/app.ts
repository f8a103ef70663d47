import { timeOrderedId } from '../fhir/ids.js';
import rateLimit from '@fastify/rate-limit';
import { trustOneProxyHop } from './proxy.js';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Duplex } from 'node:stream';
import { FhirError, issue, type IssueCode } from '../fhir/outcome.js';
import type { Logger } from '../interactions/types.js';
import { errorResponse, type Pipeline } from '../pipeline/dispatch.js';
import { fhirApi, frameworkError } from './fhir-api.js';
import { decodedBody } from './encoding.js';
import { type BaseName, isLoopback, type Metrics, type Rejection } from './metrics.js';
import { CONTENT_TYPE, type Format, responseFormat } from '../fhir/formats.js';
import { renderBody } from './render.js';

export interface AppOptions {
  /** The FHIR bases to mount: which (open or secure), where (a path such as /STU3) and with which pipeline. */
  bases: Array<{
    name: BaseName;
    path: string;
    pipeline: Pipeline;
    /** Its configured public URL. */
    url: string;
    /** Whom a request's verified bearer token was issued to, as a key (the secure base's Policy.rateKeyOf): the rate limit counts the request against it. */
    rateKeyOf?: (authorization: string) => string | undefined | Promise<string | undefined>;
  }>;
  /** Honour X-Forwarded-For, -Proto and -Host (CCRI_TRUST_PROXY). */
  trustProxy?: boolean;
  /** Largest accepted request body in bytes (413 above). */
  bodyLimit: number;
  /** Other plugins to mount beside the FHIR bases (the authorization server at /auth). */
  plugins?: Array<{ prefix: string; plugin: FastifyPluginAsync }>;
  /** The pino logger requests log through (one access-log line each), or none. */
  logger?: PinoLogger;
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { cert: Buffer; key: Buffer };
  /**
   * At most this many requests a minute from one client (429 above it): the client and user a
   * verified bearer token was issued to, on a base that verifies tokens; otherwise the request's address.
   * Loopback addresses are exempt unless `loopback`.
   */
  rateLimit?: { perMinute: number; loopback: boolean };
  /** Resolves when the server can serve (its store answers); throws with the reason when not. For /health/ready. */
  ready?: () => Promise<void>;
  /** Count requests and serve /metrics (http/metrics.ts). */
  metrics?: Metrics;
  /**
   * Load shedding (@fastify/under-pressure): while the event loop's mean delay over a sample, the
   * heap in use or the resident set is over its limit (0: not checked), requests are answered 503
   * with Retry-After, except /health/live and /metrics; /health/ready says it is not ready.
   * `sampleMs`: how often they are measured (1000 by default).
   */
  shed?: { eventLoopDelayMs: number; heapBytes: number; rssBytes: number; sampleMs?: number };
  /**
   * Slow clients: the time the request line and headers, and the whole request, may take to
   * arrive (408 past either); the idle time of a kept-alive connection; the most connections open
   * at once (more are closed at once). 0: no limit.
   */
  connections?: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
}

/** The rate limit's key for a request it lets through uncounted (loopback, unless limited too). */
const EXEMPT = 'exempt';

/** A request id a client may choose: short, and safe to put in a header and a log line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP server: the FHIR bases as plugins (fhir-api.ts), a request id for every
 * request (`X-Request-Id` when the client sent a well-formed one, otherwise generated;
 * echoed in the response and carried by every log line of the request), and one
 * access-log line per request.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { metrics } = options;
  const conn = options.connections;
  // Node checks the header and request timeouts every connectionsCheckingInterval (30 s by default, far coarser than the timeouts).
  const limits = conn ? [conn.headersTimeoutMs, conn.requestTimeoutMs].filter((ms) => ms > 0) : [];
  const serverOptions = limits.length ? { connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(Math.min(...limits) / 4))), headersTimeout: conn!.headersTimeoutMs, requestTimeout: conn!.requestTimeoutMs } : {};
  const accessLog = options.logger?.isLevelEnabled('info') === true;
  /** The access-log line and the count of an answered request. */
  const answered = (request: FastifyRequest, reply: FastifyReply) => {
    if (accessLog) request.log.info({ method: request.method, url: redact(request.originalUrl), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, address: request.ip }, 'request');
    metrics?.answered(request, reply);
  };
  const app = Fastify({
    ...(options.https ? { https: { ...serverOptions, ...options.https } } : { http: serverOptions }),
    ...(conn ? { requestTimeout: conn.requestTimeoutMs } : {}),
    // Behind a trusted proxy: request.ip from X-Forwarded-For (the address in the audit, the access log
    // and the rate limit). One hop only, from a proxy on this machine or a private network: the address
    // the proxy appended, never one a client put in front of it (proxy.ts).
    ...(options.trustProxy ? { trustProxy: trustOneProxyHop } : {}),
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Fastify's two lines per request give way to our one (the onResponse hook below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : timeOrderedId();
    },
    bodyLimit: options.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    // The absolute form of the request line (`GET http://host/STU3/Patient/1 HTTP/1.1`), which
    // RFC 7230 5.3.2 says servers must accept, is served as its path (issue 15, L6).
    rewriteUrl: (req) => originForm(req.url ?? '/'),
    // What Node's HTTP parser refuses before any route (malformed request lines and headers,
    // an unknown method, a URL or headers over 16 KB) is answered as an OperationOutcome too.
    clientErrorHandler: clientError(options.logger, (reason) => metrics?.reject(reason)),
    // Errors Fastify raises before routing (a malformed URL, say) get the OperationOutcome treatment too;
    // no hook runs for them, so the request id, the access-log line and the count are given here.
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id);
      sendPlain(request, reply, frameworkError(err));
      answered(request, reply);
    },
  });
  if (conn) {
    // Set on the server itself: Fastify would take 0 to mean its own default rather than no limit.
    app.server.keepAliveTimeout = conn.keepAliveTimeoutMs;
    if (conn.maxConnections > 0) app.server.maxConnections = conn.maxConnections;
  }
  app.server.on('drop', () => metrics?.reject('max-connections'));
  // Every request has the property, so that setting it does not change its object's shape (metrics.ts).
  app.decorateRequest('metricLabels', null);
  // Before any route: a route keeps the error handler in force where it is added.
  app.setErrorHandler((err, request, reply) => sendPlain(request, reply, frameworkError(err)));
  // First of all: an overloaded server refuses before doing any other work for a request.
  if (options.shed && (options.shed.eventLoopDelayMs > 0 || options.shed.heapBytes > 0 || options.shed.rssBytes > 0)) {
    await app.register(underPressure, shedding(options.shed, options.bases.map((b) => b.path), metrics));
    metrics?.gauge('ccri_shed_event_loop_delay_seconds', "The event loop's mean delay over the load shedder's last sample (what CCRI_SHED_EVENT_LOOP_DELAY_MS is compared with)", () => app.memoryUsage().eventLoopDelay / 1000);
  }
  // Compressed bodies are inflated before any parser reads them, within the body limit.
  // Not async: every request passes here, most with no body, and an async hook costs each a promise.
  app.addHook('preParsing', (request, _reply, payload, done) => {
    let decoded;
    try {
      decoded = decodedBody(request.raw, payload, options.bodyLimit);
    } catch (err) {
      done(err as Error);
      return;
    }
    done(null, decoded);
  });
  if (options.rateLimit && options.rateLimit.perMinute > 0) {
    const { perMinute, loopback } = options.rateLimit;
    const verifying = options.bases.filter((b) => b.rateKeyOf);
    /** The key of the request refused last: onExceeded is told it just before errorResponseBuilder, in the same turn. */
    let refusedKey = '';
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      // A token's holder only once its signature is checked: keyed on an unchecked claim, anyone
      // could use up another client's allowance. A token that does not verify counts as no token.
      // Not async: a token seen before is found without waiting, and each await costs a request.
      keyGenerator: (request) => {
        if (!loopback && isLoopback(request.ip)) return EXEMPT;
        const address = `address ${request.ip}`;
        const authorization = request.headers.authorization;
        if (authorization) {
          // The path as sent (request.routeOptions builds an object at each call): one that names
          // the base otherwise than plainly (`//`, say) is counted against its address.
          const url = request.url;
          const base = verifying.find((b) => url.startsWith(b.path) && (url.length === b.path.length || url[b.path.length] === '/' || url[b.path.length] === '?'));
          const holder = base?.rateKeyOf!(authorization);
          if (holder instanceof Promise) return holder.then((h) => (h ? `token ${h}` : address));
          if (holder) return `token ${holder}`;
        }
        return address;
      },
      // Tests, benchmarks and a local copy call from this machine.
      allowList: (_request, key) => key === EXEMPT,
      // The limits are said only when they are reached (Retry-After with the 429), not on every answer.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      onExceeded: (_request, key) => void (refusedKey = key),
      errorResponseBuilder: (_request, context) =>
        new FhirError(429, issue('throttled', `Too many requests from this ${refusedKey.startsWith('token ') ? "token's client and user" : 'address'}: at most ${context.max} a minute; try again in ${context.after}`)),
    });
  }
  // Once the server is stopping, the answers of the requests still in flight close their
  // connections: a kept-alive connection would otherwise hold the stop until it timed out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // Every answer sent through Fastify carries its request id (those refused before it are given one where they are written).
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  if (accessLog || metrics) {
    app.addHook('onResponse', (request, reply, done) => {
      answered(request, reply);
      done();
    });
  }
  await app.register(health(options.ready));
  if (metrics) metrics.route(app as unknown as FastifyInstance);
  for (const base of options.bases) await app.register(fhirApi, { prefix: base.path, base: base.name, pipeline: base.pipeline, bodyLimit: options.bodyLimit, url: base.url, trustProxy: options.trustProxy === true });
  for (const p of options.plugins ?? []) await app.register(p.plugin, { prefix: p.prefix });
  const where = options.bases.map((b) => b.path).join(' and ');
  app.setNotFoundHandler((request, reply) => sendPlain(request, reply, new FhirError(404, issue('not-found', `Nothing is served at ${request.url.split('?')[0]}; the FHIR API is at ${where}`))));
  return app as unknown as FastifyInstance;
}

/**
 * A request the HTTP parser could not read, or that did not arrive in time. Nothing of it
 * reached Fastify (no route, no request id of the client's): the answer is written to the
 * socket as Node's own would be, but with an OperationOutcome in FHIR JSON, and the connection
 * is closed. It gets an access-log line of its own, with a request id made for it.
 */
function clientError(log: PinoLogger | undefined, rejected: (reason: Rejection) => void): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, reason, code, text, counted]: [number, string, IssueCode, string, Rejection] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'timeout', 'The request was not received in time', 'timeout']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'too-costly', 'The request line and headers are larger than this server accepts (16 KB)', 'headers-too-large']
          : err.code === 'HPE_INVALID_METHOD'
            ? [400, 'Bad Request', 'not-supported', 'The request method is not one this server knows', 'malformed']
            : [400, 'Bad Request', 'structure', `The request is not valid HTTP/1.1 (${(err.code ?? 'malformed').replace(/[^A-Z_]/g, '')})`, 'malformed'];
    rejected(counted);
    const requestId = timeOrderedId();
    if (log?.isLevelEnabled('info')) log.info({ reqId: requestId, status, error: err.code ?? 'malformed', address: (socket as Duplex & { remoteAddress?: string }).remoteAddress }, 'request');
    const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] });
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${CONTENT_TYPE.json}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`);
    }
    socket.destroy(err);
  };
}

/**
 * The load shedder's options: over a limit, /health/live and /metrics are still answered (an
 * overloaded process is alive, and its metrics say why); /health/ready answers 503 so that a
 * balancer sends the traffic elsewhere; every other request gets a 503 OperationOutcome with
 * Retry-After (through its route's error handler: a FHIR base records it in the audit trail).
 */
function shedding(shed: NonNullable<AppOptions['shed']>, bases: readonly string[], metrics: Metrics | undefined) {
  const measures: Record<string, [string, (value: number) => string]> = {
    eventLoopDelay: ['event-loop delay', (v) => `${Math.round(v)} ms`],
    heapUsedBytes: ['heap in use', (v) => `${Math.round(v / 1048576)} MB`],
    rssBytes: ['resident memory', (v) => `${Math.round(v / 1048576)} MB`],
  };
  return {
    maxEventLoopDelay: shed.eventLoopDelayMs,
    maxHeapUsedBytes: shed.heapBytes,
    maxRssBytes: shed.rssBytes,
    ...(shed.sampleMs ? { sampleInterval: shed.sampleMs } : {}),
    retryAfter: SHED_RETRY_AFTER_S,
    pressureHandler: (request: FastifyRequest, reply: FastifyReply, type: string, value: number | undefined): void | Promise<void> => {
      const route = request.routeOptions.url;
      if (route === '/health/live' || route === '/metrics') return undefined;
      metrics?.shedding(type);
      const [what, shown] = measures[type] ?? [type, String];
      const reason = `the server is overloaded (${what} ${value === undefined ? '' : shown(value)} is over its limit)`;
      reply.header('retry-after', String(SHED_RETRY_AFTER_S));
      if (route === '/health/ready') {
        reply.code(503).header('cache-control', 'no-store').type('application/json');
        // A value the handler returns is what the plugin sends.
        return { status: 'unavailable', reason } as unknown as void;
      }
      const refusal = new FhirError(503, issue('throttled', `Not answered: ${reason}; try again later`), { 'Retry-After': String(SHED_RETRY_AFTER_S) });
      // Elsewhere (the explorer, /auth) the plugin sends the OperationOutcome returned; a FHIR base's own error handler answers in the negotiated format and records the refusal in the audit trail.
      if (route && bases.some((b) => route === b || route.startsWith(`${b}/`))) return Promise.reject(refusal);
      reply.code(503).type(CONTENT_TYPE.json);
      return refusal.toOperationOutcome() as unknown as void;
    },
  };
}

/** Seconds a shed request is told to wait before trying again. */
const SHED_RETRY_AFTER_S = 5;

/** The origin form (path and query) of a request target in absolute form; any other form as it is. */
export function originForm(url: string): string {
  const m = /^https?:\/\/[^/?#]*/i.exec(url);
  if (!m) return url;
  const rest = url.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** An error outside the FHIR bases, as an OperationOutcome in JSON. */
function sendPlain(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  const res = errorResponse(err, request.log as unknown as Logger);
  const format = plainFormat(request);
  reply
    .code(res.status)
    .headers(res.headers ?? {})
    .header('content-type', CONTENT_TYPE[format])
    .send(renderBody(res.body as Exclude<typeof res.body, { file: string } | undefined>, format, false));
}

/** The format a client asked for (`_format`, else `Accept`), for an error outside the FHIR routes; JSON when that cannot be told. */
function plainFormat(request: FastifyRequest): Format {
  try {
    const url = request.raw.url ?? '/';
    const q = url.indexOf('?');
    const formatParam = q < 0 ? undefined : (new URLSearchParams(url.slice(q + 1)).get('_format') ?? undefined);
    const accept = request.headers.accept;
    return responseFormat(formatParam, typeof accept === 'string' ? accept : undefined);
  } catch {
    return 'json';
  }
}

/** Query parameters whose values must never reach a log (credentials sent where they do not belong). */
const SECRET_PARAMS = /^(access_token|id_token|refresh_token|code|client_secret|password|client_assertion|token)$/i;

/** A URL for the access log, with the values of credential-like parameters replaced. */
export function redact(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // An undecodable name is logged as sent.
      }
      return eq >= 0 && SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}

/**
 * Health for load balancers and orchestrators: `/health/live` answers 200 while the process
 * serves HTTP; `/health/ready` answers 200 when the store answers too, and 503 (with
 * Retry-After) when it does not. The server listens only once its store is open and
 * migrated, so nothing is ready before that. Neither is audited: they are not FHIR requests.
 */
function health(ready: AppOptions['ready']): FastifyPluginAsync {
  return async (app) => {
    const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store').type('application/json');
    app.get('/health/live', async (_request, reply) => noStore(reply).send({ status: 'live' }));
    app.get('/health/ready', async (request, reply) => {
      try {
        await ready?.();
        return noStore(reply).send({ status: 'ready' });
      } catch (err) {
        request.log.warn({ err }, 'not ready');
        return noStore(reply).code(503).header('retry-after', '5').send({ status: 'unavailable', reason: 'the store does not answer' });
      }
    });
  };
}
