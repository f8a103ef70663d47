import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../src/fhir/definitions/cache.js';

/**
 * package.json pins light-my-request's cookie to 1.x (cookie 2 declares Node >= 22, and
 * the README promises Node 20.19): fastify's inject, which every HTTP test uses, still
 * sends cookies with it.
 */
describe('the cookie override', () => {
  it('light-my-request runs on cookie 1.x, whose engines accept Node 20', () => {
    // Resolved as fastify's light-my-request resolves it: cookie's main is dist/index.js.
    const fromProject = createRequire(join(projectRoot(), 'package.json'));
    const fromFastify = createRequire(fromProject.resolve('fastify'));
    const fromLightMyRequest = createRequire(fromFastify.resolve('light-my-request'));
    const cookie = JSON.parse(readFileSync(join(fromLightMyRequest.resolve('cookie'), '..', '..', 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
    expect(cookie.version).toMatch(/^1\./);
    expect(cookie.engines.node).toBe('>=18');
  });

  it('inject sends the cookies it is given', async () => {
    const app = Fastify();
    app.get('/', async (req) => ({ cookie: req.headers.cookie ?? null }));
    const res = await app.inject({ method: 'GET', url: '/', cookies: { a: '1', b: 'x y' } });
    expect(res.json()).toEqual({ cookie: 'a=1; b=x%20y' });
    await app.close();
  });
});


/**
 * swagger-ui-dist depends on @scarf/scarf, whose install script reports the installation to
 * scarf.sh. Nothing may call out at install or run time: package.json turns it off in the
 * way its script reads (scarfSettings.enabled = false), and the script, run as npm would
 * run it, must find that and do nothing.
 */
describe('no install-time telemetry', () => {
  it('the project opts out of @scarf/scarf, and its script agrees', async () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { scarfSettings?: { enabled?: boolean } };
    expect(pkg.scarfSettings?.enabled).toBe(false);
    const require = createRequire(join(projectRoot(), 'package.json'));
    let script: string;
    try {
      script = require.resolve('@scarf/scarf/report.js');
    } catch {
      return; // not installed (a dependency dropped it): nothing can report
    }
    const { spawnSync } = await import('node:child_process');
    // SCARF_LOCAL_PORT: were it to report after all, it would call a closed port on this machine, never the internet.
    const run = spawnSync(process.execPath, [script], { cwd: join(script, '..'), env: { ...process.env, SCARF_VERBOSE: 'true', INIT_CWD: projectRoot(), SCARF_LOCAL_PORT: '9' }, encoding: 'utf8', timeout: 20_000 });
    expect(`${run.stdout}${run.stderr}`).toMatch(/Scarf has been disabled via a package\.json/);
  });
});
