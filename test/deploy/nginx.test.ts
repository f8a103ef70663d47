import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as plain } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { serveProcess } from '../helpers/serve-process.js';

/**
 * Issue 15: docs/deploy.md's worked configurations are the ones that work. Its nginx
 * configuration runs, as written but for the ports, the certificate and the upstream's
 * address, in front of a real `ccri serve` with the settings the page gives; its systemd
 * units pass `systemd-analyze verify` without a warning. Each part skips with a message where
 * its program is missing (nginx; systemd), and runs under CI=true.
 */

const doc = readFileSync(join(projectRoot(), 'docs', 'deploy.md'), 'utf8');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const need = (cmd: string, pkg: string, what: string): boolean => {
  if (have(cmd)) return true;
  if (process.env.CI === 'true') throw new Error(`${cmd} is missing, and CI=true requires ${what} to be tested (Debian: apt-get install ${pkg})`);
  console.warn(`Skipping ${what}: ${cmd} is not installed (Debian: apt-get install ${pkg})`);
  return false;
};
const nginx = need('nginx', 'nginx', "docs/deploy.md's nginx configuration") && need('openssl', 'openssl', "docs/deploy.md's nginx configuration");
const systemd = need('systemd-analyze', 'systemd', "docs/deploy.md's systemd units");

const dir = mkdtempSync(join(tmpdir(), 'ccri-deploy-doc-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The fenced blocks of a language in the page. */
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTPS request to fhir.example.org on `port` of this machine, trusting `ca`. */
function https(port: number, ca: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, servername: 'fhir.example.org', ca, headers: { host: 'fhir.example.org', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += String(d)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.runIf(nginx)("docs/deploy.md's nginx configuration", () => {
  it('terminates TLS in front of ccri serve: links and Locations name the public https address, whatever a client sends', async () => {
    const site = blocks('nginx')[0]!;
    expect(site).toContain('upstream ccri');
    const env = Object.fromEntries(
      blocks('sh')
        .find((b) => b.includes('CCRI_TRUST_PROXY=true'))!
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ) as Record<string, string>;
    expect(env.CCRI_BASE_URL).toBe('https://fhir.example.org/STU3');
    expect(env.CCRI_TRUST_PROXY).toBe('true');

    // ccri as the page configures it (its own port and data directory aside).
    const server = await serveProcess(['--data-dir', join(dir, 'data')], { CCRI_BASE_URL: env.CCRI_BASE_URL, CCRI_TRUST_PROXY: env.CCRI_TRUST_PROXY, CCRI_NODE_NAME: env.CCRI_NODE_NAME });
    cleanups.push(() => server.stop());
    const upstream = new URL(server.address).port;

    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=fhir.example.org', '-addext', 'subjectAltName=DNS:fhir.example.org', '-keyout', key, '-out', cert], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    // As written, but: this machine's ports, no IPv6 listeners, the certificate made above, and the upstream's port.
    const adapted = site
      .replace(/^\s*listen \[::\].*$/gm, '')
      .replace('listen 80;', `listen 127.0.0.1:${httpPort};`)
      .replace('listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`)
      .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${cert};`)
      .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${key};`)
      .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${upstream};`);
    const run = join(dir, 'nginx');
    mkdirSync(run);
    chmodSync(dir, 0o755);
    chmodSync(run, 0o777);
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${run}/${t};`).join('\n  ');
    writeFileSync(join(run, 'nginx.conf'), `daemon off;\npid ${run}/nginx.pid;\nerror_log ${run}/error.log;\nevents {}\nhttp {\n  access_log off;\n  ${temp}\n${adapted}\n}\n`);
    const tested = spawnSync('nginx', ['-t', '-p', run, '-c', join(run, 'nginx.conf')], { encoding: 'utf8' });
    expect(tested.status, tested.stderr).toBe(0);
    const proxy = spawn('nginx', ['-p', run, '-c', join(run, 'nginx.conf')], { stdio: 'ignore' });
    cleanups.push(async () => {
      proxy.kill('SIGQUIT');
      await new Promise((r) => proxy.once('exit', r));
    });
    const ca = readFileSync(cert, 'utf8');
    for (let i = 0; ; i++) {
      const up = await https(httpsPort, ca, 'GET', '/health/ready').catch(() => undefined);
      if (up?.status === 200) break;
      if (i > 200) throw new Error(`nginx did not answer: ${readFileSync(join(run, 'error.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const meta = await https(httpsPort, ca, 'GET', '/STU3/metadata');
    expect(meta.status).toBe(200);
    expect((JSON.parse(meta.body) as { implementation: { url: string } }).implementation.url).toBe('https://fhir.example.org/STU3');
    expect(meta.headers['strict-transport-security']).toBe('max-age=63072000');

    // A client that sends its own forwarding headers: the proxy replaces them.
    const created = await https(httpsPort, ca, 'POST', '/STU3/Patient', { 'content-type': 'application/fhir+json', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' }, JSON.stringify({ resourceType: 'Patient', gender: 'female' }));
    expect(created.status).toBe(201);
    expect(created.headers.location).toMatch(/^https:\/\/fhir\.example\.org\/STU3\/Patient\/[^/]+\/_history\/1$/);
    const page = await https(httpsPort, ca, 'GET', '/STU3/Patient?_count=1');
    expect((JSON.parse(page.body) as { link: Array<{ url: string }> }).link.every((l) => l.url.startsWith('https://fhir.example.org/STU3/'))).toBe(true);
    // The secure base's SMART configuration names the public address too.
    const smart = await https(httpsPort, ca, 'GET', '/secure/STU3/.well-known/smart-configuration');
    expect(smart.status).toBe(200);
    expect(smart.body).toContain('https://fhir.example.org/auth');

    // Plain HTTP is sent to https.
    const redirect = await new Promise<Answer>((resolve, reject) => {
      const req = plain({ host: '127.0.0.1', port: httpPort, path: '/STU3/metadata', headers: { host: 'fhir.example.org' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: '' }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('https://fhir.example.org/STU3/metadata');
  }, 180_000);
});

describe.runIf(systemd)("docs/deploy.md's systemd units", () => {
  it('pass systemd-analyze verify without a warning', () => {
    const units: Array<[string, string]> = [];
    for (const block of blocks('ini')) {
      const parts = block.split(/^# \/etc\/systemd\/system\/(\S+)\n/m);
      if (parts.length === 1) units.push(['ccri.service', block]);
      else for (let i = 1; i < parts.length; i += 2) units.push([parts[i]!, parts[i + 1]!]);
    }
    expect(units.map(([name]) => name).sort()).toEqual(['ccri-backup.service', 'ccri-backup.timer', 'ccri.service']);
    const unitDir = join(dir, 'units');
    mkdirSync(unitDir, { recursive: true });
    for (const [name, text] of units) writeFileSync(join(unitDir, name), text);
    const verified = spawnSync('systemd-analyze', ['verify', ...units.map(([name]) => join(unitDir, name))], { encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stderr.trim()).toBe('');
  });
});
