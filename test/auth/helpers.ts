import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { expect } from 'vitest';
import type { AuthServer } from '../../src/auth/server/index.js';
import { addClient, type NewClient, type RegisteredClient } from '../../src/auth/server/clients.js';
import { addUser } from '../../src/auth/server/users.js';
import type { StoreKind } from '../helpers/server.js';
import { createTestSchema } from '../helpers/postgres.js';
import { type ListeningServer, startListening } from '../helpers/listen.js';
import { Browser, signIn } from '../helpers/sign-in.js';

export { Browser };

/** A listening server with the authorization server, a few patients, a clinician and a patient user. */
export interface AuthTestServer {
  server: ListeningServer;
  /** The embedded authorization server. */
  embedded: AuthServer;
  origin: string;
  issuer: string;
  /** The secure base URL: the audience of access tokens. */
  audience: string;
  stop(): Promise<void>;
}

export const PASSWORD = 'correct horse battery';

export async function startAuthServer(kind: StoreKind, overrides: Parameters<typeof startListening>[0] = {}): Promise<AuthTestServer> {
  let drop: (() => Promise<void>) | undefined;
  const o = { ...overrides };
  if (kind === 'postgres') {
    const schema = await createTestSchema('ccri_auth');
    o.databaseUrl = schema.url;
    drop = schema.drop;
  }
  const server = await startListening(o);
  const origin = new URL(server.baseUrl).origin;
  for (const [id, family, given] of [['1', 'Kanfeld', 'Bernie'], ['2', 'Smith', 'Ann'], ['3', 'Smith', 'Bob']] as const) {
    const res = await fetch(`${server.baseUrl}/Patient/${id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family, given: [given] }], birthDate: '1998-03-03' }) });
    expect(res.status).toBe(201);
  }
  const auth = server.store.auth();
  await addUser(auth, { username: 'clinician', password: PASSWORD, practitioner: '3' });
  await addUser(auth, { username: 'bernie', password: PASSWORD, patient: '1' });
  return {
    server,
    embedded: server.auth!,
    origin,
    issuer: server.auth!.issuer.issuer,
    audience: `${origin}/secure/STU3`,
    stop: async () => {
      await server.stop();
      await drop?.();
    },
  };
}

export function register(t: AuthTestServer, c: NewClient): Promise<RegisteredClient> {
  return addClient(t.server.store.auth(), c);
}

export async function discover(t: AuthTestServer, clientId: string, auth: oidc.ClientAuth, metadata: Partial<oidc.ClientMetadata> = {}): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(t.issuer), clientId, metadata, auth, { execute: [oidc.allowInsecureRequests] });
}

export interface AuthorizeOptions {
  scope: string;
  redirectUri: string;
  user?: string;
  /** The patient to pick, when the picker is shown. */
  pick?: string;
  launch?: string;
  aud?: string;
  /** Extra authorization parameters (or replacements). */
  extra?: Record<string, string>;
  /** The browser to use (its cookies: the user's session). */
  browser?: Browser;
}

/** Runs an authorization as a user would in a browser; returns the callback URL with the code, and the PKCE verifier and state. */
export async function authorize(t: AuthTestServer, config: oidc.Configuration, o: AuthorizeOptions): Promise<{ callback: URL; verifier: string; state: string; pages: string[] }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: o.redirectUri,
    scope: o.scope,
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    aud: o.aud ?? t.audience,
    ...(o.launch ? { launch: o.launch } : {}),
    ...o.extra,
  });
  const browser = o.browser ?? new Browser(t.origin);
  const { page, pages } = await signIn(browser, url.href, { username: o.user ?? 'clinician', password: PASSWORD, patient: o.pick ?? '2' });
  return { callback: new URL(page.url), verifier, state, pages };
}

/** Verifies an access token with the server's published JWKS and the contract's rules; returns its claims. */
export async function verifyAccessToken(t: AuthTestServer, token: string): Promise<JWTPayload> {
  const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(`${t.issuer}/jwks`)), { issuer: t.issuer, audience: t.audience, algorithms: ['RS256', 'RS384', 'ES256', 'ES384'] });
  expect(protectedHeader.kid).toBeTypeOf('string');
  for (const claim of ['iss', 'aud', 'exp', 'iat', 'jti', 'scope', 'client_id', 'sub'] as const) expect(payload[claim], claim).toBeDefined();
  expect(payload.scope).toBeTypeOf('string');
  if (String(payload.scope).split(' ').some((s) => s.startsWith('patient/'))) expect(payload.patient).toBeTypeOf('string');
  return payload;
}

/** The OAuth error code of a failed openid-client call (from the response body, or a WWW-Authenticate challenge). */
export async function oauthError(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    const e = err as { error?: string; cause?: unknown };
    if (e.error) return e.error;
    if (Array.isArray(e.cause)) return (e.cause[0] as { parameters?: { error?: string } })?.parameters?.error;
    if (e.cause && typeof e.cause === 'object' && 'error' in e.cause) return String((e.cause as { error: unknown }).error);
    throw err;
  }
  return undefined;
}
