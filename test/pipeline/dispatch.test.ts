import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FhirError, issue } from '../../src/fhir/outcome.js';
import type { Caller, FhirResponse, Incoming, ServerContext } from '../../src/interactions/types.js';
import { createPipeline, type Pipeline, type RequestRecord } from '../../src/pipeline/dispatch.js';
import { openPolicy, type Policy } from '../../src/pipeline/policy.js';
import { EVERYTHING } from '../../src/search/access.js';
import { Cancellation } from '../../src/store/cancel.js';
import { ClientGone } from '../../src/store/errors.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * The request pipeline without HTTP: requests dispatched in process, its identify,
 * authorise and record steps, and bundle entries answered exactly as the same requests
 * alone. Then what the HTTP plugin adds: request ids, the access log, CORS and HEAD.
 */

const get = (path: string, query: Array<[string, string]> = []): Incoming => ({ method: 'GET', path: path.split('/').filter(Boolean), query, preconditions: {}, prefer: {} });
const post = (path: string, body: Record<string, unknown>): Incoming => ({ ...get(path), method: 'POST', body: body as Incoming['body'] });
const outcome = (res: FhirResponse) => (res.body && 'resource' in res.body ? (res.body.resource as unknown as { issue: Array<{ severity: string; code: string; diagnostics: string }> }) : undefined);

