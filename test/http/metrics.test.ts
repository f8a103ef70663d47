import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { EVERYTHING } from '../../src/search/access.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/** The samples of one metric family in a Prometheus text exposition: labels as written, and the value. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** Holds `n` store transactions open until released (every connection that could write, when n is the store's). */
async function holdConnections(s: TestServer, n: number): Promise<{ release: () => void; done: Promise<unknown> }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const open: Array<Promise<unknown>> = [];
  const started: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    let began!: () => void;
    started.push(new Promise<void>((r) => (began = r)));
    open.push(
      s.store.transaction(EVERYTHING, async () => {
        began();
        await gate;
      }),
    );
  }
  await Promise.all(started);
  return { release, done: Promise.all(open) };
}

/** Makes appends to `chain` wait until released. */
async function holdChain(s: TestServer, kind: string, chain: string): Promise<{ release: () => Promise<unknown> }> {
  if (kind === 'sqlite') {
    const { release, done } = await holdConnections(s, 1);
    return { release: async () => (release(), done) };
  }
  const client = new pg.Client({ connectionString: s.location.databaseUrl });
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT n FROM audit_head WHERE chain = $1 FOR UPDATE', [chain]);
  return {
    release: async () => {
      await client.query('COMMIT');
      await client.end();
    },
  };
}

async function scrape(s: TestServer): Promise<string> {
  const res = await s.request('GET', '/metrics');
  expect(res.status).toBe(200);
  expect(String(res.headers['content-type'])).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text;
}

