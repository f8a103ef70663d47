import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthTestServer, authorize, Browser, discover, PASSWORD, register, startAuthServer, verifyAccessToken } from './helpers.js';

/**
 * The authorization server's pages: its own (no web font, no CDN, no script), escaped,
 * sent with a Content-Security-Policy that loads nothing from anywhere; and signing out,
 * which takes the session's grants out of force.
 */
const REDIRECT = 'https://pages.example/cb';

describe('authorization pages', () => {
  let t: AuthTestServer;
  let app: oidc.Configuration;
  beforeAll(async () => {
    t = await startAuthServer('sqlite');
    const c = await register(t, { name: 'Pages app', grant: 'authorization_code', public: true, redirectUris: [REDIRECT], scope: 'openid fhirUser online_access user/*.read' });
    app = await discover(t, c.client_id, oidc.None());
  });
  afterAll(async () => t?.stop());

  const selfContained = (html: string) => {
    expect(html).not.toMatch(/googleapis|gstatic|cdn|@import|<script|<link/i);
    expect(html).toMatch(/<meta name="viewport"/);
  };

  it("shows its own error page for a request it cannot redirect, loading nothing from elsewhere", async () => {
    const res = await fetch(`${t.issuer}/authorize?client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Fx.example%2F&scope=openid`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    selfContained(html);
    expect(html).toContain('invalid_client');
  });

  it('escapes what it shows back: a failed sign-in keeps the user name, as text', async () => {
    const browser = new Browser(t.origin);
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT, scope: 'openid', aud: t.audience, code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const login = await browser.go(url.href);
    expect(login.html).toContain('<label for="username">');
    selfContained(login.html);
    const failed = await browser.submit(login, '/login', { username: '"><script>alert(1)</script>', password: 'nope' });
    expect(failed.status).toBe(401);
    expect(failed.html).toContain('The user name or the password is wrong.');
    expect(failed.html).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(failed.html).not.toContain('<script>');
    // The right password still works on the same page.
    const next = await browser.submit(failed, '/login', { username: 'clinician', password: PASSWORD });
    expect(next.html).toContain('<title>Allow access?</title>');
  });

  it('a form posted without the interaction cookie (from another site) reaches nothing', async () => {
    const browser = new Browser(t.origin);
    const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT, scope: 'openid', aud: t.audience, code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' });
    const login = await browser.go(url.href);
    const action = /<form method="post" action="([^"]+)"/.exec(login.html)![1]!;
    const forged = await new Browser(t.origin).go(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `username=clinician&password=${encodeURIComponent(PASSWORD)}` });
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('This sign-in has expired');
  });

  it('signing out asks first, on a page of its own, and takes the session’s online grants out of force', async () => {
    const browser = new Browser(t.origin);
    const { callback, verifier, state } = await authorize(t, app, { scope: 'openid fhirUser online_access user/*.read', redirectUri: REDIRECT, browser });
    const tokens = await oidc.authorizationCodeGrant(app, callback, { pkceCodeVerifier: verifier, expectedState: state });
    const claims = await verifyAccessToken(t, tokens.access_token);
    expect(await t.embedded.issuer.inForce!(claims)).toBe(true);
    const ask = await browser.go('/auth/logout');
    expect(ask.html).toContain('<title>Sign out?</title>');
    selfContained(ask.html);
    const form = /<form id="op.logoutForm" method="post" action="([^"]+)"><input type="hidden" name="xsrf" value="([^"]+)"\/>/.exec(ask.html)!;
    const done = await browser.go(form[1]!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: form[2]!, logout: 'yes' }).toString() });
    expect(done.html).toContain('You have signed out.');
    selfContained(done.html);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await t.embedded.issuer.inForce!(claims)).toBe(false);
  });

  it('the EHR launch page lists only apps with a launch URL, and refuses to launch anything else', async () => {
    const page = await new Browser(t.origin).go('/auth/launch');
    selfContained(page.html);
    expect(page.html).not.toContain('Pages app');
    const res = await new Browser(t.origin).go('/auth/launch', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=nobody&patient=1' });
    expect(res.status).toBe(400);
  });
});
