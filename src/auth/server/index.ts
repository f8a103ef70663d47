import { randomBytes } from 'node:crypto';
import { timeOrderedId } from '../../fhir/ids.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../../interactions/types.js';
import type { StoreAdmin } from '../../store/store.js';
import type { TokenIssuer } from '../issuer.js';
import { hashClientSecret } from './adapter.js';
import { interactionRoutes } from './interactions.js';
import { providerRequest } from './provider-context.js';
import { signingKeys, type SigningKeys } from './keys.js';
import { findContext } from './launch-context.js';
import { messagePage, PAGE_CSP } from './pages.js';
import { CONTEXT_SCOPES } from './smart-scopes.js';
import { type ProviderMiddleware, structuredTokens, TokenState } from './token-state.js';

export interface AuthServerOptions {
  store: StoreAdmin;
  /** The public URL the server is reached at (the configured base URL); its origin + `/auth` is the issuer. */
  publicUrl: string;
  /** The secure base's public URL: the audience of every access token. */
  secureBaseUrl: string;
  /** RFC 7591 registration is open only with this initial access token (CCRI_REGISTRATION_TOKEN). */
  registrationToken?: string;
  log: Logger;
  /** Client JWKS may be fetched from loopback and private addresses (CCRI_AUTH_FETCH_PRIVATE); otherwise oidc-provider refuses them. */
  fetchPrivate?: boolean;
  /** Told of every sign-in, token and registration, for the audit trail (docs/audit.md). */
  events?: (event: AuthEvent) => Promise<void>;
}

/** What the authorization server tells the audit trail. Never a password, a secret or a token. */
export interface AuthEvent {
  code: 'sign-in' | 'token-issued' | 'token-refused' | 'client-registered';
  success: boolean;
  /** The user's name (as typed, for a failed sign-in). */
  user?: string;
  client?: string;
  address?: string;
  requestId: string;
  /** Why it failed, or what was granted (the scopes). */
  description?: string;
  method: string;
  path: string[];
}

export interface AuthServer {
  /** What the secure base needs to verify this server's tokens (src/auth/issuer.ts). */
  issuer: TokenIssuer;
  /** The Fastify plugin serving it; register it with the prefix `/auth`. */
  plugin: FastifyPluginAsync;
  /** What `.well-known/smart-configuration` says of this server besides its endpoints. */
  smart: SmartMetadata;
  close(): Promise<void>;
}

export interface SmartMetadata {
  scopes_supported: string[];
  response_types_supported: string[];
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  code_challenge_methods_supported: string[];
  capabilities: string[];
}

/** This server's SMART App Launch 1.0 metadata. http://hl7.org/fhir/smart-app-launch/1.0.0/conformance/ */
export const SMART_METADATA: SmartMetadata = {
  scopes_supported: [...CONTEXT_SCOPES, 'patient/*.read', 'patient/*.write', 'patient/*.*', 'user/*.read', 'user/*.write', 'user/*.*', 'system/*.read', 'system/*.write', 'system/*.*'],
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt', 'none'],
  token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384', 'RS256', 'ES256'],
  code_challenge_methods_supported: ['S256'],
  // What this issuer offers; the secure base adds what it enforces itself (permission-patient, permission-user).
  capabilities: ['launch-standalone', 'launch-ehr', 'client-public', 'client-confidential-symmetric', 'sso-openid-connect', 'context-standalone-patient', 'context-ehr-patient', 'permission-offline', 'permission-online'],
};

export const AUTH_PREFIX = '/auth';
/** How often a node looks for keys rotated elsewhere. */
const KEY_CHECK_MS = 5000;
const PURGE_MS = 10 * 60_000;

/**
 * The embedded authorization server (docs/security.md): oidc-provider, with its records
 * in the store, mounted at `/auth`. The provider is built on first use and rebuilt when
 * the signing keys change (a `ccri keys rotate` anywhere).
 */
