import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../helpers/server.js';
import { type AuthTestServer, authorize, Browser, discover, oauthError, register, startAuthServer, verifyAccessToken } from './helpers.js';

/**
 * SMART App Launch 1.0 against the embedded authorization server, with openid-client as
 * the app and the pages driven over HTTP as a browser drives them: standalone launch with
 * the patient picker, a patient user, EHR launch, refresh, and what is refused.
 */
const REDIRECT = 'https://app.example/callback';
const SCOPE = 'launch/patient openid fhirUser offline_access patient/*.read user/Practitioner.read';

for (const kind of await storeKinds()) {
  describe(`SMART App Launch (${kind})`, () => {
    let t: AuthTestServer;
    let confidential: oidc.Configuration;
    let publicApp: oidc.Configuration;
    let confidentialId: string;

    beforeAll(async () => {
      t = await startAuthServer(kind);
      const c = await register(t, { name: 'Confidential <app>', grant: 'authorization_code', redirectUris: [REDIRECT], launchUri: 'https://app.example/launch', scope: `${SCOPE} launch online_access patient/Observation.write` });
      confidentialId = c.client_id;
      expect(c.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      confidential = await discover(t, c.client_id, oidc.ClientSecretBasic(c.client_secret!));
      const p = await register(t, { name: 'Public app', grant: 'authorization_code', public: true, redirectUris: [REDIRECT], scope: 'launch/patient openid fhirUser online_access patient/*.read user/*.read' });
      expect(p.client_secret).toBeUndefined();
      publicApp = await discover(t, p.client_id, oidc.None());
    });
    afterAll(async () => t?.stop());

    it('standalone launch: sign in, pick a patient, consent; the tokens carry the launch context and verify against the JWKS', async () => {
      const { callback, verifier, state, pages } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT, pick: '2' });
      expect(pages.some((p) => p.includes('Smith'))).toBe(true);
      // The consent page names the app, escaped, and the scopes in words.
      const consent = pages.find((p) => p.includes('<title>Allow access?</title>'))!;
      expect(consent).toContain('Confidential &lt;app&gt;');
      expect(consent).not.toContain('Confidential <app>');
      expect(consent).toContain('Read all kinds of record of the patient you choose');
      const tokens = await oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      expect(tokens.expires_in).toBeGreaterThan(0);
      expect(tokens.patient).toBe('2');
      expect(tokens.need_patient_banner).toBe(true);
      expect(tokens.scope!.split(' ').sort()).toEqual(SCOPE.split(' ').sort());
      expect(tokens.refresh_token).toBeTypeOf('string');
      const idToken = tokens.claims()!;
      expect(idToken.sub).toBe('clinician');
      expect(idToken.fhirUser).toBe(`${t.audience}/Practitioner/3`);
      const claims = await verifyAccessToken(t, tokens.access_token);
      expect(claims).toMatchObject({ iss: t.issuer, aud: t.audience, client_id: confidentialId, sub: 'clinician', patient: '2', fhirUser: `${t.audience}/Practitioner/3` });
      expect(claims.grant).toBeTypeOf('string');
      expect(claims.exp! - claims.iat!).toBe(3600);
      expect(await t.embedded.issuer.inForce!(claims)).toBe(true);
      // Introspection (RFC 7662) of the JWT access token and of the refresh token.
      const introspected = await oidc.tokenIntrospection(confidential, tokens.access_token);
      expect(introspected).toMatchObject({ active: true, client_id: confidentialId, sub: 'clinician', patient: '2', scope: tokens.scope });
      expect((await oidc.tokenIntrospection(confidential, tokens.refresh_token!)).active).toBe(true);
      // The secure base takes it: the launch patient's record, and nothing outside her compartment.
      const get = (path: string) => fetch(`${t.audience}/${path}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect((await get('Patient/2')).status).toBe(200);
      expect((await get('Patient/1')).status).toBe(404);
    });

    it("the secure base's smart-configuration names this server's endpoints", async () => {
      const smart = (await (await fetch(`${t.audience}/.well-known/smart-configuration`)).json()) as Record<string, unknown>;
      expect(smart).toMatchObject({ authorization_endpoint: `${t.issuer}/authorize`, token_endpoint: `${t.issuer}/token`, introspection_endpoint: `${t.issuer}/introspect`, revocation_endpoint: `${t.issuer}/revoke` });
      for (const c of ['launch-standalone', 'launch-ehr', 'client-public', 'client-confidential-symmetric', 'sso-openid-connect', 'context-standalone-patient', 'context-ehr-patient', 'permission-offline', 'permission-patient', 'permission-user']) {
        expect(smart.capabilities).toContain(c);
      }
      expect(smart.code_challenge_methods_supported).toEqual(['S256']);
    });

    it('a patient user gets her own record as the patient, without a picker, and no user/ scopes', async () => {
      const { callback, verifier, state, pages } = await authorize(t, publicApp, { scope: 'launch/patient openid fhirUser patient/*.read user/*.read', redirectUri: REDIRECT, user: 'bernie' });
      expect(pages.some((p) => p.includes('Choose a patient'))).toBe(false);
      expect(pages.find((p) => p.includes('Allow access?'))).toContain('Bernie Kanfeld');
      const tokens = await oidc.authorizationCodeGrant(publicApp, callback, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.patient).toBe('1');
      expect(tokens.scope!.split(' ')).not.toContain('user/*.read');
      expect(tokens.refresh_token).toBeUndefined();
      expect(tokens.claims()!.fhirUser).toBe(`${t.audience}/Patient/1`);
      expect(await verifyAccessToken(t, tokens.access_token)).toMatchObject({ patient: '1', sub: 'bernie' });
    });

    it('EHR launch: the launch page issues a launch value and redirects to the app, whose authorization then carries that patient', async () => {
      const browser = new Browser(t.origin);
      const launchPage = await browser.go('/auth/launch?name=Smith');
      expect(launchPage.status).toBe(200);
      const launched = await browser.submit(launchPage, '/auth/launch', { client_id: confidentialId, patient: '3' });
      const at = new URL(launched.url);
      expect(`${at.origin}${at.pathname}`).toBe('https://app.example/launch');
      expect(at.searchParams.get('iss')).toBe(t.audience);
      const launch = at.searchParams.get('launch')!;
      const { callback, verifier, state, pages } = await authorize(t, confidential, { scope: 'launch openid fhirUser patient/*.read', redirectUri: REDIRECT, launch });
      expect(pages.some((p) => p.includes('Choose a patient'))).toBe(false);
      const tokens = await oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.patient).toBe('3');
      expect(tokens.need_patient_banner).toBe(false);
      expect((await verifyAccessToken(t, tokens.access_token)).patient).toBe('3');
    });

    it('an unknown launch value is refused', async () => {
      const page = await new Browser(t.origin).go(
        oidc.buildAuthorizationUrl(confidential, { redirect_uri: REDIRECT, scope: 'launch openid', launch: 'made-up', aud: t.audience, code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256' }).href,
      );
      expect(new URL(page.url).searchParams.get('error')).toBe('invalid_request');
    });

    it('refreshes, within the granted scopes only', async () => {
      const { callback, verifier, state } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT, pick: '2' });
      const tokens = await oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state });
      const refreshed = await oidc.refreshTokenGrant(confidential, tokens.refresh_token!);
      expect(refreshed.patient).toBe('2');
      expect((await verifyAccessToken(t, refreshed.access_token)).grant).toBe((await verifyAccessToken(t, tokens.access_token)).grant);
      const narrower = await oidc.refreshTokenGrant(confidential, refreshed.refresh_token ?? tokens.refresh_token!, { scope: 'patient/*.read offline_access' });
      expect(narrower.scope!.split(' ').sort()).toEqual(['offline_access', 'patient/*.read']);
      expect(await oauthError(oidc.refreshTokenGrant(confidential, refreshed.refresh_token ?? tokens.refresh_token!, { scope: 'patient/*.read patient/Observation.write' }))).toBe('invalid_scope');
    });

    it('a code used twice is refused, and the tokens issued from it are no longer in force', async () => {
      const { callback, verifier, state } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT });
      const tokens = await oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state });
      const claims = await verifyAccessToken(t, tokens.access_token);
      expect(await t.embedded.issuer.inForce!(claims)).toBe(true);
      await expect(oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
      // Revocation reaches this node's cache at once; other nodes within a second.
      await new Promise((r) => setTimeout(r, 1100));
      expect(await t.embedded.issuer.inForce!(claims)).toBe(false);
      expect((await oidc.tokenIntrospection(confidential, tokens.access_token)).active).toBe(false);
      expect((await oidc.tokenIntrospection(confidential, tokens.refresh_token!)).active).toBe(false);
      expect((await fetch(`${t.audience}/Patient/2`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(401);
    });

    it('revoking the access token (RFC 7009) takes its grant out of force', async () => {
      const { callback, verifier, state } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT });
      const tokens = await oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: verifier, expectedState: state });
      await oidc.tokenRevocation(confidential, tokens.access_token);
      expect(await t.embedded.issuer.inForce!(await verifyAccessToken(t, tokens.access_token))).toBe(false);
      expect((await oidc.tokenIntrospection(confidential, tokens.access_token)).active).toBe(false);
      await expect(oidc.refreshTokenGrant(confidential, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('a wrong PKCE verifier is refused', async () => {
      const { callback, state } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT });
      await expect(oidc.authorizationCodeGrant(confidential, callback, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('refuses at the authorization endpoint: plain PKCE, no PKCE, a wrong aud, an unregistered redirect URI, a scope the client may not have', async () => {
      const base = { redirect_uri: REDIRECT, scope: 'openid patient/*.read', aud: t.audience, code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' };
      const errorOf = async (params: Record<string, string | undefined>) => {
        const url = oidc.buildAuthorizationUrl(confidential, Object.fromEntries(Object.entries({ ...base, ...params }).filter(([, v]) => v !== undefined)) as Record<string, string>);
        const page = await new Browser(t.origin).go(url.href);
        return page.url.startsWith(REDIRECT) ? new URL(page.url).searchParams.get('error') : `page ${page.status}`;
      };
      expect(await errorOf({})).toBe('page 200');
      expect(await errorOf({ code_challenge_method: 'plain' })).toBe('invalid_request');
      expect(await errorOf({ code_challenge: undefined, code_challenge_method: undefined })).toBe('invalid_request');
      expect(await errorOf({ aud: 'https://elsewhere.example/fhir' })).toBe('invalid_request');
      expect(await errorOf({ aud: undefined })).toBe('invalid_request');
      expect(await errorOf({ scope: 'openid system/*.read' })).toBe('invalid_scope');
      // A redirect URI not registered is never redirected to: the error is shown on a page of the server's own.
      expect(await errorOf({ redirect_uri: 'https://attacker.example/callback' })).toBe('page 400');
    });

    it('the public client cannot authenticate as a confidential one, nor a confidential one with a wrong secret', async () => {
      const wrong = await discover(t, confidentialId, oidc.ClientSecretBasic('not-the-secret'));
      const { callback, verifier, state } = await authorize(t, confidential, { scope: SCOPE, redirectUri: REDIRECT });
      expect(await oauthError(oidc.authorizationCodeGrant(wrong, callback, { pkceCodeVerifier: verifier, expectedState: state }))).toBe('invalid_client');
    });
  });
}
