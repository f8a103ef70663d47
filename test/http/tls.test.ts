import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

/**
 * `ccri serve --tls-cert --tls-key` serves HTTPS: the built program, with a certificate
 * made for the test by openssl (Debian's openssl; skipped with a message where it is
 * missing, except under CI=true).
 */
const openssl = spawnSync('openssl', ['version']).status === 0;
if (!openssl && process.env.CI === 'true') throw new Error('openssl is needed for the TLS test, and CI=true requires it to run');
if (!openssl) console.warn('Skipping the TLS test: openssl is not installed (Debian package openssl)');

const dir = mkdtempSync(join(tmpdir(), 'ccri-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c) => (body += String(c)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe.runIf(openssl)('HTTPS', () => {
  it('serves the API over TLS, and its links say https', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const child = spawn(process.execPath, [join(projectRoot(), 'dist/cli/main.js'), 'serve', '--port', '0', '--host', '127.0.0.1', '--no-demo-data', '--data-dir', join(dir, 'data'), '--tls-cert', cert, '--tls-key', key], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c) => {
          out += String(c);
          const m = /listening on (https:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.stderr.on('data', (c) => (out += String(c)));
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const port = new URL(address).port;
      const metadata = await get(`${address}/STU3/metadata`, readFileSync(cert));
      expect(metadata.status).toBe(200);
      // The default base URL follows the scheme; the port it names is the configured one (0 here), so only the scheme is checked.
      expect(JSON.parse(metadata.body).implementation.url).toMatch(/^https:\/\/localhost:\d+\/STU3$/);
      expect(port).toMatch(/^\d+$/);
      // A client that does not trust the certificate is refused by TLS itself.
      await expect(get(`${address}/STU3/metadata`, Buffer.from(''))).rejects.toThrow();
    } finally {
      // Waited for, so that the folder is not removed (afterAll) while the server is still closing its store: it would write into it again.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
    }
  });
});
