import { connect } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from '../helpers/listen.js';

/** Sends raw bytes on a new connection; what came back once the server closed it. */
function raw(server: ListeningServer, bytes: string): Promise<string> {
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

/**
 * Issue 15: one JSON access-log line per request, carrying its request id (the one the
 * answer's X-Request-Id names), whatever answered it: a FHIR base, a route outside them,
 * the authorization server, the rate limit, the load shedder, Fastify before routing, or
 * Node's HTTP parser before Fastify.
 */
describe('the access log', () => {
  let s: ListeningServer;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _e, done) => (String(chunk).split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)), done()) });
    s = await startListening({ rateLimit: 1000, headersTimeoutMs: 300, requestTimeoutMs: 300 }, { logger: pino({ level: 'info' }, sink) });
  });
  afterAll(async () => s?.stop());

  const origin = () => new URL(s.baseUrl).origin;
  const access = () => lines.filter((l) => l.msg === 'request');

  it('has one line per request, with the id the answer names', async () => {
    lines.length = 0;
    const ids: Array<[string, number]> = [];
    for (const [path, init] of [
      ['/STU3/Patient?_count=1', {}],
      ['/STU3/%zz', {}],
      ['/STU3/Nope/1', {}],
      ['/nowhere', {}],
      ['/health/ready', {}],
      ['/metrics', {}],
      ['/auth/.well-known/openid-configuration', {}],
      ['/STU3/Patient', { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'br' }, body: '{}' }],
    ] as Array<[string, RequestInit]>) {
      const res = await fetch(`${origin()}${path}`, init);
      await res.arrayBuffer();
      ids.push([res.headers.get('x-request-id')!, res.status]);
    }
    expect(ids.map(([, status]) => status)).toEqual([200, 400, 404, 404, 200, 200, 200, 415]);
    await expect.poll(() => access().length).toBe(ids.length);
    expect(access().map((l) => [l.reqId, l.status])).toEqual(ids);
    for (const l of access()) expect(l).toMatchObject({ level: 30, method: expect.any(String), url: expect.any(String), ms: expect.any(Number) });
  });

  it('logs what the HTTP parser refused, with an id made for it and sent back', async () => {
    lines.length = 0;
    const malformed = await raw(s, 'GET /STU3/metadata HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(malformed).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const slow = await raw(s, 'GET /STU3/metadata HTTP/1.1\r\nHost: x\r\n');
    expect(slow).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const sentIds = [malformed, slow].map((t) => /\r\nX-Request-Id: ([0-9a-f-]{36})\r\n/.exec(t)?.[1]);
    expect(sentIds.every(Boolean)).toBe(true);
    expect(access().map((l) => [l.reqId, l.status])).toEqual([
      [sentIds[0], 400],
      [sentIds[1], 408],
    ]);
  });
});

describe('the access log: refused by the rate limit or the load shedder', () => {
  let limited: ListeningServer;
  let shedding: ListeningServer;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk, _e, done) => (String(chunk).split('\n').filter(Boolean).forEach((l) => lines.push(JSON.parse(l) as Record<string, unknown>)), done()) });
    const logger = pino({ level: 'info' }, sink);
    limited = await startListening({ rateLimit: 1, rateLimitLoopback: true }, { logger });
    shedding = await startListening({ shed: { heapBytes: 1 } }, { logger });
  });
  afterAll(async () => {
    await limited?.stop();
    await shedding?.stop();
  });

  it('logs the 429s and 503s too', async () => {
    await expect.poll(() => shedding.app.isUnderPressure(), { timeout: 10_000 }).toBe(true);
    lines.length = 0;
    const answers: Array<[string | null, number]> = [];
    for (const url of [`${limited.baseUrl}/metadata`, `${limited.baseUrl}/metadata`, `${shedding.baseUrl}/metadata`]) {
      const res = await fetch(url);
      await res.arrayBuffer();
      answers.push([res.headers.get('x-request-id'), res.status]);
    }
    expect(answers.map(([, status]) => status)).toEqual([200, 429, 503]);
    await expect.poll(() => lines.filter((l) => l.msg === 'request').length).toBe(3);
    expect(lines.filter((l) => l.msg === 'request').map((l) => [l.reqId, l.status])).toEqual(answers);
  });
});
