import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FhirError, issue } from '../fhir/outcome.js';
import { route, type OperationTable } from '../interactions/route.js';
import type { FhirRequest, FhirResponse, RequestContext } from '../interactions/types.js';
import { CONTENT_TYPE, type Format, parseBody, requestFormat, responseFormat } from './formats.js';
import { preconditions, preferences } from './headers.js';
import { renderBody } from './render.js';

export interface AppOptions {
  ctx: RequestContext;
  /** Where the FHIR API lives, e.g. /STU3. */
  basePath?: string;
  /** Largest accepted request body in bytes (413 above). */
  bodyLimit?: number;
  operations?: OperationTable;
  /** A pino logger, or false. */
  logger?: boolean | object;
}

const EXPOSED = 'ETag, Location, Last-Modified, Content-Location';

/**
 * The HTTP layer: the only code that knows Fastify. It turns requests into
 * FhirRequests, routes them (interactions/route.ts), and renders FhirResponses
 * and errors in the negotiated format. https://hl7.org/fhir/STU3/http.html
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const basePath = options.basePath ?? '/STU3';
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    return503OnClosing: true,
    // Errors Fastify raises before routing (a malformed URL, say) get the same OperationOutcome treatment.
    frameworkErrors: (err, request, reply) => sendError(toFhirError(err, options.ctx), request, reply),
  });
  app.removeAllContentTypeParsers();
  // Bodies are parsed by the FHIR codecs, once the route and format are known.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  const handler = (request: FastifyRequest, reply: FastifyReply) => handle(request, reply, options, basePath);
  const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;
  app.route({ method: [...methods], url: basePath, handler });
  app.route({ method: [...methods], url: `${basePath}/*`, handler });
  // CORS preflight: any origin may call the API (it is public, and tokens travel in headers, not cookies).
  app.route({ method: 'OPTIONS', url: `${basePath}/*`, handler: preflight });
  app.route({ method: 'OPTIONS', url: basePath, handler: preflight });

  app.setErrorHandler((err, request, reply) => sendError(toFhirError(err, options.ctx), request, reply));
  app.setNotFoundHandler((request, reply) => sendError(new FhirError(404, issue('not-found', `Nothing is served at ${request.url.split('?')[0]}; the FHIR API is at ${basePath}`)), request, reply));
  return app;
}

async function handle(request: FastifyRequest, reply: FastifyReply, options: AppOptions, basePath: string): Promise<void> {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  let query: Array<[string, string]> = q < 0 ? [] : [...new URLSearchParams(url.slice(q + 1))];
  const origin = request.headers.origin;
  if (origin) corsHeaders(reply, origin);
  const segments = decodeSegments(path.slice(basePath.length));
  const formatParam = query.find(([k]) => k === '_format')?.[1];
  const format = responseFormat(formatParam, headerText(request.headers.accept));
  const pretty = query.some(([k, v]) => k === '_pretty' && v === 'true');
  if (request.method === 'PATCH') throw new FhirError(405, issue('not-supported', 'PATCH is not part of FHIR STU3; use PUT to update'));
  const method = request.method as FhirRequest['method'];
  const target = route(method, segments, options.operations);

  const req: FhirRequest = {
    method,
    ...target.fields,
    query,
    preconditions: preconditions(request.headers),
    prefer: preferences(headerText(request.headers.prefer)),
  };
  const text = typeof request.body === 'string' ? request.body : undefined;
  if ((method === 'POST' || method === 'PUT') && text !== undefined && text.length > 0) {
    const contentType = request.headers['content-type'];
    if (target.name.startsWith('search') && contentType?.startsWith('application/x-www-form-urlencoded')) {
      query = [...query, ...new URLSearchParams(text)];
      req.query = query;
    } else {
      req.body = parseBody(text, requestFormat(contentType)) as FhirRequest['body'];
    }
  }
  const res = await target.interaction(req, options.ctx);
  send(reply, res, format, pretty);
}

function decodeSegments(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new FhirError(400, issue('invalid', 'The URL path is not valid percent-encoding'));
  }
}

function send(reply: FastifyReply, res: FhirResponse, format: Format, pretty: boolean): void {
  const headers: Record<string, string> = {};
  if (res.etag) headers.etag = res.etag;
  if (res.lastModified) headers['last-modified'] = httpDate(res.lastModified);
  if (res.location) headers.location = res.location;
  if (res.contentLocation) headers['content-location'] = res.contentLocation;
  if (!res.body || res.status === 304) {
    reply.code(res.status).headers(headers).send();
    return;
  }
  headers['content-type'] = CONTENT_TYPE[format];
  reply.code(res.status).headers(headers).send(renderBody(res.body, format, pretty));
}

const httpDates = new Map<string, string>();

/** An HTTP date from an ISO instant, memoised (the same versions are served again and again). */
function httpDate(iso: string): string {
  let d = httpDates.get(iso);
  if (d === undefined) {
    if (httpDates.size > 10_000) httpDates.clear();
    d = new Date(iso).toUTCString();
    httpDates.set(iso, d);
  }
  return d;
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  reply.headers({ 'access-control-allow-origin': origin, vary: 'Origin', 'access-control-expose-headers': EXPOSED });
}

async function preflight(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const origin = request.headers.origin;
  if (origin) corsHeaders(reply, origin);
  reply
    .code(204)
    .headers({
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': headerText(request.headers['access-control-request-headers']) ?? 'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since',
      'access-control-max-age': '86400',
    })
    .send();
}

function toFhirError(err: unknown, ctx: RequestContext): FhirError {
  if (err instanceof FhirError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new FhirError(413, issue('too-costly', 'The request body is larger than this server accepts'));
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
    return new FhirError(415, issue('not-supported', 'Unsupported Content-Type: send application/fhir+json or application/fhir+xml'));
  }
  if (e.code === 'FST_ERR_BAD_URL') return new FhirError(400, issue('invalid', 'The URL is not valid (malformed percent-encoding?)'));
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new FhirError(e.statusCode, issue('invalid', e.message ?? 'Bad request'));
  ctx.log.error({ err }, 'unexpected error');
  return new FhirError(500, issue('exception', 'An unexpected error occurred; it has been logged'));
}

function sendError(fe: FhirError, request: FastifyRequest, reply: FastifyReply): void {
  let format: Format = 'json';
  try {
    const formatParam = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('_format') ?? undefined;
    format = responseFormat(formatParam, headerText(request.headers.accept));
  } catch {
    // An unsupported _format is itself the error being reported: answer in JSON.
  }
  for (const [k, v] of Object.entries(fe.headers)) reply.header(k, v);
  reply.code(fe.status).header('Content-Type', CONTENT_TYPE[format]).send(renderBody({ resource: fe.toOperationOutcome() as never }, format, false));
}

function headerText(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
