import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { rotateKeys } from '../../src/auth/server/keys.js';
import { LONGEST_SIGNED_MS } from '../../src/auth/server/ttl.js';
import { startListening } from '../helpers/listen.js';
import { storeKinds } from '../helpers/server.js';
import { type AuthTestServer, discover, oauthError, register, startAuthServer, verifyAccessToken } from './helpers.js';

/** Key rotation, dynamic registration, and the commands that administer the authorization server. */

for (const kind of await storeKinds()) {
  describe(`signing keys and registration (${kind})`, () => {
    let t: AuthTestServer;
    beforeAll(async () => {
      t = await startAuthServer(kind, { registrationToken: 'let-me-register' });
    });
    afterAll(async () => t?.stop());

    const backend = async () => {
      const { privateKey, publicKey } = await generateKeyPair('ES384');
      const c = await register(t, { name: 'Keys test', grant: 'client_credentials', jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'ES384', kid: 'k' }] }, scope: 'system/*.read' });
      return discover(t, c.client_id, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k' } as never));
    };

    it('rotation: new tokens are signed with the new key, old ones still verify with the published JWKS until they expire', async () => {
      const c = await backend();
      const before = (await oidc.clientCredentialsGrant(c, { scope: 'system/*.read' })).access_token;
      const oldKid = decodeProtectedHeader(before).kid!;
      const { kid: newKid, retired } = await rotateKeys(t.server.store.auth(), LONGEST_SIGNED_MS);
      expect(retired).toEqual([oldKid]);
      // Every node looks for rotated keys every few seconds: wait (bounded) for this one to sign with the new key.
      let after = before;
      for (let i = 0; i < 60 && decodeProtectedHeader(after).kid !== newKid; i++) {
        await new Promise((r) => setTimeout(r, 250));
        after = (await oidc.clientCredentialsGrant(c, { scope: 'system/*.read' })).access_token;
      }
      expect(decodeProtectedHeader(after).kid).toBe(newKid);
      const published = (await (await fetch(`${t.issuer}/jwks`)).json()) as { keys: Array<{ kid: string; d?: string }> };
      expect(published.keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
      expect(published.keys.every((k) => k.d === undefined)).toBe(true);
      expect((await t.embedded.issuer.keys()).keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
      await verifyAccessToken(t, before);
      await verifyAccessToken(t, after);
    });

    it('dynamic registration (RFC 7591) needs the initial access token; the secret it returns works and is stored only hashed', async () => {
      const metadata = { client_name: 'Registered', redirect_uris: ['https://reg.example/cb'], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid patient/*.read' };
      const post = (token?: string) =>
        fetch(`${t.issuer}/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(metadata) });
      expect((await post()).status).toBe(401);
      expect((await post('wrong')).status).toBe(401);
      const c = await oidc.dynamicClientRegistration(new URL(t.issuer), metadata, undefined, { initialAccessToken: 'let-me-register', execute: [oidc.allowInsecureRequests] });
      const { client_id: id, client_secret: secret } = c.clientMetadata();
      expect(typeof secret).toBe('string');
      const stored = await t.server.store.auth().get('Client', id);
      expect(String(stored?.payload.client_secret)).toMatch(/^sha256\./);
      expect(JSON.stringify(stored)).not.toContain(String(secret));
      // Introspection authenticates the client: a made-up token is inactive for it, and a wrong secret is refused.
      const right = await discover(t, id, oidc.ClientSecretBasic(String(secret)));
      expect((await oidc.tokenIntrospection(right, 'made-up')).active).toBe(false);
      const wrong = await discover(t, id, oidc.ClientSecretBasic('guess'));
      expect(await oauthError(oidc.tokenIntrospection(wrong, 'made-up'))).toBe('invalid_client');
    });
  });
}

describe('registration is closed without CCRI_REGISTRATION_TOKEN', () => {
  it('answers 404 at /auth/register and advertises no endpoint', async () => {
    const s = await startListening();
    try {
      const origin = new URL(s.baseUrl).origin;
      const res = await fetch(`${origin}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":["https://x.example/cb"]}' });
      expect(res.status).toBe(404);
      const discovery = (await (await fetch(`${origin}/auth/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
      expect(discovery.registration_endpoint).toBeUndefined();
      expect(s.auth!.issuer.endpoints.registration).toBeUndefined();
      // What the secure base will advertise (smart-configuration) is what the server does.
      const sorted = (v: unknown) => [...(v as string[])].sort();
      expect(sorted(discovery.code_challenge_methods_supported)).toEqual(sorted(s.auth!.smart.code_challenge_methods_supported));
      expect(sorted(discovery.token_endpoint_auth_methods_supported)).toEqual(sorted(s.auth!.smart.token_endpoint_auth_methods_supported));
      expect(sorted(discovery.grant_types_supported)).toEqual(sorted(s.auth!.smart.grant_types_supported));
      expect(sorted(discovery.response_types_supported)).toEqual(sorted(s.auth!.smart.response_types_supported));
      for (const scope of s.auth!.smart.scopes_supported) expect(discovery.scopes_supported).toContain(scope);
      for (const [name, url] of Object.entries(s.auth!.issuer.endpoints)) {
        const key = { authorization: 'authorization_endpoint', token: 'token_endpoint', introspection: 'introspection_endpoint', revocation: 'revocation_endpoint', jwks: 'jwks_uri' }[name];
        if (key) expect(discovery[key], name).toBe(url);
      }
    } finally {
      await s.stop();
    }
  });
});

describe('the commands: ccri client, user, keys', () => {
  const main = join(projectRoot(), 'dist', 'cli', 'main.js');
  const dir = mkdtempSync(join(tmpdir(), 'ccri-auth-cli-'));
  const exec = promisify(execFile);
  // Each command is a process of its own: one that does not exit is killed, and the failure names it.
  const ccri = async (...args: string[]) => {
    try {
      return (await exec(process.execPath, [main, ...args, '--data-dir', dir], { env: { ...process.env, CCRI_LOG_LEVEL: 'error' }, timeout: 30_000 })).stdout;
    } catch (err) {
      const { killed, signal, stderr } = err as { killed?: boolean; signal?: string; stderr?: string };
      throw new Error(`ccri ${args.join(' ')} ${killed ? `did not exit within 30 s (killed with ${signal})` : 'failed'}: ${stderr ?? String(err)}`);
    }
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, lists and removes clients and users, rotates keys, and a server on the store uses them', async () => {
    const app = JSON.parse(await ccri('client', 'add', '--name', 'CLI app', '--grant', 'authorization_code', '--redirect-uri', 'https://cli.example/a', '--redirect-uri', 'https://cli.example/b', '--launch-uri', 'https://cli.example/launch', '--scope', 'launch openid patient/*.read'));
    expect(app).toMatchObject({ client_name: 'CLI app', token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://cli.example/a', 'https://cli.example/b'], launch_uri: 'https://cli.example/launch' });
    expect(app.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const pub = JSON.parse(await ccri('client', 'add', '--name', 'CLI public', '--grant', 'authorization_code', '--public', '--redirect-uri', 'https://cli.example/p', '--scope', 'openid'));
    expect(pub.token_endpoint_auth_method).toBe('none');
    expect(pub.client_secret).toBeUndefined();
    const { publicKey, privateKey } = await generateKeyPair('RS384');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), alg: 'RS384', kid: 'cli' }] }));
    const bulk = JSON.parse(await ccri('client', 'add', '--name', 'CLI bulk', '--grant', 'client_credentials', '--jwks-file', join(dir, 'jwks.json'), '--scope', 'system/*.read'));
    expect(bulk.token_endpoint_auth_method).toBe('private_key_jwt');
    const listed = JSON.parse(await ccri('client', 'list')) as Array<Record<string, unknown>>;
    expect(listed.map((c) => c.client_name).sort()).toEqual(['CLI app', 'CLI bulk', 'CLI public']);
    expect(listed.every((c) => !('client_secret' in c))).toBe(true);
    expect(JSON.stringify(listed)).not.toContain('sha256.');
    expect(await ccri('client', 'remove', pub.client_id)).toContain('Removed');
    expect((JSON.parse(await ccri('client', 'list')) as unknown[]).length).toBe(2);
    await expect(exec(process.execPath, [main, 'client', 'add', '--name', 'x', '--grant', 'implicit', '--scope', 'openid', '--data-dir', dir])).rejects.toMatchObject({ code: 1 });

    expect(await ccri('user', 'add', '--username', 'drwho', '--password', 'sonic screwdriver', '--practitioner', '3')).toContain('Practitioner/3');
    const users = JSON.parse(await ccri('user', 'list')) as Array<Record<string, unknown>>;
    expect(users).toEqual([expect.objectContaining({ username: 'drwho', practitioner: '3' })]);
    expect(JSON.stringify(users)).not.toContain('scrypt');

    const keys = JSON.parse(await ccri('keys', 'list')) as { keys: Array<{ kid: string }> };
    expect(keys.keys).toHaveLength(1);
    expect(await ccri('keys', 'rotate')).toContain(`retired ${keys.keys[0]!.kid}`);
    const rotated = JSON.parse(await ccri('keys', 'list')) as { keys: Array<{ kid: string }> };
    expect(rotated.keys).toHaveLength(2);

    // A server on the same store serves the CLI's backend client, signing with the rotated key.
    const s = await startListening({ dataDir: dir });
    try {
      const config = await oidc.discovery(new URL(s.auth!.issuer.issuer), bulk.client_id, {}, oidc.PrivateKeyJwt({ key: privateKey, kid: 'cli' } as never), { execute: [oidc.allowInsecureRequests] });
      const token = await oidc.clientCredentialsGrant(config, { scope: 'system/*.read' });
      expect(decodeProtectedHeader(token.access_token).kid).toBe(rotated.keys[0]!.kid);
    } finally {
      await s.stop();
    }
  }, 180_000); // about fifteen processes, one after another
});