export async function authServer(o: AuthServerOptions): Promise<AuthServer> {
  const issuer = `${new URL(o.publicUrl).origin}${AUTH_PREFIX}`;
  const audience = o.secureBaseUrl.replace(/\/+$/, '');
  const auth = o.store.auth();
  const state = new TokenState(auth);
  const cookieKey = await o.store.setting('auth-cookie-key', () => randomBytes(32).toString('base64url'));
  let current: { provider: Provider; keys: SigningKeys; checked: number } | undefined;
  let building: Promise<Provider> | undefined;

  const build = async (): Promise<Provider> => {
    const keys = await signingKeys(auth);
    if (current && current.keys.fingerprint === keys.fingerprint) {
      current.checked = Date.now();
      return current.provider;
    }
    // Loaded on first use: a server whose /auth is never asked does not load oidc-provider at all.
    const { createProvider } = await import('./provider.js');
    const provider = createProvider({ issuer, audience, auth, keys, cookieKeys: [cookieKey], secureCookies: issuer.startsWith('https:'), fetchPrivate: o.fetchPrivate === true, ...(o.registrationToken ? { registrationToken: o.registrationToken } : {}) });
    const use = (mw: ProviderMiddleware) => provider.use(mw as unknown as Parameters<Provider['use']>[0]);
    use(structuredTokens({ issuer, audience, state, auth, keys: async () => keys.public }));
    use(tokenResponseContext(auth));
    provider.on('server_error', (_ctx: unknown, err: Error) => o.log.error({ err: { message: err.message, stack: err.stack } }, 'The authorization server failed'));
    provider.on('grant.revoked', () => state.forget());
    if (o.events) auditProvider(provider, o.events, o.log);
    if (!current) void auth.purgeExpired().catch(() => undefined);
    current = { provider, keys, checked: Date.now() };
    return provider;
  };
  const provider = (): Promise<Provider> => {
    if (current && Date.now() - current.checked < KEY_CHECK_MS) return Promise.resolve(current.provider);
    building ??= build().finally(() => (building = undefined));
    return building;
  };
  const purge = setInterval(() => void auth.purgeExpired().catch((err: unknown) => o.log.warn({ err }, 'Purging expired authorization records failed')), PURGE_MS);
  purge.unref();

  const tokenIssuer: TokenIssuer = {
    issuer,
    keys: async () => (await signingKeys(auth)).public,
    inForce: (claims) => state.inForce(claims),
    capabilities: SMART_METADATA.capabilities,
    tokenEndpointAuthMethods: SMART_METADATA.token_endpoint_auth_methods_supported,
    endpoints: {
      authorization: `${issuer}/authorize`,
      token: `${issuer}/token`,
      ...(o.registrationToken ? { registration: `${issuer}/register` } : {}),
      introspection: `${issuer}/introspect`,
      revocation: `${issuer}/revoke`,
      jwks: `${issuer}/jwks`,
    },
  };

  const plugin: FastifyPluginAsync = async (app: FastifyInstance) => {
    interactionRoutes(app, { provider, auth, store: o.store, audience, ...(o.events ? { events: o.events } : {}) });
    // Everything else is oidc-provider's: handed over before Fastify reads the body, which oidc-provider parses
    // itself, and after every onRequest hook (the rate limit's is added to each route after the route's own).
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'],
      url: '/*',
      preParsing: async (request, reply, payload) => {
        reply.hijack();
        await handOver(request, reply.raw, provider);
        return payload;
      },
      handler: async () => undefined,
    });
  };

  return { issuer: tokenIssuer, plugin, smart: SMART_METADATA, close: async () => clearInterval(purge) };
}

/** Gives a request to oidc-provider, as if it were mounted at `/auth` (the app's access log reads `originalUrl`, the path as sent). */
async function handOver(request: FastifyRequest, res: ServerResponse, provider: () => Promise<Provider>): Promise<void> {
  const req = request.raw as IncomingMessage & { originalUrl?: string; [REQUEST_ID]?: string };
  res.setHeader('x-request-id', request.id);
  req[REQUEST_ID] = request.id;
  hashBasicSecret(req);
  // oidc-provider finds its mount path as the part of originalUrl before url.
  req.url = offlineConsent(req.url!.slice(AUTH_PREFIX.length) || '/');
  req.originalUrl = `${AUTH_PREFIX}${req.url}`;
  try {
    const p = await provider();
    await providerRequest(() => p.callback()(req, res));
  } catch (err) {
    request.log.error({ err }, 'The authorization server failed');
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': PAGE_CSP });
      res.end(messagePage('Something went wrong', 'The authorization server could not answer. Try again later.'));
    }
  }
}

