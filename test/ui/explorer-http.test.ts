import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explorerPlugin } from '../../src/ui/plugin.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The explorer's server side, through app.inject(): pages, assets, /openapi.json and the 404 and error pages. */
describe('web explorer (server side)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.cleanup());

  it('answers / and each page route with the shell, the run-time configuration written in', async () => {
    for (const url of ['/', '/patients', '/patients/1', '/browse/Patient?family=x', '/resources/Observation/1-obs-2', '/validate', '/profiles', '/profiles/CareConnect-Patient-1', '/api', '/sign-in', '/sign-in/callback?code=x&state=y', '/audit?patient=1']) {
      const res = await server.request('GET', url, { headers: { accept: 'text/html' } });
      expect(res.status, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      const config = /<script type="application\/json" id="ccri-config">([^<]*)<\/script>/.exec(res.text)?.[1];
      const origin = new URL(server.server.config.baseUrl).origin;
      expect(JSON.parse(config!)).toEqual({
        openBase: server.server.config.baseUrl,
        secureBase: server.server.config.baseUrl.replace(/\/STU3$/, '/secure/STU3'),
        signIn: { available: true, issuer: `${origin}/auth`, clientId: 'ccri-explorer', redirectUri: `${origin}/sign-in/callback`, signedOutUri: `${origin}/` },
      });
    }
  });

  it('forbids the page to load anything from elsewhere', async () => {
    const res = await server.request('GET', '/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ${new URL(server.server.config.baseUrl).origin}`);
    // The assets the page names are all on this server.
    const urls = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.filter((u) => /^(https?:)?\/\//.test(u))).toEqual([]);
  });

  it('serves the built assets, gzipped when asked, cacheable for good', async () => {
    const shell = (await server.request('GET', '/')).text;
    const script = /<script type="module" crossorigin src="([^"]+)"/.exec(shell)![1]!;
    const plain = await server.app.inject({ method: 'GET', url: script });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toMatch(/javascript/);
    expect(plain.headers['cache-control']).toContain('immutable');
    const zipped = await server.app.inject({ method: 'GET', url: script, headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.rawPayload).toString()).toBe(plain.body);
    expect((await server.app.inject({ method: 'GET', url: '/assets/../package.json' })).statusCode).toBe(404);
  });

  it('gives a browser its 404 page and any other client the API’s OperationOutcome', async () => {
    const html = await server.request('GET', '/no/such/page', { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(html.status).toBe(404);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    const json = await server.request('GET', '/no/such/page');
    expect(json.status).toBe(404);
    expect(json.json.resourceType).toBe('OperationOutcome');
  });

  it('leaves the FHIR API as it was', async () => {
    const res = await server.request('GET', '/STU3/metadata', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.json.resourceType).toBe('CapabilityStatement');
    const missing = await server.request('GET', '/STU3/Patient/nope', { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(missing.json.resourceType).toBe('OperationOutcome');
  });

  it('serves an OpenAPI document listing every type the CapabilityStatement does', async () => {
    const cs = (await server.request('GET', '/STU3/metadata')).json;
    const res = await server.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.servers).toEqual([expect.objectContaining({ url: server.server.config.baseUrl }), expect.objectContaining({ url: server.server.config.baseUrl.replace(/\/STU3$/, '/secure/STU3') })]);
    const types: string[] = cs.rest[0].resource.map((r: { type: string }) => r.type);
    expect(types.length).toBeGreaterThan(100);
    const tags = new Set(doc.tags.map((t: { name: string }) => t.name));
    for (const t of types) {
      expect(tags.has(t), t).toBe(true);
      expect(doc.paths[`/${t}/{id}`]?.get, t).toBeDefined();
    }
    const zipped = await server.app.inject({ method: 'GET', url: '/openapi.json', headers: { 'accept-encoding': 'gzip' } });
    expect(JSON.parse(gunzipSync(zipped.rawPayload).toString())).toEqual(doc);
  });
});

describe('web explorer plugin on its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-explorer-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a failure to build the OpenAPI document as an error, in HTML for a browser', async () => {
    writeFileSync(join(dir, 'index.html'), '<html><script type="application/json" id="ccri-config">{}</script></html>');
    const app = Fastify();
    const logged: unknown[] = [];
    await app.register(explorerPlugin, {
      openBase: 'http://localhost:9/STU3',
      log: { error: (obj) => logged.push(obj) },
      secureBase: 'https://secure.example:8443/secure/STU3',
      assetsDir: dir,
      capabilityStatement: async () => {
        throw new Error('no statement');
      },
    });
    const json = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(json.statusCode).toBe(500);
    expect(JSON.parse(json.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'exception' }] });
    expect(json.body).not.toContain('no statement');
    // The detail goes to the log only.
    expect(String((logged[0] as { err: Error }).err.message)).toBe('no statement');
    const html = await app.inject({ method: 'GET', url: '/openapi.json', headers: { accept: 'text/html' } });
    expect(html.statusCode).toBe(500);
    expect(html.body).toContain('<h1>Error 500</h1>');
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.body).toContain('"secureBase":"https://secure.example:8443/secure/STU3"');
    expect(page.headers['content-security-policy']).toContain('https://secure.example:8443');
    await app.close();
  });

  it('says how to build the front end when it has not been built', async () => {
    const app = Fastify();
    await app.register(explorerPlugin, { openBase: 'http://localhost:9/STU3', assetsDir: join(dir, 'missing'), capabilityStatement: async () => ({}) });
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.body).toContain('npm run build');
    await app.close();
  });
});
