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

