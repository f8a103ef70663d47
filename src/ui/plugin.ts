import { existsSync } from 'node:fs';
import { FhirError } from '../fhir/outcome.js';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { projectRoot } from '../fhir/definitions/cache.js';
import type { Logger } from '../interactions/types.js';
import { openApiFromCapabilityStatement, type OpenApiServer } from './openapi.js';
import { PAGE_PATHS } from './routes.js';
import { contentSecurityPolicy, errorPage, loadShell, type ExplorerConfig } from './shell.js';
import type { SignInConfig } from './sign-in.js';

export interface ExplorerOptions {
  /** Public URL of the open FHIR base, e.g. http://localhost:8080/STU3: the explorer's pages call it from the browser. */
  openBase: string;
  /** Public URL of the secure FHIR base (bearer tokens), once there is one. */
  secureBase?: string;
  /** Signing in: the explorer's registration at the embedded authorization server, or why there is none. */
  signIn?: SignInConfig;
  /** The CapabilityStatement the OpenAPI document is generated from. */
  capabilityStatement: () => Promise<Record<string, unknown>>;
  /** Folder of the built front end (default: dist/web in the project). */
  assetsDir?: string;
  /** Where unexpected errors are logged (default: Fastify's request logger). */
  log?: Pick<Logger, 'error'>;
}

/**
 * The web explorer at `/`: the built front end, the SPA's routes, and
 * `/openapi.json`. The pages talk to the FHIR API only over HTTP (fetch from
 * the browser, to `openBase`), so they see exactly what any client sees.
 * Registered without fastify-plugin so that its error handler stays its own.
 */
export async function explorerPlugin(app: FastifyInstance, options: ExplorerOptions): Promise<void> {
  const dir = options.assetsDir ?? join(projectRoot(), 'dist', 'web');
  const config: ExplorerConfig = { openBase: options.openBase, ...(options.secureBase ? { secureBase: options.secureBase } : {}), ...(options.signIn ? { signIn: options.signIn } : {}) };
  const shell = loadShell(dir, config);
  const csp = contentSecurityPolicy(config);

  if (existsSync(join(dir, 'assets'))) {
    // File names carry a content hash, so they may be cached for good; .gz twins are written by the build.
    await app.register(fastifyStatic, { root: join(dir, 'assets'), prefix: '/assets/', preCompressed: true, immutable: true, maxAge: '365d', index: false, decorateReply: false });
  }

  const sendShell = (reply: FastifyReply, status: number) =>
    reply.code(status).headers({ 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': csp, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }).send(shell);

  for (const url of PAGE_PATHS) app.get(url, (_req, reply) => sendShell(reply, 200));

  // Generated on first request and kept, plain and gzipped (it is about 1 MB of JSON, 60 kB compressed).
  let openApi: Promise<{ plain: string; gzipped: Buffer }> | undefined;
  app.get('/openapi.json', async (request, reply) => {
    openApi ??= options.capabilityStatement().then((cs) => {
      const plain = JSON.stringify(openApiFromCapabilityStatement(cs, { servers: servers(options), bearer: Boolean(options.secureBase) }));
      return { plain, gzipped: gzipSync(plain) };
    });
    let doc;
    try {
      doc = await openApi;
    } catch (err) {
      openApi = undefined;
      throw err;
    }
    reply.headers({ 'content-type': 'application/json; charset=utf-8', 'access-control-allow-origin': '*', 'cache-control': 'no-cache', vary: 'Accept-Encoding' });
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return reply.header('content-encoding', 'gzip').send(doc.gzipped);
    return reply.send(doc.plain);
  });

  // Anything else a browser asks for gets the app's own "page not found"; other clients get the API's answer.
  // No HEAD twin: HEAD requests keep reaching the not-found handlers of the prefixes they fall under (the API's own for its base).
  app.route({ method: 'GET', url: '/*', exposeHeadRoute: false, handler: (request, reply) => (wantsHtml(request) ? sendShell(reply, 404) : reply.callNotFound()) });

  app.setErrorHandler((err: { statusCode?: number; status?: number; message?: string; headers?: Record<string, string> }, request, reply) => {
    // Fastify's errors carry statusCode; the server's own (a 429 from the rate limit, a 503 from shedding) are FhirErrors with status and headers (Retry-After).
    const given = err instanceof FhirError ? err.status : err.statusCode;
    const status = given && given >= 400 && given < 600 && given !== 500 ? given : 500;
    if (err instanceof FhirError) reply.headers(err.headers);
    const message = status === 500 ? 'The explorer could not answer this request; the error has been logged.' : (err.message ?? 'Bad request');
    if (status === 500) (options.log ?? request.log).error({ err }, 'explorer error');
    if (wantsHtml(request)) return reply.code(status).headers({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).send(errorPage(status, message));
    return reply.code(status).header('content-type', 'application/fhir+json').send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: status === 500 ? 'exception' : status === 429 || status === 503 ? 'throttled' : 'invalid', diagnostics: message }] });
  });
}

function servers(options: ExplorerOptions): OpenApiServer[] {
  const list: OpenApiServer[] = [{ url: options.openBase, description: 'Open API (no sign-in)' }];
  if (options.secureBase) list.push({ url: options.secureBase, description: 'Secure API (SMART on FHIR bearer token)' });
  return list;
}

function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return request.method === 'GET' && /text\/html/.test(accept);
}