/**
 * OpenID Connect grants `offline_access` only with `prompt=consent`; SMART apps ask for it
 * without. Every authorization here asks for consent anyway (provider.ts,
 * loadExistingGrant), so the prompt is added to such a request rather than the scope dropped.
 */
function offlineConsent(url: string): string {
  if (!url.startsWith('/authorize?')) return url;
  const query = new URLSearchParams(url.slice('/authorize?'.length));
  if (!query.get('scope')?.split(' ').includes('offline_access') || query.has('prompt') || query.has('request') || query.has('request_uri')) return url;
  query.set('prompt', 'consent');
  return `/authorize?${query}`;
}

/** Where a request's id rides on the raw request handed to oidc-provider, for its events. */
const REQUEST_ID = Symbol('request-id');

/**
 * oidc-provider's events as audit events: a token issued (grant.success), a token request
 * refused (grant.error) and a client registered. Its emitter does not wait, so they are
 * written as they come; a failure is logged.
 */
function auditProvider(provider: Provider, events: NonNullable<AuthServerOptions['events']>, log: Logger): void {
  type Ctx = KoaContextWithOIDC & { req: IncomingMessage & { [REQUEST_ID]?: string } };
  const facts = (ctx: Ctx) => ({
    requestId: ctx.req[REQUEST_ID] ?? timeOrderedId(),
    address: ctx.ip,
    method: ctx.method,
    path: ctx.originalUrl.split('?')[0]!.split('/').filter(Boolean),
    ...(ctx.oidc?.client?.clientId ? { client: ctx.oidc.client.clientId } : {}),
  });
  const send = (e: AuthEvent) => void events(e).catch((err: unknown) => log.error({ err }, 'An authorization event could not be recorded in the audit trail'));
  provider.on('grant.success', (ctx: Ctx) => {
    const token = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.ClientCredentials;
    const account = ctx.oidc.entities.AccessToken?.accountId;
    send({ code: 'token-issued', success: true, ...facts(ctx), ...(account ? { user: account } : {}), description: `grant ${String(ctx.oidc.params?.grant_type ?? '')}; scope ${String(token?.scope ?? '')}`.trim() });
  });
  provider.on('grant.error', (ctx: Ctx, err: Error & { error?: string; error_description?: string }) => {
    send({ code: 'token-refused', success: false, ...facts(ctx), description: `${err.error ?? 'error'}: ${err.error_description ?? err.message}`.slice(0, 500) });
  });
  provider.on('registration_create.success', (ctx: Ctx, client: { clientId: string }) => {
    send({ code: 'client-registered', success: true, ...facts(ctx), client: client.clientId });
  });
}

/** Client secrets are stored hashed (adapter.ts): the presented secret is hashed alike before oidc-provider compares them. */
function hashBasicSecret(req: IncomingMessage): void {
  const header = req.headers.authorization;
  if (!header || !/^basic /i.test(header)) return;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return;
  let secret: string;
  try {
    secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
  } catch {
    return;
  }
  req.headers.authorization = `Basic ${Buffer.from(`${decoded.slice(0, colon)}:${encodeURIComponent(hashClientSecret(secret))}`).toString('base64')}`;
}

/** SMART's additions to the token response (the launch patient, whether the app shows a patient banner), and a short scope list in discovery. */
function tokenResponseContext(auth: ReturnType<StoreAdmin['auth']>): ProviderMiddleware {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const body = ctx.body as Record<string, unknown> | undefined;
    // Every resource scope of every type is a scope oidc-provider knows; discovery names the wildcards only.
    if (ctx.oidc?.route === 'discovery' && body) body.scopes_supported = SMART_METADATA.scopes_supported;
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    const grantId = ctx.oidc.entities.AccessToken?.grantId;
    if (!body?.access_token || !grantId) return;
    const context = await findContext(auth, grantId);
    if (context?.patient) body.patient = context.patient;
    if (context) body.need_patient_banner = context.needPatientBanner;
  };
}
