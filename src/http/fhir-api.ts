import cors from '@fastify/cors';
import { trustedProxy } from './proxy.js';
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FhirError, issue } from '../fhir/outcome.js';
import type { FhirResponse, Incoming } from '../interactions/types.js';
import type { Pipeline } from '../pipeline/dispatch.js';
import { Cancellation } from '../pipeline/dispatch.js';
import { CONTENT_TYPE, type Format, responseFormat } from '../fhir/formats.js';
import { preconditions, preferences } from './headers.js';
import { renderBody } from './render.js';
import { type BaseName, labelRequest, targetLabels } from './metrics.js';

export interface FhirApiOptions {
  /** Which base this is (the metrics count its requests under it). */
  base: BaseName;
  /** The pipeline of this base: how its callers are identified, authorised and recorded. */
  pipeline: Pipeline;
  /** Largest accepted request body in bytes (413 above). */
  bodyLimit: number;
  /** The base's configured public URL. */
  url: string;
  /** Name the base as a trusted proxy says the client reached it (X-Forwarded-Proto and -Host). */
  trustProxy: boolean;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The response headers a browser's script may read, joined once (the plugin would join a list at every request). */
const EXPOSED = ['ETag', 'Location', 'Last-Modified', 'Content-Location', 'X-Request-Id', 'WWW-Authenticate'].join(', ');
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];

/**
 * The FHIR RESTful API as a Fastify plugin, mounted at a base path (the `prefix` it is
 * registered with) with the pipeline of that base. Encapsulated: its body parsers, CORS
 * and error handling are its own, so it can be mounted twice (the open and the secure
 * base) beside plugins with other parsers and error pages.
 * https://hl7.org/fhir/STU3/http.html
 */
export async function fhirApi(app: FastifyInstance, options: FhirApiOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  // Bodies are parsed by the FHIR codecs once the route is known (pipeline/request.ts).
  // The bytes are decoded here, strictly: invalid UTF-8 is a 400 rather than U+FFFD stored in
  // its place, and a body declared in another charset is a 415 (issue 15, L2).
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: options.bodyLimit }, (req, body, done) => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headerText(req.headers['content-type']) ?? '')?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      done(new FhirError(415, issue('not-supported', `The body is declared in charset ${charset.slice(0, 40)}; this server takes UTF-8 only`)), undefined);
      return;
    }
    try {
      done(null, UTF8.decode(body as Buffer));
    } catch {
      done(new FhirError(400, issue('invalid', 'The body is not valid UTF-8')), undefined);
    }
  });
  // Any origin may call the API: it is public, and tokens travel in headers, never in cookies,
  // so the wildcard needs no Vary and no per-request decision.
  await app.register(cors, { origin: '*', exposedHeaders: EXPOSED, maxAge: 86_400, strictPreflight: false });

  const base = app.prefix;
  /** What a request is counted under until it is routed. */
  const unrouted = targetLabels(options.base);
  const { pipeline } = options;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { incoming, problem } = incomingOf(request, base);
    if (options.trustProxy && trustedProxy(request.socket.remoteAddress)) {
      const forwarded = forwardedBase(request, options.url);
      if (forwarded) incoming.baseUrl = forwarded;
    }
    labelRequest(request, unrouted);
    const format = negotiate(request, incoming.query);
    if (problem || format instanceof FhirError) {
      // A bad header or path is answered in the format asked for; a format that cannot be produced, in JSON.
      send(reply, await pipeline.refuse(incoming, problem ?? (format as FhirError), { requestId: request.id }), format instanceof FhirError ? 'json' : format, incoming.query);
      return reply;
    }
    // A client that disconnects before its answer cancels the database work done for it (the pipeline's `signal`).
    const gone = new Cancellation();
    const onClose = () => {
      if (!reply.raw.writableFinished) gone.abort();
    };
    // `on`, not `once`: it is taken off as soon as the answer is ready, and once would wrap it in a closure of its own at every request.
    reply.raw.on('close', onClose);
    const res = await pipeline.dispatch(incoming, { requestId: request.id, signal: gone, routed: (target) => labelRequest(request, targetLabels(options.base, target)) });
    reply.raw.off('close', onClose);
    send(reply, res, format, incoming.query);
    // Returned, so that Fastify waits for a streamed body (a bulk export file) rather than ending the reply empty.
    return reply;
  };
  app.route({ method: METHODS, url: '/', handler, exposeHeadRoute: false });
  app.route({ method: METHODS, url: '/*', handler, exposeHeadRoute: false });
  // What Fastify refuses before the handler (a body too large, say) is refused through the pipeline too, and recorded.
  const refuse = async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { incoming } = incomingOf(request, base);
    labelRequest(request, unrouted);
    const format = negotiate(request, incoming.query);
    send(reply, await pipeline.refuse(incoming, frameworkError(err), { requestId: request.id }), format instanceof FhirError ? 'json' : format, incoming.query);
  };
  app.setErrorHandler(refuse);
  app.setNotFoundHandler((request, reply) => refuse(new FhirError(405, issue('not-supported', `${request.method} is not a method of the FHIR RESTful API`)), request, reply));
}