for (const kind of await storeKinds()) {
  describe(`the pipeline, in process (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
      await s.dispatch({ ...get('Patient/p1'), method: 'PUT', body: { resourceType: 'Patient', id: 'p1', gender: 'female' } });
    });
    afterAll(async () => s.cleanup());

    it('runs interactions without HTTP', async () => {
      const read = await s.dispatch(get('Patient/p1'));
      expect(read.status).toBe(200);
      expect(read.etag).toBe('W/"1"');
      expect(JSON.parse((read.body as { json: string }).json).gender).toBe('female');
      const missing = await s.dispatch(get('Patient/nope'));
      expect(missing.status).toBe(404);
      expect(outcome(missing)!.issue[0]!.code).toBe('not-found');
      expect((await s.dispatch({ ...get('Patient'), method: 'PATCH' })).status).toBe(405);
      expect((await s.dispatch({ ...get('Patient'), method: 'TRACE' })).status).toBe(405);
    });

    it('answers a bundle entry exactly as the same request alone: operations included', async () => {
      const bad = { resourceType: 'Patient', gender: 'female', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '1234567890' }] };
      const requests: Array<{ incoming: Incoming; entry: Record<string, unknown> }> = [
        { incoming: post('Patient/$validate', bad), entry: { request: { method: 'POST', url: 'Patient/$validate' }, resource: bad } },
        { incoming: get('Patient/p1/$validate'), entry: { request: { method: 'GET', url: 'Patient/p1/$validate' } } },
        { incoming: get('Patient/p1/$nosuch'), entry: { request: { method: 'GET', url: 'Patient/p1/$nosuch' } } },
        { incoming: get('Patient', [['gender', 'female']]), entry: { request: { method: 'GET', url: 'Patient?gender=female' } } },
        { incoming: get('metadata'), entry: { request: { method: 'GET', url: 'metadata' } } },
      ];
      for (const type of ['batch', 'transaction']) {
        const bundle = await s.dispatch(post('', { resourceType: 'Bundle', type, entry: requests.slice(0, type === 'transaction' ? 2 : undefined).map((r) => r.entry) }));
        const entries = (bundle.body as { bundle: { entry: Array<{ response: { status: string; outcome?: unknown }; resource?: unknown }> } }).bundle.entry;
        expect(bundle.status, type).toBe(200);
        for (const [i, r] of requests.slice(0, entries.length).entries()) {
          const alone = await s.dispatch(r.incoming);
          const entry = entries[i]!;
          expect(Number(entry.response.status.slice(0, 3)), `${type} entry ${i}`).toBe(alone.status);
          const body = alone.status >= 400 ? entry.response.outcome : JSON.parse(JSON.stringify(entry.resource ?? null));
          const expected = alone.body && 'resource' in alone.body ? alone.body.resource : undefined;
          if (expected?.resourceType === 'OperationOutcome') expect(body, `${type} entry ${i}`).toEqual(JSON.parse(JSON.stringify(expected)));
        }
      }
      // The validation itself found the bad NHS number in both.
      expect(JSON.stringify(outcome(await s.dispatch(requests[0]!.incoming)))).toMatch(/check digit|Modulus 11/i);
    });

    it('stops the database work of a request whose client has gone (499), and rolls its writes back', async () => {
      const pipeline = createPipeline(s.server, { url: 'http://test/STU3', policy: openPolicy('system') });
      const gone = new Cancellation();
      gone.abort();
      // A read of what no cache holds, a vread, a search, a history, a write: none starts a statement.
      const requests = [get('Patient/nobody'), get('Patient/p1/_history/1'), get('Patient', [['gender', 'female']]), get('Patient/p1/_history'), { ...get('Patient/p2'), method: 'PUT', body: { resourceType: 'Patient', id: 'p2' } as Incoming['body'] }];
      for (const incoming of requests) {
        const res = await pipeline.dispatch(incoming, { signal: gone });
        expect(res.status, incoming.path.join('/')).toBe(499);
        expect(outcome(res)!.issue[0]!.code).toBe('incomplete');
      }
      // The same requests from a client still there, and from the in-process caller with no signal, are answered.
      const here = new Cancellation();
      expect((await pipeline.dispatch(get('Patient/p1/_history/1'), { signal: here })).status).toBe(200);
      expect((await pipeline.dispatch(get('Patient/p2'))).status).toBe(404);
      // A transaction whose client goes away between two writes keeps neither.
      const going = new Cancellation();
      const write = (id: string) => ({ type: 'Patient', id, resource: { resourceType: 'Patient', id } });
      const err = await s.server.store
        .transaction(
          EVERYTHING,
          async (tx) => {
            await tx.write(write('p3'));
            going.abort();
            await tx.write(write('p4'));
          },
          { signal: going },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientGone);
      for (const id of ['p3', 'p4']) expect(await s.server.store.reader(EVERYTHING).read('Patient', id)).toBeUndefined();
    });

    it('refuses a batch inside a batch', async () => {
      const inner = { resourceType: 'Bundle', type: 'batch' };
      const res = await s.dispatch(post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: '/' }, resource: inner }] }));
      const entry = (res.body as { bundle: { entry: Array<{ response: { status: string } }> } }).bundle.entry[0]!;
      expect(entry.response.status).toBe('400');
    });
  });
}

describe('the identify, authorise and record steps', () => {
  let s: TestServer;
  let pipeline: Pipeline;
  const records: RequestRecord[] = [];
  const steps: string[] = [];
  beforeAll(async () => {
    s = await startTestServer('sqlite');
    await s.dispatch({ ...get('Patient/p1'), method: 'PUT', body: { resourceType: 'Patient', id: 'p1' } });
    // A policy as a secure base would have one: no credentials, 401; no writes; reads of Patient only.
    const policy: Policy = {
      identify: async (incoming) => {
        steps.push('identify');
        if (incoming.authorization !== 'Bearer good') throw new FhirError(401, issue('login', 'no'), { 'WWW-Authenticate': 'Bearer realm="test"' });
        return { kind: 'user', access: EVERYTHING } satisfies Caller;
      },
      authorise: (_caller, target) => {
        steps.push(`authorise ${target.code} ${target.fields.type ?? ''}`);
        if (target.writes || (target.fields.type && target.fields.type !== 'Patient')) throw new FhirError(403, issue('forbidden', 'no'));
      },
    };
    const server: ServerContext = s.server;
    pipeline = createPipeline(server, { url: 'http://test/STU3', policy, recorder: { record: async (r) => void records.push(r) } });
  });
  afterAll(async () => s.cleanup());

  const withToken = (i: Incoming): Incoming => ({ ...i, authorization: 'Bearer good' });

  it('identifies first, then routes, then authorises; refused requests are recorded too', async () => {
    steps.length = records.length = 0;
    const refused = await pipeline.dispatch(get('Nothing/here/at/all/really'));
    expect(refused.status).toBe(401);
    expect(refused.headers).toEqual({ 'WWW-Authenticate': 'Bearer realm="test"' });
    expect(steps).toEqual(['identify']);
    expect((await pipeline.dispatch(withToken(get('Patient/p1')))).status).toBe(200);
    expect((await pipeline.dispatch(withToken(get('Observation/o1')))).status).toBe(403);
    expect((await pipeline.dispatch(withToken({ ...post('Patient', { resourceType: 'Patient' }) })))).toMatchObject({ status: 403 });
    expect(records.map((r) => [r.response.status, r.target?.code ?? '-', r.caller?.kind ?? '-'])).toEqual([
      [401, '-', '-'],
      [200, 'read', 'user'],
      [403, 'read', 'user'],
      [403, 'create', 'user'],
    ]);
    expect(new Set(records.map((r) => r.requestId)).size).toBe(4);
  });

  it('authorises each bundle entry on its own, as the Bundle’s caller', async () => {
    steps.length = records.length = 0;
    const res = await pipeline.dispatch(
      withToken(post('', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/p1' } }, { request: { method: 'GET', url: 'Observation/o1' } }] })),
    );
    const statuses = (res.body as { bundle: { entry: Array<{ response: { status: string } }> } }).bundle.entry.map((e) => e.response.status);
    expect(statuses).toEqual(['200 OK', '403']);
    expect(steps).toEqual(['identify', 'authorise transaction ', 'authorise read Patient', 'authorise read Observation']);
    expect(records).toHaveLength(1);
  });

  it('answers what the transport could not hand over, and records it', async () => {
    records.length = 0;
    const res = await pipeline.refuse(get(''), new FhirError(406, issue('not-supported', 'no such format')), { requestId: 'r-1' });
    expect(res.status).toBe(406);
    expect(records.map((r) => [r.requestId, r.response.status])).toEqual([['r-1', 406]]);
  });

  it('turns an unexpected error into a generic 500, the detail logged only', async () => {
    const broken = createPipeline(s.server, { url: 'http://test/STU3', policy: { ...openPolicy(), authorise: () => { throw new Error('secret detail'); } } });
    const res = await broken.dispatch(get('Patient/p1'));
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('secret detail');
  });
});

describe('over HTTP: request ids, the access log, CORS, HEAD', () => {
  let s: TestServer;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _e, done) => (String(chunk).split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l))), done()) });
    s = await startTestServer('sqlite', {}, undefined, pino({ level: 'info' }, sink));
    await s.request('PUT', '/STU3/Patient/p1', { body: { resourceType: 'Patient', id: 'p1' } });
  });
  afterAll(async () => s.cleanup());

  it('takes a well-formed X-Request-Id, replaces any other, echoes it, and logs one line per request with it', async () => {
    lines.length = 0;
    const given = await s.request('GET', '/STU3/Patient/p1', { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(given.headers['x-request-id']).toBe('trace-42.a:b');
    const bad = await s.request('GET', '/STU3/Patient/p1', { headers: { 'x-request-id': 'two words\u0000' } });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const long = await s.request('GET', '/STU3/Patient/p1', { headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(long.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await s.request('GET', '/STU3/Patient/nope');
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const access = lines.filter((l) => l.msg === 'request');
    expect(access.map((l) => [l.reqId, l.status])).toEqual([
      ['trace-42.a:b', 200],
      [bad.headers['x-request-id'], 200],
      [long.headers['x-request-id'], 200],
      [none.headers['x-request-id'], 404],
    ]);
    expect(access[0]).toMatchObject({ method: 'GET', url: '/STU3/Patient/p1' });
    // The ids made here are time-ordered (UUID version 7, src/fhir/ids.ts): made one after another, they sort one after another.
    const made = [bad, long, none].map((r) => String(r.headers['x-request-id']));
    for (const id of made) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...made].sort()).toEqual(made);
    expect(new Set(made).size).toBe(3);
  });

  it('carries the request id on every line a request logs', async () => {
    lines.length = 0;
    // A write that does not conform to its Care Connect profile is logged as a warning (validation: claimed).
    await s.request('POST', '/STU3/Patient', { body: { resourceType: 'Patient', gender: 'male' }, headers: { 'x-request-id': 'w-1' } });
    const mine = lines.filter((l) => l.reqId === 'w-1');
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine.some((l) => l.level === 40)).toBe(true);
    expect(lines.every((l) => l.reqId === 'w-1')).toBe(true);
  });

  it('never logs a credential sent in the query string', async () => {
    lines.length = 0;
    await s.request('GET', '/STU3/Patient?access_token=abc.def.ghi&code=zzz&gender=male');
    expect(JSON.stringify(lines)).not.toMatch(/abc\.def\.ghi|zzz/);
    expect(lines[0]!.url).toBe('/STU3/Patient?access_token=[redacted]&code=[redacted]&gender=male');
  });

  it('answers CORS preflights and exposes the headers clients need', async () => {
    const pre = await s.request('OPTIONS', '/STU3/Patient', { headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe('*');
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/authorization/i);
    const res = await s.request('GET', '/STU3/Patient/p1', { headers: { origin: 'https://app.example' } });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-expose-headers'])).toMatch(/ETag.*Location/);
  });

  it('answers HEAD as GET without the body', async () => {
    for (const url of ['/STU3/Patient/p1', '/STU3/Patient/p1/_history/1', '/STU3/Patient?gender=male', '/STU3/metadata']) {
      const head = await s.request('HEAD', url);
      const got = await s.request('GET', url);
      expect(head.status, url).toBe(200);
      expect(head.text, url).toBe('');
      expect(head.headers['content-type'], url).toBe(got.headers['content-type']);
      if (got.headers.etag) expect(head.headers.etag, url).toBe(got.headers.etag);
    }
    expect((await s.request('HEAD', '/STU3/Patient/nope')).status).toBe(404);
  });
});
