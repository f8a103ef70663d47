import { exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'oidc-provider/lib/helpers/als.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerContextEnabled, providerRequest } from '../../src/auth/server/provider-context.js';
import { type AuthTestServer, discover, register, startAuthServer } from './helpers.js';
import * as client from 'openid-client';

const storage = oidc.default;
/** Whether this Node's AsyncLocalStorage says when it is enabled (Node 20 and 22 do; its hooks cost only there). */
const observable = 'enabled' in storage;

/**
 * oidc-provider's AsyncLocalStorage is disabled between its requests: on Node 20, once
 * enabled, it keeps promise hooks on for every promise of every request of the process
 * (src/auth/server/provider-context.ts).
 */
describe("oidc-provider's request context", () => {
  it('stays with each request while any is under way, and is disabled once none is', async () => {
    let releaseFirst!: () => void;
    let releaseSecond!: () => void;
    const seen: unknown[] = [];
    const first = providerRequest(() =>
      storage.run('first', async () => {
        await new Promise<void>((r) => (releaseFirst = r));
        seen.push(storage.getStore());
      }),
    );
    const second = providerRequest(() =>
      storage.run('second', async () => {
        await new Promise<void>((r) => (releaseSecond = r));
        seen.push(storage.getStore());
      }),
    );
    await new Promise((r) => setImmediate(r));
    releaseFirst();
    await first;
    // The second request is still under way: its context must have survived the first's end.
    if (observable) expect(providerContextEnabled()).toBe(true);
    releaseSecond();
    await second;
    expect(seen).toEqual(['first', 'second']);
    if (observable) expect(providerContextEnabled()).toBe(false);
    expect(storage.getStore()).toBeUndefined();
  });

  it('is disabled after a request that fails, too', async () => {
    await expect(providerRequest(() => storage.run('failing', async () => Promise.reject(new Error('refused'))))).rejects.toThrow('refused');
    if (observable) expect(providerContextEnabled()).toBe(false);
  });

  describe('in the server', () => {
    let t: AuthTestServer;
    beforeAll(async () => {
      t = await startAuthServer('sqlite');
    });
    afterAll(async () => t?.stop());

    it('is disabled after requests to /auth, which keep working one after another', async () => {
      const res = await fetch(`${t.issuer}/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      if (observable) expect(providerContextEnabled()).toBe(false);
      // A whole grant, with oidc-provider's context needed at each step, twice.
      const { privateKey, publicKey } = await generateKeyPair('ES384');
      const registered = await register(t, { name: 'Context check', grant: 'client_credentials', jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES384', kid: 'k' }] }, scope: 'system/Patient.read' });
      for (let i = 0; i < 2; i++) {
        const c = await discover(t, registered.client_id, client.PrivateKeyJwt({ key: privateKey, kid: 'k' } as never));
        const tokens = await client.clientCredentialsGrant(c, { scope: 'system/Patient.read' });
        expect(tokens.access_token).toBeTruthy();
        if (observable) expect(providerContextEnabled()).toBe(false);
        const read = await fetch(`${t.audience}/Patient/1`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
        expect(read.status).toBe(200);
      }
    });
  });
});
