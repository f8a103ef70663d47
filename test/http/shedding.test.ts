import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/**
 * Issue 15, load shedding (@fastify/under-pressure): over a limit, requests are answered 503
 * with an OperationOutcome and Retry-After; /health/live and /metrics still answer, and
 * /health/ready says the node is not ready. The conditions are made true, not waited for:
 * a heap or resident-set limit of one byte is always passed once measured.
 */
for (const kind of await storeKinds()) {
  describe(`load shedding (${kind})`, () => {
    let shedding: TestServer;
    let calm: TestServer;
    beforeAll(async () => {
      shedding = await startTestServer(kind, { shed: { heapBytes: 1 } });
      calm = await startTestServer(kind, { shed: { heapBytes: 0, rssBytes: 0, eventLoopDelayMs: 0 } });
    });
    afterAll(async () => {
      await shedding?.cleanup();
      await calm?.cleanup();
    });

    it('answers 503 with an OperationOutcome and Retry-After while the heap is over its limit, and records it', async () => {
      // The first measure is taken a sample interval after the start.
      await expect.poll(() => shedding.app.isUnderPressure(), { timeout: 10_000 }).toBe(true);
      const res = await shedding.request('GET', '/STU3/Patient', { headers: { 'x-request-id': 'shed-1' } });
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled' }] });
      expect(res.json.issue[0].diagnostics).toMatch(/overloaded \(heap in use \d+ MB is over its limit\)/);
      // In the base's negotiated format too.
      const xml = await shedding.request('GET', '/STU3/metadata', { headers: { accept: 'application/fhir+xml' } });
      expect(xml.status).toBe(503);
      expect(xml.text).toMatch(/<OperationOutcome xmlns="http:\/\/hl7\.org\/fhir">/);
      // Outside the bases: an OperationOutcome too.
      const outside = await shedding.request('GET', '/openapi.json');
      expect(outside.status).toBe(503);
      expect(outside.json.resourceType).toBe('OperationOutcome');
      // A shed request of a FHIR base is in the audit trail, as every answer is.
      await shedding.store.audit().index();
      const events = await shedding.store.reader({ default: 'all', patients: [] }).search({ types: ['AuditEvent'], where: [], sort: [], count: 100, offset: 0, total: false });
      expect(events.rows.some((r) => r.json!.includes('shed-1') && r.json!.includes('"outcomeDesc":"503: Not answered: the server is overloaded'))).toBe(true);
    });

    it('still answers /health/live and /metrics; /health/ready says it is unavailable', async () => {
      await expect.poll(() => shedding.app.isUnderPressure(), { timeout: 10_000 }).toBe(true);
      const live = await shedding.request('GET', '/health/live');
      expect(live.status).toBe(200);
      const ready = await shedding.request('GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.headers['retry-after']).toBe('5');
      expect(ready.headers['cache-control']).toBe('no-store');
      expect(ready.json).toEqual({ status: 'unavailable', reason: expect.stringMatching(/overloaded \(heap in use/) });
      const metrics = await shedding.request('GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^ccri_http_shed_total\{reason="heapUsedBytes"\} [1-9]/m);
      expect(metrics.text).toMatch(/^ccri_http_requests_total\{base="open",interaction="unknown",type="none",status="503"\} [1-9]/m);
    });

    it('sheds nothing with every limit off', async () => {
      // Nothing measures (the plugin is not registered), and every request is served.
      expect(calm.app.hasDecorator('isUnderPressure')).toBe(false);
      expect((await calm.request('GET', '/STU3/Patient')).status).toBe(200);
      expect((await calm.request('GET', '/health/ready')).status).toBe(200);
    });
  });
}

describe('load shedding on resident memory and event-loop delay', () => {
  let rss: TestServer;
  let loop: TestServer;
  beforeAll(async () => {
    rss = await startTestServer('sqlite', { shed: { heapBytes: 0, rssBytes: 1 } });
    loop = await startTestServer('sqlite', { shed: { heapBytes: 0, eventLoopDelayMs: 1 } });
  });
  afterAll(async () => {
    await rss?.cleanup();
    await loop?.cleanup();
  });

  it('sheds on the resident set', async () => {
    await expect.poll(() => rss.app.isUnderPressure(), { timeout: 10_000 }).toBe(true);
    const res = await rss.request('GET', '/STU3/Patient');
    expect(res.status).toBe(503);
    expect(res.json.issue[0].diagnostics).toMatch(/resident memory \d+ MB/);
  });

  it('sheds on the event-loop delay once the loop is held', async () => {
    // Hold the event loop (as a long synchronous query would) until a sample sees it, then ask at once.
    let res: Awaited<ReturnType<TestServer['request']>> | undefined;
    for (let attempt = 0; attempt < 50 && res?.status !== 503; attempt++) {
      const until = performance.now() + 150;
      while (performance.now() < until) {
        // busy: the event loop is held
      }
      await new Promise((r) => setImmediate(r));
      if (loop.app.isUnderPressure()) res = await loop.request('GET', '/STU3/Patient');
    }
    expect(res?.status).toBe(503);
    expect(res!.json.issue[0].diagnostics).toMatch(/event-loop delay \d+ ms/);
  });
});

describe('load shedding: configuration', () => {
  it('sheds on the heap by default (90% of V8 heap limit), not on the event loop or the resident set', () => {
    const c = loadConfig({}, {});
    expect(c.shed.eventLoopDelayMs).toBe(0);
    expect(c.shed.rssBytes).toBe(0);
    expect(c.shed.heapBytes).toBeGreaterThan(100 * 1024 * 1024);
    const set = loadConfig({}, { CCRI_SHED_EVENT_LOOP_DELAY_MS: '2000', CCRI_SHED_HEAP_BYTES: '0', CCRI_SHED_RSS_BYTES: '1073741824' });
    expect(set.shed).toEqual({ eventLoopDelayMs: 2000, heapBytes: 0, rssBytes: 1073741824 });
    expect(() => loadConfig({}, { CCRI_SHED_HEAP_BYTES: 'lots' })).toThrow(/CCRI_SHED_HEAP_BYTES must be a non-negative integer/);
  });
});