/** Issue 15, "Seeing what it does": /metrics in Prometheus's format. */
for (const kind of await storeKinds()) {
  describe(`/metrics (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => s?.cleanup());

    it('counts requests by base, interaction, resource type and status, with their latency', async () => {
      const before = await scrape(s);
      const created = await s.request('POST', '/STU3/Patient', { body: { resourceType: 'Patient', name: [{ family: 'Metric' }] } });
      expect(created.status).toBe(201);
      expect((await s.request('GET', `/STU3/Patient/${created.json.id}`)).status).toBe(200);
      expect((await s.request('GET', '/STU3/Patient?family=Metric')).status).toBe(200);
      expect((await s.request('GET', '/STU3/Observation/nope')).status).toBe(404);
      expect((await s.request('GET', `/STU3/Patient/${created.json.id}/$everything`)).status).toBe(200);
      expect((await s.request('GET', '/health/live')).status).toBe(200);
      const text = await scrape(s);
      const count = (labels: Record<string, string>) => (value(text, 'ccri_http_requests_total', labels) ?? 0) - (value(before, 'ccri_http_requests_total', labels) ?? 0);
      expect(count({ base: 'open', interaction: 'create', type: 'Patient', status: '201' })).toBe(1);
      expect(count({ base: 'open', interaction: 'read', type: 'Patient', status: '200' })).toBe(1);
      expect(count({ base: 'open', interaction: 'search-type', type: 'Patient', status: '200' })).toBe(1);
      expect(count({ base: 'open', interaction: 'read', type: 'Observation', status: '404' })).toBe(1);
      expect(count({ base: 'open', interaction: '$everything', type: 'Patient', status: '200' })).toBe(1);
      // Outside the bases, under the route template.
      expect(count({ base: 'other', interaction: '/health/live', type: 'none', status: '200' })).toBe(1);
      // The scrape before this one is counted too, once answered.
      expect(count({ base: 'other', interaction: '/metrics', status: '200' })).toBeGreaterThanOrEqual(1);
      // Latency: a histogram per base and interaction.
      expect(value(text, 'ccri_http_request_duration_seconds_count', { base: 'open', interaction: 'create' })).toBeGreaterThanOrEqual(1);
      expect(value(text, 'ccri_http_request_duration_seconds_bucket', { base: 'open', interaction: 'create', le: '+Inf' })).toBeGreaterThanOrEqual(1);
      expect(value(text, 'ccri_http_request_duration_seconds_sum', { base: 'open', interaction: 'create' })).toBeGreaterThan(0);
    });

    it('labels by interaction and type, never by URL or id: hostile URLs add no series', async () => {
      // Every kind of request once, so that the series they fall under exist.
      await s.request('GET', '/STU3/Patient/a');
      await s.request('GET', '/STU3/Nonsense/a');
      await s.request('GET', '/STU3/Nonsense0x/a');
      await s.request('GET', '/nowhere/a');
      await s.request('GET', '/STU3/%zz');
      const before = samples(await scrape(s), 'ccri_http_requests_total').length;
      for (let i = 0; i < 30; i++) {
        await s.request('GET', `/STU3/Patient/${randomUUID()}`);
        await s.request('GET', `/STU3/Nonsense${i}x/${i}`);
        await s.request('GET', `/nowhere/${randomUUID()}?q=${i}`);
        await s.request('GET', `/STU3/%zz${i}`);
      }
      const text = await scrape(s);
      const after = samples(text, 'ccri_http_requests_total');
      expect(after.length).toBe(before);
      expect(text).not.toMatch(/Nonsense|nowhere|%zz/);
      const n = (labels: Record<string, string>) => samples(text, 'ccri_http_requests_total').find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value ?? 0;
      expect(n({ base: 'open', interaction: 'read', type: 'Patient', status: '404' })).toBeGreaterThanOrEqual(31);
      // A type the router does not take (not a word), refused before routing.
      expect(n({ base: 'open', interaction: 'unknown', type: 'none', status: '404' })).toBeGreaterThanOrEqual(31);
      expect(n({ base: 'other', interaction: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(31);
      // A path that is not valid percent-encoding is refused before routing, and counted all the same.
      expect(n({ base: 'other', interaction: 'unmatched', status: '400' })).toBeGreaterThanOrEqual(31);
    });

    it("times the database's statements and reports its connections", async () => {
      const before = await scrape(s);
      await s.request('GET', '/STU3/Patient?family=Metric&_count=5');
      await s.request('PUT', '/STU3/Patient/m1', { body: { resourceType: 'Patient', id: 'm1' } });
      const text = await scrape(s);
      const n = (connection: string) => (value(text, 'ccri_db_statement_duration_seconds_count', { store: kind, connection }) ?? 0) - (value(before, 'ccri_db_statement_duration_seconds_count', { store: kind, connection }) ?? 0);
      expect(n('read')).toBeGreaterThan(0);
      expect(n('transaction')).toBeGreaterThan(0);
      const total = value(text, 'ccri_db_connections', { store: kind })!;
      const idle = value(text, 'ccri_db_connections_idle', { store: kind })!;
      expect(total).toBeGreaterThanOrEqual(1);
      expect(idle).toBeLessThanOrEqual(total);
      expect(value(text, 'ccri_db_connections_waiting', { store: kind })).toBe(0);
    });

    it('says when requests wait for a connection', async () => {
      // Transactions held open: SQLite has one writer; PostgreSQL's pool has 10 clients.
      const { release, done } = await holdConnections(s, kind === 'sqlite' ? 1 : 10);
      const waiting = s.store.transaction(EVERYTHING, async () => undefined);
      try {
        // PostgreSQL: the audit trail's copy may be waiting for a client too.
        await expect.poll(() => s.store.connections().waiting).toBeGreaterThanOrEqual(1);
        const text = await scrape(s);
        expect(value(text, 'ccri_db_connections_waiting', { store: kind })).toBeGreaterThanOrEqual(1);
        expect(value(text, 'ccri_db_connections_idle', { store: kind })).toBe(kind === 'sqlite' ? 1 : 0);
      } finally {
        release();
        await Promise.all([done, waiting]);
      }
      expect(s.store.connections().waiting).toBe(0);
    });

    it('reports the event-loop delay and the process', async () => {
      const text = await scrape(s);
      for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
        expect(value(text, name), name).toBeGreaterThanOrEqual(0);
      }
    });
  });

  describe(`/metrics: the audit trail's lag (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind);
    });
    afterAll(async () => s?.cleanup());

    it('says how far the searchable copy is behind the chain, and what waits for a group commit', async () => {
      // Events appended straight to a chain (no writer schedules their copy), as a node would before its copy runs;
      // their records are whole AuditEvents, as an earlier release kept them.
      const recorded = Date.parse('2024-01-02T03:04:05Z');
      const event = () => ({ resourceType: 'AuditEvent' as const, id: randomUUID(), recorded: new Date(recorded).toISOString(), type: { system: 'http://hl7.org/fhir/audit-event-type', code: 'rest' }, agent: [{ requestor: true }], source: { identifier: { value: 'test' } } });
      await s.store.audit().append({ chain: 'lagging', build: async () => [event(), event()].map((e) => ({ id: e.id, recorded, json: JSON.stringify(e) })) });
      expect(await s.store.audit().lag()).toEqual({ events: 2, oldest: recorded });
      let text = await scrape(s);
      expect(value(text, 'ccri_audit_search_lag_events')).toBe(2);
      expect(value(text, 'ccri_audit_search_lag_seconds')).toBeGreaterThanOrEqual((Date.now() - recorded) / 1000 - 60);
      await s.store.audit().index();
      expect(await s.store.audit().lag()).toEqual({ events: 0 });
      text = await scrape(s);
      expect(value(text, 'ccri_audit_search_lag_events')).toBe(0);
      expect(value(text, 'ccri_audit_search_lag_seconds')).toBe(0);

      // The writer's queue: an event handed over and not yet committed, while its chain's head is locked
      // (SQLite: the writer held; PostgreSQL: the head row locked by another connection).
      const writer = s.audit!;
      const facts = (id: string) => ({ requestId: id, recorded: Date.now(), source: { site: 'test', base: 'http://test/STU3' }, incoming: { method: 'GET', path: ['metadata'], query: [] }, touched: [] }) as never;
      await writer.write(facts('q-0'));
      expect(writer.queued).toBe(0);
      const hold = await holdChain(s, kind, writer.chain);
      const pending = writer.write(facts('q-1'));
      try {
        expect(writer.queued).toBe(1);
        expect(value(await scrape(s), 'ccri_audit_queued_events')).toBe(1);
      } finally {
        await hold.release();
        await pending;
      }
      expect(writer.queued).toBe(0);
      expect(value(await scrape(s), 'ccri_audit_queued_events')).toBe(0);
    });
  });
}

