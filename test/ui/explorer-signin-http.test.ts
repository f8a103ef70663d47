import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureClient } from '../../src/auth/server/clients.js';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import type { AuthStore } from '../../src/store/store.js';
import { EXPLORER_CLIENT_ID, explorerScopes, registeredExplorerScopes } from '../../src/ui/sign-in.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

const kinds = await storeKinds();

function shellConfig(html: string): Record<string, unknown> {
  return JSON.parse(/<script type="application\/json" id="ccri-config">([^<]*)<\/script>/.exec(html)![1]!) as Record<string, unknown>;
}

/**
 * The explorer as a registered SMART app (issue 12, point 9): registered at every start,
 * idempotently, in the store; its addresses from the configured base URL; accepted by the
 * embedded authorization server as a public client with PKCE; not offered when an external
 * identity provider issues the tokens.
 */
describe.each(kinds)('the explorer’s registration as a SMART app (%s)', (kind) => {
  let server: TestServer;
  let origin: string;
  beforeAll(async () => {
    server = await startTestServer(kind);
    origin = new URL(server.server.config.baseUrl).origin;
  });
  afterAll(async () => server?.cleanup());

  it('is a public client (PKCE, no secret) whose redirect URI is under the configured base URL', async () => {
    const entry = await server.store.auth().get('Client', EXPLORER_CLIENT_ID);
    expect(entry?.payload).toMatchObject({
      client_id: EXPLORER_CLIENT_ID,
      client_name: 'Care Connect explorer',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [`${origin}/sign-in/callback`],
      post_logout_redirect_uris: [`${origin}/`],
      scope: registeredExplorerScopes().join(' '),
    });
    expect(entry!.payload.client_secret).toBeUndefined();
    // Both ways of signing in ask only for registered scopes.
    for (const k of ['staff', 'patient'] as const) for (const s of explorerScopes(k, true)) expect(registeredExplorerScopes()).toContain(s);
  });

  it('is registered once however often the server starts, and follows a new base URL', async () => {
    const start = async (baseUrl?: string) =>
      createServer(loadConfig({ ...server.location, demoData: false, cursorSecret: 'test-secret', ...(baseUrl ? { baseUrl } : {}) }, {}), { logger: false });
    const again = await start();
    await again.close();
    expect((await server.store.auth().list('Client')).filter((c) => c.id === EXPLORER_CLIENT_ID)).toHaveLength(1);

    const proxied = await start('https://fhir.example.org/STU3');
    const page = await proxied.app.inject({ method: 'GET', url: '/sign-in', headers: { accept: 'text/html' } });
    expect(shellConfig(page.body).signIn).toEqual({
      available: true,
      issuer: 'https://fhir.example.org/auth',
      clientId: EXPLORER_CLIENT_ID,
      redirectUri: 'https://fhir.example.org/sign-in/callback',
      signedOutUri: 'https://fhir.example.org/',
    });
    await proxied.close();
    expect((await server.store.auth().get('Client', EXPLORER_CLIENT_ID))?.payload.redirect_uris).toEqual(['https://fhir.example.org/sign-in/callback']);

    // And back: this server's own start would put its address back; here the registration is ensured directly.
    const puts: string[] = [];
    const auth = server.store.auth();
    const counting = new Proxy(auth, { get: (t, p) => (p === 'put' ? (...a: Parameters<AuthStore['put']>) => (puts.push(a[1]), t.put(...a)) : Reflect.get(t, p)) }) as AuthStore;
    const client = { clientId: EXPLORER_CLIENT_ID, name: 'Care Connect explorer', grant: 'authorization_code' as const, public: true, redirectUris: [`${origin}/sign-in/callback`], postLogoutRedirectUris: [`${origin}/`], scope: registeredExplorerScopes().join(' ') };
    await ensureClient(counting, client);
    await ensureClient(counting, client);
    expect(puts).toEqual([EXPLORER_CLIENT_ID]);
  });

  it('is accepted by the authorization server for its own redirect URI and scopes only', async () => {
    const verifier = 'a'.repeat(50);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = (over: Record<string, string>) =>
      server.app.inject({
        method: 'GET',
        url: `/auth/authorize?${new URLSearchParams({
          response_type: 'code',
          client_id: EXPLORER_CLIENT_ID,
          redirect_uri: `${origin}/sign-in/callback`,
          scope: explorerScopes('staff', true).join(' '),
          state: 'abc',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          aud: `${origin}/secure/STU3`,
          ...over,
        })}`,
      });
    const ok = await authorize({});
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toMatch(/^\/auth\/interaction\//);
    // Another redirect URI: an error page here, never a redirect there.
    const elsewhere = await authorize({ redirect_uri: 'https://elsewhere.example/callback' });
    expect(elsewhere.statusCode).toBe(400);
    expect(elsewhere.headers.location).toBeUndefined();
    // A scope the explorer did not register (it never writes): refused, back to the explorer.
    const write = await authorize({ scope: 'openid user/*.write' });
    expect(write.statusCode).toBe(303);
    expect(new URL(String(write.headers.location)).searchParams.get('error')).toBe('invalid_scope');
    // Without PKCE: refused.
    const noPkce = await authorize({ code_challenge: '', code_challenge_method: '' });
    expect(new URL(String(noPkce.headers.location)).searchParams.get('error')).toBe('invalid_request');
  });
});

describe('the explorer with an external identity provider', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { auth: { issuer: 'https://login.example.org/realms/fhir', jwksUrl: 'https://login.example.org/realms/fhir/certs' } });
  });
  afterAll(async () => server?.cleanup());

  it('offers no sign-in, says why, and registers nothing', async () => {
    const page = await server.request('GET', '/sign-in', { headers: { accept: 'text/html' } });
    const signIn = shellConfig(page.text).signIn as { available: boolean; reason: string };
    expect(signIn.available).toBe(false);
    expect(signIn.reason).toContain('https://login.example.org/realms/fhir');
    expect(await server.store.auth().get('Client', EXPLORER_CLIENT_ID)).toBeUndefined();
    expect((await server.request('GET', '/auth/.well-known/openid-configuration')).status).toBe(404);
  });
});
