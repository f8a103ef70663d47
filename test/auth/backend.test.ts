import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../helpers/server.js';
import { type AuthTestServer, discover, oauthError, register, startAuthServer, verifyAccessToken } from './helpers.js';

/**
 * SMART Backend Services: client_credentials with private_key_jwt, RS384 with the
 * client's JWKS registered inline and ES384 with it published at a URL, system/ scopes
 * only, and the assertion rules (a jti used once, an exp at most five minutes ahead).
 * https://hl7.org/fhir/uv/bulkdata/authorization/
 */
for (const kind of await storeKinds()) {
  describe(`backend services (${kind})`, () => {
    let t: AuthTestServer;
    let jwksServer: Server;
    const clients: Record<'RS384' | 'ES384', { id: string; key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] }> = {} as never;

    beforeAll(async () => {
      // The client's JWKS is served on the loopback interface, which the server fetches from only when allowed.
      t = await startAuthServer(kind, { authFetchPrivate: true });
      const rs = await generateKeyPair('RS384');
      const es = await generateKeyPair('ES384');
      const esJwks = { keys: [{ ...(await exportJWK(es.publicKey)), alg: 'ES384', kid: 'es-1' }] };
      // The ES384 client's keys are published at a URL of its own, as a backend service's usually are.
      jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(esJwks)));
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
      const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
      const rsClient = await register(t, { name: 'Bulk RS384', grant: 'client_credentials', jwks: { keys: [{ ...(await exportJWK(rs.publicKey)), alg: 'RS384', kid: 'rs-1' }] }, scope: 'system/*.read' });
      const esClient = await register(t, { name: 'Bulk ES384', grant: 'client_credentials', jwksUri: jwksUrl, scope: 'system/Patient.read system/Observation.read system/Observation.write' });
      expect(rsClient.client_secret).toBeUndefined();
      clients.RS384 = { id: rsClient.client_id, key: rs.privateKey };
      clients.ES384 = { id: esClient.client_id, key: es.privateKey };
    });
    afterAll(async () => {
      await t?.stop();
      jwksServer?.close();
    });

    const config = (alg: 'RS384' | 'ES384', modify?: (header: Record<string, unknown>, payload: Record<string, unknown>) => void) =>
      discover(t, clients[alg].id, oidc.PrivateKeyJwt({ key: clients[alg].key, kid: alg === 'RS384' ? 'rs-1' : 'es-1' } as never, modify ? { [oidc.modifyAssertion]: modify } : {}));

    for (const [alg, scope] of [['RS384', 'system/*.read'], ['ES384', 'system/Observation.read system/Patient.read']] as const) {
      it(`issues a system token to a client signing with ${alg}`, async () => {
        const c = await config(alg);
        const tokens = await oidc.clientCredentialsGrant(c, { scope });
        expect(tokens.scope!.split(' ').sort()).toEqual(scope.split(' ').sort());
        expect(tokens.expires_in).toBe(300);
        expect(tokens.refresh_token).toBeUndefined();
        const claims = await verifyAccessToken(t, tokens.access_token);
        expect(claims).toMatchObject({ iss: t.issuer, aud: t.audience, client_id: clients[alg].id, sub: clients[alg].id });
        expect(claims.patient).toBeUndefined();
        expect(claims.grant).toBeUndefined();
        expect(await t.embedded.issuer.inForce!(claims)).toBe(true);
        expect(await oidc.tokenIntrospection(c, tokens.access_token)).toMatchObject({ active: true, client_id: clients[alg].id });
        // Revoked, it is no longer in force anywhere.
        await oidc.tokenRevocation(c, tokens.access_token);
        expect(await t.embedded.issuer.inForce!(claims)).toBe(false);
        expect((await oidc.tokenIntrospection(c, tokens.access_token)).active).toBe(false);
      });
    }

    it('refuses patient/ and user/ scopes, and system scopes the client was not registered for', async () => {
      const c = await config('ES384');
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'patient/*.read' }))).toBe('invalid_scope');
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'user/Patient.read' }))).toBe('invalid_scope');
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'system/Patient.write' }))).toBe('invalid_scope');
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'system/Observation.write' }))).toBeUndefined();
    });

    it('refuses an assertion whose jti was used before', async () => {
      const jti = `once-${Math.random()}`;
      const c = await config('RS384', (_h, payload) => void (payload.jti = jti));
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'system/*.read' }))).toBeUndefined();
      expect(await oauthError(oidc.clientCredentialsGrant(c, { scope: 'system/*.read' }))).toBe('invalid_client');
    });

    it('refuses an assertion that expires more than five minutes ahead, and one signed with the wrong key', async () => {
      const far = await config('RS384', (_h, payload) => void (payload.exp = Math.floor(Date.now() / 1000) + 600));
      expect(await oauthError(oidc.clientCredentialsGrant(far, { scope: 'system/*.read' }))).toBe('invalid_client');
      const near = await config('RS384', (_h, payload) => void (payload.exp = Math.floor(Date.now() / 1000) + 240));
      expect(await oauthError(oidc.clientCredentialsGrant(near, { scope: 'system/*.read' }))).toBeUndefined();
      const impostor = await discover(t, clients.RS384.id, oidc.PrivateKeyJwt({ key: (await generateKeyPair('RS384')).privateKey, kid: 'rs-1' } as never));
      expect(await oauthError(oidc.clientCredentialsGrant(impostor, { scope: 'system/*.read' }))).toBe('invalid_client');
    });
  });
}