describe('who may read /metrics', () => {
  let local: TestServer;
  let tokened: TestServer;
  let off: TestServer;
  const token = 'metrics-token-0123456789';
  beforeAll(async () => {
    local = await startTestServer('sqlite');
    tokened = await startTestServer('sqlite', { metricsToken: token });
    off = await startTestServer('sqlite', { metrics: false });
  });
  afterAll(async () => {
    await local?.cleanup();
    await tokened?.cleanup();
    await off?.cleanup();
  });

  it('without a token: this machine only, and not through a proxy', async () => {
    expect((await local.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await local.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(200);
    const remote = await local.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9' });
    expect(remote.statusCode).toBe(403);
    expect(remote.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden' }] });
    expect(remote.body).not.toContain('ccri_');
    // A proxy on this machine forwarding a client's request.
    const proxied = await local.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.statusCode).toBe(403);
  });

  it('with CCRI_METRICS_TOKEN: whoever presents it, and no one else', async () => {
    const missing = await tokened.app.inject({ method: 'GET', url: '/metrics' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(missing.json().resourceType).toBe('OperationOutcome');
    expect((await tokened.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}x` } })).statusCode).toBe(401);
    expect((await tokened.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer short' } })).statusCode).toBe(401);
    const remote = await tokened.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.9', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.1' } });
    expect(remote.statusCode).toBe(200);
    expect(remote.body).toContain('ccri_http_requests_total');
  });

  it('CCRI_METRICS=off serves nothing there', async () => {
    const res = await off.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(404);
    expect(res.json().resourceType).toBe('OperationOutcome');
  });
});

describe('metrics: configuration', () => {
  it('is on by default, without a token; refuses a short token and a setting that is neither on nor off', () => {
    const c = loadConfig({}, {});
    expect(c.metrics).toBe(true);
    expect(c.metricsToken).toBeUndefined();
    expect(loadConfig({}, { CCRI_METRICS: 'off' }).metrics).toBe(false);
    expect(loadConfig({}, { CCRI_METRICS_TOKEN: 'a-long-enough-token' }).metricsToken).toBe('a-long-enough-token');
    expect(() => loadConfig({}, { CCRI_METRICS_TOKEN: 'short' })).toThrow(/CCRI_METRICS_TOKEN must be at least 16 printable characters/);
    expect(() => loadConfig({}, { CCRI_METRICS_TOKEN: 'has spaces in it, sixteen+' })).toThrow(/CCRI_METRICS_TOKEN/);
    expect(() => loadConfig({}, { CCRI_METRICS: 'maybe' })).toThrow(/CCRI_METRICS must be on or off/);
  });
});
