import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { startListening } from '../helpers/listen.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

describe('L3 over HTTP, as a raw client sends it', () => {
  it.each(['.', '..'])("PUT Patient/%s is a 400, not a resource with a Location that clients normalise away", async (id) => {
    const server = await startListening();
    try {
      const url = new URL(server.baseUrl);
      const body = JSON.stringify({ resourceType: 'Patient', id });
      // node:http sends the path as given (a URL object or fetch would remove the dot segments first).
      const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, method: 'PUT', path: `${url.pathname}/Patient/${id}`, headers: { 'content-type': 'application/fhir+json' } }, (r) => {
          let text = '';
          r.on('data', (c) => (text += String(c)));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).resourceType).toBe('OperationOutcome');
    } finally {
      await server.stop();
    }
  });
});

/**
 * Issue 15's findings about hostile input (M1-M5, L3, L4), on both stores: each answer is
 * the 4xx OperationOutcome the finding asks for, where the server as it landed answered
 * 500, matched everything, or took the request as given.
 */
for (const kind of await storeKinds()) describe(`the campaign's findings (${kind})`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(kind, { bundleMaxEntries: 50, bundleMaxResponseBytes: 64 * 1024 });
    for (const id of ['b1', 'b2']) await s.request('PUT', `/STU3/Basic/${id}`, { body: { resourceType: 'Basic', id, code: { text: 'x' } } });
  });
  afterAll(async () => s.cleanup());

  const outcome = (res: { status: number; json: any }, status: number, code?: string) => {
    expect(res.status).toBe(status);
    expect(res.json.resourceType).toBe('OperationOutcome');
    if (code) expect(res.json.issue[0].code).toBe(code);
  };
  const basics = async () => (await s.request('GET', '/STU3/Basic?_total=accurate')).json.total as number;

  describe('M2: conditional criteria that select nothing are refused', () => {
    it.each([['DELETE', '/STU3/Basic?_id='], ['DELETE', '/STU3/Basic?_count=5'], ['DELETE', '/STU3/Basic?_sort=code&_summary=true'], ['PUT', '/STU3/Basic?_sort=code'], ['PUT', '/STU3/Basic?code=']])(
      '%s %s -> 400, nothing changed',
      async (method, url) => {
        const res = await s.request(method, url, method === 'PUT' ? { body: { resourceType: 'Basic', code: { text: 'overwritten' } } } : {});
        outcome(res, 400);
        expect(await basics()).toBe(2);
        expect((await s.request('GET', '/STU3/Basic/b1')).json.code.text).toBe('x');
      },
    );

    it('If-None-Exist: _id= -> 400', async () => {
      outcome(await s.request('POST', '/STU3/Basic', { body: { resourceType: 'Basic', code: { text: 'y' } }, headers: { 'if-none-exist': '_id=' } }), 400);
      outcome(await s.request('POST', '/STU3/Basic', { body: { resourceType: 'Basic', code: { text: 'y' } }, headers: { 'if-none-exist': '_count=1' } }), 400);
      expect(await basics()).toBe(2);
    });

    it('the same in transaction entries', async () => {
      for (const request of [{ method: 'DELETE', url: 'Basic?_id=' }, { method: 'PUT', url: 'Basic?_sort=code' }, { method: 'POST', url: 'Basic', ifNoneExist: '_count=5' }]) {
        const entry = { request, ...(request.method === 'DELETE' ? {} : { resource: { resourceType: 'Basic', code: { text: 'z' } } }) };
        outcome(await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry: [entry] } }), 400);
      }
      expect(await basics()).toBe(2);
      expect((await s.request('GET', '/STU3/Basic/b1')).json.code.text).toBe('x');
    });
  });

  it('M3: contained nested thousands deep is a 400, never a 500', async () => {
    for (const depth of [70, 3000]) {
      let body = '{"resourceType":"Patient","id":"x0"}';
      for (let i = 1; i < depth; i++) body = `{"resourceType":"Patient","id":"x${i}","contained":[${body}]}`;
      outcome(await s.request('POST', '/STU3/Patient', { body }), 400, 'structure');
    }
  });

  it('M4: includes and revincludes that iterate over every parameter answer, never a 500', async () => {
    const org = await s.request('PUT', '/STU3/Organization/m4', { body: { resourceType: 'Organization', id: 'm4', name: 'M4' } });
    expect(org.status).toBe(201);
    // Enough resources pointing at it that one round ORs hundreds of references in one query.
    const entry = Array.from({ length: 40 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `m4-${i}`, managingOrganization: { reference: 'Organization/m4' } }, request: { method: 'PUT', url: `Patient/m4-${i}` } }));
    expect((await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry } })).status).toBe(200);
    for (const url of ['/STU3/Organization?_revinclude:iterate=*&_count=100', '/STU3/Patient?_include:iterate=*&_revinclude:iterate=*&_count=100']) {
      const res = await s.request('GET', url);
      expect(res.status).toBe(200);
    }
  });

  it('H3 and M4: more ANDed parameters than the cap are a 400 too-costly', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `family=a${i}`).join('&');
    outcome(await s.request('GET', `/STU3/Patient?${many}`), 400, 'too-costly');
    const thousand = Array.from({ length: 1000 }, (_, i) => `family=a${i}`).join('&');
    outcome(await s.request('GET', `/STU3/Patient?${thousand}`), 400, 'too-costly');
    expect((await s.request('GET', `/STU3/Patient?${Array.from({ length: 50 }, () => 'family=a').join('&')}`)).status).toBe(200);
  });

  it('M5: a bad percent-encoding fails only its entry in a batch, and the whole transaction', async () => {
    const entry = [{ request: { method: 'GET', url: '%' } }, { request: { method: 'GET', url: 'Basic/b1' } }];
    const batch = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry } });
    expect(batch.status).toBe(200);
    expect(batch.json.entry[0].response.status).toBe('400');
    expect(batch.json.entry[0].response.outcome.issue[0].expression).toEqual(['Bundle.entry[0].request.url']);
    expect(batch.json.entry[1].response.status).toBe('200 OK');
    outcome(await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry } }), 400);
  });

  describe('M1: a Bundle is bounded in entries and in the size of its answer', () => {
    it('more entries than CCRI_BUNDLE_MAX_ENTRIES -> 400 too-costly', async () => {
      const entry = Array.from({ length: 51 }, () => ({ request: { method: 'GET', url: 'Basic/b1' } }));
      outcome(await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry } }), 400, 'too-costly');
    });

    it('an answer past CCRI_BUNDLE_MAX_RESPONSE_BYTES -> 400 too-costly, naming the entry', async () => {
      const entry = Array.from({ length: 50 }, () => ({ request: { method: 'GET', url: 'Patient?_count=100&_revinclude=*' } }));
      const res = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry } });
      outcome(res, 400, 'too-costly');
      expect(res.json.issue[0].diagnostics).toContain('CCRI_BUNDLE_MAX_RESPONSE_BYTES');
      // Within the limits the same kind of Bundle answers.
      const small = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'batch', entry: entry.slice(0, 1) } });
      expect(small.status).toBe(200);
    });
  });

  it.each(['.', '..'])("L3: the id '%s' is refused in a transaction", async (id) => {
    const tx = await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id }, request: { method: 'PUT', url: `Patient/${id}` } }] } });
    outcome(tx, 400);
  });

  describe('L4: a transaction refuses fullUrls and local references that mean nothing', () => {
    const post = (entry: unknown[]) => s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry } });
    const U1 = 'urn:uuid:0d3b0f2e-7f35-4d6a-9d8e-1b2c3d4e5f60';

    it('a duplicate fullUrl (bdl-7)', async () => {
      const res = await post([0, 1].map(() => ({ fullUrl: U1, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } })));
      outcome(res, 400);
      expect(res.json.issue[0].diagnostics).toContain('Bundle.entry[1]');
    });

    it('a urn:uuid: that is not a UUID', async () => {
      const res = await post([{ fullUrl: 'urn:uuid:not-a-uuid', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }]);
      outcome(res, 400);
      expect(res.json.issue[0].expression).toEqual(['Bundle.entry[0].fullUrl']);
    });

    it('a reference to a urn:uuid: that no entry has', async () => {
      const res = await post([{ fullUrl: U1, resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:11111111-2222-4333-8444-555555555555' } }, request: { method: 'POST', url: 'Observation' } }]);
      outcome(res, 400);
      expect(res.json.issue[0].diagnostics).toContain('Bundle.entry[0]');
    });

    it('and still takes a transaction whose references all resolve', async () => {
      const res = await post([
        { fullUrl: U1, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: U1 } }, request: { method: 'POST', url: 'Observation' } },
      ]);
      expect(res.status).toBe(200);
    });
  });
});