/** The request as the pipeline takes it; `problem` when its path is not valid percent-encoding. */
function incomingOf(request: FastifyRequest, base: string): { incoming: Incoming; problem?: FhirError } {
  const url = request.raw.url ?? '';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const incoming: Incoming = {
    // HEAD is answered as GET, without the body (Node leaves the body out of a HEAD response).
    method: request.method === 'HEAD' ? 'GET' : request.method,
    path: [],
    query: [],
    preconditions: {},
    prefer: {},
    address: request.ip,
  };
  const authorization = headerText(request.headers.authorization);
  if (authorization) incoming.authorization = authorization;
  // Parsed once, first (it cannot fail): `_format` and `_pretty` are read from it even when the path is refused.
  if (q >= 0) incoming.query = [...new URLSearchParams(url.slice(q + 1))];
  try {
    incoming.path = path.slice(base.length).split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return { incoming, problem: new FhirError(400, issue('invalid', 'The URL path is not valid percent-encoding')) };
  }
  try {
    incoming.preconditions = preconditions(request.headers);
    incoming.prefer = preferences(headerText(request.headers.prefer));
  } catch (err) {
    return { incoming, problem: err instanceof FhirError ? err : new FhirError(400, issue('invalid', 'The request headers are not valid')) };
  }
  if (typeof request.body === 'string' && request.body.length) incoming.text = { body: request.body, ...(request.headers['content-type'] ? { contentType: request.headers['content-type'] } : {}) };
  return { incoming };
}

/** A host as a proxy may forward it: a name or IPv4 address, or a bracketed IPv6 one, and a port. */
const FORWARDED_HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The base URL the client reached, from a trusted proxy's X-Forwarded-Proto and -Host (the
 * first of each when a chain of proxies sent several), with the configured URL's path; the
 * configured URL's scheme or host where one is missing. Undefined when neither is sent, or
 * either is malformed (a link is never built from a value that is not a scheme or a host).
 */
function forwardedBase(request: FastifyRequest, configured: string): string | undefined {
  const first = (name: string) => headerText(request.headers[name])?.split(',')[0]?.trim();
  const proto = first('x-forwarded-proto')?.toLowerCase();
  const host = first('x-forwarded-host');
  if (!proto && !host) return undefined;
  if (proto && proto !== 'http' && proto !== 'https') return undefined;
  if (host && (host.length > 255 || !FORWARDED_HOST.test(host))) return undefined;
  const url = new URL(configured);
  return `${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}${url.pathname.replace(/\/+$/, '')}`;
}

/** The first value of the query parameter `name`, as URLSearchParams.get gives it. */
function param(query: ReadonlyArray<[string, string]>, name: string): string | undefined {
  return query.find(([k]) => k === name)?.[1];
}

/** The response format from `_format` (wins) or `Accept`, or the 406 that a format it cannot produce is. */
function negotiate(request: FastifyRequest, query: ReadonlyArray<[string, string]>): Format | FhirError {
  try {
    return responseFormat(param(query, '_format'), headerText(request.headers.accept));
  } catch (err) {
    if (err instanceof FhirError) return err;
    throw err;
  }
}

/** Writes a response in the format the request negotiated (JSON when that itself is the problem), pretty-printed when `_pretty=true`. */
function send(reply: FastifyReply, res: FhirResponse, format: Format, query: ReadonlyArray<[string, string]>): void {
  const headers: Record<string, string> = { ...res.headers };
  if (res.etag) headers.etag = res.etag;
  if (res.lastModified) headers['last-modified'] = httpDate(res.lastModified);
  if (res.location) headers.location = res.location;
  if (res.contentLocation) headers['content-location'] = res.contentLocation;
  if (!res.body || res.status === 304) {
    reply.code(res.status).headers(headers).send();
    return;
  }
  if ('file' in res.body) {
    // A bulk export's output, streamed as written (its Content-Type set by the operation).
    reply.code(res.status).headers(headers).send(createReadStream(res.body.file));
    return;
  }
  if (headers['content-type'] && 'json' in res.body) {
    // A document that is not FHIR (the SMART configuration), sent as it is.
    reply.code(res.status).headers(headers).send(res.body.json);
    return;
  }
  headers['content-type'] = CONTENT_TYPE[format];
  reply.code(res.status).headers(headers).send(renderBody(res.body, format, param(query, '_pretty') === 'true'));
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

/** What Fastify raised before the pipeline had the request (a body too large, a bad URL), as a FhirError. */
export function frameworkError(err: unknown): unknown {
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
  return err;
}

export function headerText(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
