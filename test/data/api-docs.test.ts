import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { parseXml } from '../../src/fhir/xml.js';
import { apiDocRequests } from '../helpers/api-docs.js';
import { startTestServer, type TestResponse, type TestServer } from '../helpers/server.js';
import { sharedPath } from '../helpers/shared.js';

const HEADING = "## The Care Connect API documentation's examples";

/** The table under HEADING in docs/conformance.md: request -> reason it is not answered with data. */
function listedInConformance(): Map<string, string> {
  const text = readFileSync(join(projectRoot(), 'docs', 'conformance.md'), 'utf8');
  const start = text.indexOf(HEADING);
  expect(start, `docs/conformance.md has the section "${HEADING}"`).toBeGreaterThan(-1);
  const section = text.slice(start + HEADING.length).split(/\n## /)[0]!;
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\| `((?:[^`]|\\`)+)` \| (.+) \|$/gm)) rows.set(m[1]!.replace(/\\\|/g, '|'), m[2]!);
  return rows;
}

/**
 * Whether a response answers with data: a resource, or a Bundle with at least one match.
 * Sent with `Prefer: handling=strict`, so an unknown parameter is a 400, never a search
 * that ignored it.
 */
function answered(res: TestResponse): boolean {
  if (res.status !== 200) return false;
  const body = String(res.headers['content-type']).includes('xml') ? parseXml(res.text) : res.json;
  if (body?.resourceType !== 'Bundle') return typeof body?.resourceType === 'string';
  return ((body.entry as Array<{ search?: { mode?: string } }> | undefined) ?? []).some((e) => (e.search?.mode ?? 'match') === 'match');
}

const docs = sharedPath('careconnect-api-docs');

describe.skipIf(!docs)('the Care Connect API documentation, against the demo data set', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { demoData: true });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('answers every example request with data, but those docs/conformance.md lists (and exactly those)', async () => {
    const requests = apiDocRequests(docs!);
    // The pages hold about 70 distinct requests; far fewer means the extraction broke.
    expect(requests.size).toBeGreaterThan(60);
    const unanswered = new Map<string, string>();
    for (const [request, pages] of requests) {
      const res = await server.request('GET', `/STU3/${request}`, { headers: { accept: 'application/fhir+json', prefer: 'handling=strict' } });
      expect(res.status, `${request}: ${res.text.slice(0, 200)}`).toBeLessThan(500);
      if (!answered(res)) unanswered.set(request, `${res.status} (${pages.join(', ')})`);
    }
    const listed = listedInConformance();
    const missing = [...unanswered].filter(([r]) => !listed.has(r)).map(([r, why]) => `${r} is not answered with data (${why}) and not listed in docs/conformance.md`);
    const stale = [...listed.keys()].filter((r) => !unanswered.has(r)).map((r) => `${r} is listed in docs/conformance.md but ${requests.has(r) ? 'is answered with data' : 'is no longer in the pages'}`);
    expect([...missing, ...stale]).toEqual([]);
    // Most of them are answered.
    expect(unanswered.size).toBeLessThan(requests.size / 2);
  });
});
