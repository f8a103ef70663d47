import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { FhirError, issue } from '../fhir/outcome.js';
import type { Logger } from '../interactions/types.js';
import { errorResponse, type Pipeline } from '../pipeline/dispatch.js';
import { fhirApi, frameworkError } from './fhir-api.js';
import { CONTENT_TYPE } from '../fhir/formats.js';
import { renderBody } from './render.js';

export interface AppOptions {
  /** The FHIR bases to mount: where (a path such as /STU3) and with which pipeline. */
  bases: Array<{ path: string; pipeline: Pipeline }>;
  /** Largest accepted request body in bytes (413 above). */
  bodyLimit: number;
  /** Other plugins to mount beside the FHIR bases (the authorization server at /auth). */
  plugins?: Array<{ prefix: string; plugin: FastifyPluginAsync }>;
  /** The pino logger requests log through (one access-log line each), or none. */
  logger?: PinoLogger;
  /** Serve HTTPS with this certificate and key (PEM). */
  https?: { cert: Buffer; key: Buffer };
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
    // Errors Fastify raises before routing (a malformed URL, say) get the OperationOutcome treatment too.
    frameworkErrors: (err, request, reply) => sendPlain(request, reply, frameworkError(err)),
  });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const accessLog = options.logger?.isLevelEnabled('info') === true;
  if (accessLog) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info({ method: request.method, url: redact(request.originalUrl), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, address: request.ip }, 'request');
      done();
    });
  }
  for (const base of options.bases) await app.register(fhirApi, { prefix: base.path, pipeline: base.pipeline, bodyLimit: options.bodyLimit });
  for (const p of options.plugins ?? []) await app.register(p.plugin, { prefix: p.prefix });
  const where = options.bases.map((b) => b.path).join(' and ');
  app.setNotFoundHandler((request, reply) => sendPlain(request, reply, new FhirError(404, issue('not-found', `Nothing is served at ${request.url.split('?')[0]}; the FHIR API is at ${where}`))));
  app.setErrorHandler((err, request, reply) => sendPlain(request, reply, frameworkError(err)));
  return app as unknown as FastifyInstance;
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
