import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING } from '../../src/search/access.js';
import { storeKinds } from '../helpers/server.js';
import { type AuthTestServer, authorize, Browser, discover, oauthError, register, startAuthServer } from '../auth/helpers.js';

/**
 * Issue 11: the authorization server's events are in the audit trail: a sign-in that
 * worked and one that failed, a token issued, a token refused, a client registered; never
 * a password, a secret or a token.
 */

const REDIRECT = 'https://app.example/callback';

interface Event {
  type: { code: string };
  subtype: Array<{ system: string; code: string }>;
  outcome: string;
  outcomeDesc?: string;
  agent: Array<{ requestor: boolean; userId?: { value: string }; altId?: string; network?: { address: string } }>;
}

for (const kind of await storeKinds()) {
  describe(`the authorization server's events are audited (${kind})`, () => {
    let t: AuthTestServer;
    let app: oidc.Configuration;
    let secret: string;

    beforeAll(async () => {
      t = await startAuthServer(kind, { registrationToken: 'let-me-register' });
      const c = await register(t, { name: 'Audited app', grant: 'authorization_code', redirectUris: [REDIRECT], scope: 'launch/patient openid fhirUser patient/*.read' });
      secret = c.client_secret!;
      app = await discover(t, c.client_id, oidc.ClientSecretBasic(secret));
    });
    afterAll(async () => t?.stop());

    /** The authorization server's events so far (urn:ccri:audit-event), once the group commit has run. */
    const events = async (): Promise<Event[]> => {
      await t.server.audit!.close();
      const page = await t.server.store.reader(EVERYTHING).search({ types: ['AuditEvent'], where: [], sort: [], count: 1000, offset: 0, total: false });
      return page.rows.map((r) => JSON.parse(r.json!) as Event).filter((e) => e.subtype[0]!.system === 'urn:ccri:audit-event');
    };
    const of = (all: Event[], code: string) => all.filter((e) => e.subtype[0]!.code === code);

    it('records sign-ins that failed and that worked, the token issued, and a refused token request', async () => {
      // A wrong password first, in the same browser that then signs in properly.
      const browser = new Browser(t.origin);
      const url = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT, scope: 'launch/patient openid patient/*.read', state: 's', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', aud: t.audience });
      const login = await browser.go(url.href);
      const wrong = await browser.submit(login, '/login', { username: 'clinician', password: 'not the password' });
      expect(wrong.status).toBe(401);
      const { callback, verifier, state } = await authorize(t, app, { scope: 'launch/patient openid patient/*.read', redirectUri: REDIRECT, pick: '2' });
      await oidc.authorizationCodeGrant(app, callback, { pkceCodeVerifier: verifier, expectedState: state });
      // The same code again is refused.
      expect(await oauthError(oidc.authorizationCodeGrant(app, callback, { pkceCodeVerifier: verifier, expectedState: state }))).toBe('invalid_grant');

      const all = await events();
      const signIns = of(all, 'sign-in');
      expect(signIns.map((e) => e.outcome).sort()).toEqual(['0', '4']);
      for (const e of signIns) {
        expect(e.type.code).toBe('110114');
        expect(e.agent.find((a) => a.requestor)!.userId!.value).toBe('clinician');
        expect(e.agent.find((a) => !a.requestor)!.altId).toBe(app.clientMetadata().client_id);
        expect(e.agent.find((a) => a.requestor)!.network!.address).toBe('127.0.0.1');
      }
      const issued = of(all, 'token-issued');
      expect(issued).toHaveLength(1);
      expect(issued[0]!.outcome).toBe('0');
      expect(issued[0]!.outcomeDesc).toContain('patient/*.read');
      const refused = of(all, 'token-refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]!.outcome).toBe('4');
      expect(refused[0]!.outcomeDesc).toContain('invalid_grant');
      // Never a password, a secret, or a code.
      const text = JSON.stringify(all);
      for (const secretish of ['not the password', 'correct horse battery', secret, callback.searchParams.get('code')!]) expect(text).not.toContain(secretish);
    });

    it('records a client registered', async () => {
      const res = await fetch(`${t.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer let-me-register' }, body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: 'Registered', token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' }) });
      expect(res.status).toBe(201);
      const { client_id: id } = (await res.json()) as { client_id: string };
      const registered = of(await events(), 'client-registered');
      expect(registered.map((e) => e.agent.find((a) => !a.requestor)?.altId)).toContain(id);
      expect(await t.server.store.audit().verify()).toEqual([]);
    });
  });
}
