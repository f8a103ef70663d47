import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { Duplex } from 'node:stream';
import { FhirError, issue, type IssueCode } from '../fhir/outcome.js';
import type { Logger } from '../interactions/types.js';
import { errorResponse, type Pipeline } from '../pipeline/dispatch.js';
import { fhirApi, frameworkError } from './fhir-api.js';
import { CONTENT_TYPE } from '../fhir/formats.js';
import { renderBody } from './render.js';

export interface AppOptions {
  /** The FHIR bases to mount: where (a path such as /STU3) and with which pipeline. */
  bases: Array<{ path: string; pipeline: Pipeline; /** Its configured public URL. */ url: string }>;
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
  /** At most this many requests a minute from one address (429 above it); loopback addresses are exempt unless `loopback`. */
  rateLimit?: { perMinute: number; loopback: boolean };
  /** Resolves when the server can serve (its store answers); throws with the reason when not. For /health/ready. */
  ready?: () => Promise<void>;
}

/** A request id a client may choose: short, and safe to put in a header and a log line. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The HTTP server: the FHIR bases as plugins (fhir-api.ts), a request id for every
 * request (`X-Request-Id` when the client sent a well-formed one, otherwise generated;
 * echoed in the response and carried by every log line of the request), and one
 * access-log line per request.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    // Behind a trusted proxy: request.ip from X-Forwarded-For (the address in the audit and the access log).
    ...(options.trustProxy ? { trustProxy: true } : {}),
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Fastify's two lines per request give way to our one (the onResponse hook below).
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: options.bodyLimit,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    // The absolute form of the request line (`GET http://host/STU3/Patient/1 HTTP/1.1`), which
    // RFC 7230 5.3.2 says servers must accept, is served as its path (issue 15, L6).
    rewriteUrl: (req) => originForm(req.url ?? '/'),
    // What Node's HTTP parser refuses before any route (malformed request lines and headers,
    // an unknown method, a URL or headers over 16 KB) is answered as an OperationOutcome too.
    clientErrorHandler: clientError,
    // Errors Fastify raises before routing (a malformed URL, say) get the OperationOutcome treatment too.
    frameworkErrors: (err, request, reply) => sendPlain(request, reply, frameworkError(err)),
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (options.rateLimit && options.rateLimit.perMinute > 0) {
    const { perMinute, loopback } = options.rateLimit;
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => request.ip,
      // Tests, benchmarks and a local copy call from this machine.
      allowList: (request) => !loopback && isLoopback(request.ip),
      // The limits are said only when they are reached (Retry-After with the 429), not on every answer.
      addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
      errorResponseBuilder: (_request, context) => new FhirError(429, issue('throttled', `Too many requests from this address: at most ${context.max} a minute; try again in ${context.after}`)),
    });
  }
  // Once the server is stopping, the answers of the requests still in flight close their
  // connections: a kept-alive connection would otherwise hold the stop until it timed out.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  const accessLog = options.logger?.isLevelEnabled('info') === true;
  if (accessLog) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info({ method: request.method, url: redact(request.originalUrl), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, address: request.ip }, 'request');
      done();
    });
  }
  await app.register(health(options.ready));
  for (const base of options.bases) await app.register(fhirApi, { prefix: base.path, pipeline: base.pipeline, bodyLimit: options.bodyLimit, url: base.url, trustProxy: options.trustProxy === true });
  for (const p of options.plugins ?? []) await app.register(p.plugin, { prefix: p.prefix });
  const where = options.bases.map((b) => b.path).join(' and ');
  app.setNotFoundHandler((request, reply) => sendPlain(request, reply, new FhirError(404, issue('not-found', `Nothing is served at ${request.url.split('?')[0]}; the FHIR API is at ${where}`))));
  app.setErrorHandler((err, request, reply) => sendPlain(request, reply, frameworkError(err)));
  return app as unknown as FastifyInstance;
}

/**
 * A request the HTTP parser could not read. Nothing of it reached Fastify (no route, no
 * request id): the answer is written to the socket as Node's own would be, but with an
 * OperationOutcome in FHIR JSON, and the connection is closed.
 */
function clientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, text]: [number, string, IssueCode, string] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'timeout', 'The request was not received in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'too-costly', 'The request line and headers are larger than this server accepts (16 KB)']
        : err.code === 'HPE_INVALID_METHOD'
          ? [400, 'Bad Request', 'not-supported', 'The request method is not one this server knows']
          : [400, 'Bad Request', 'structure', `The request is not valid HTTP/1.1 (${(err.code ?? 'malformed').replace(/[^A-Z_]/g, '')})`];
  const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${CONTENT_TYPE.json}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}

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
  reply
    .code(res.status)
    .headers(res.headers ?? {})
    .header('content-type', CONTENT_TYPE.json)
    .send(renderBody(res.body as Exclude<typeof res.body, { file: string } | undefined>, 'json', false));
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

/** Whether an address is this machine's (IPv4 127/8, IPv6 ::1, and IPv4 mapped into IPv6). */
function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
