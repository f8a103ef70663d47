import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startListening, type ListeningServer } from '../helpers/listen.js';

/** A raw connection to a listening server: what it has received, and a promise of all it received once the server closed it. */
interface Raw {
  socket: Socket;
  received(): string;
  closed: Promise<string>;
}

function open(server: ListeningServer): Promise<Raw> {
  const { port } = new URL(server.baseUrl);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), '127.0.0.1');
    const closed = new Promise<string>((done) => socket.on('close', () => done(text)));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Sends one keep-alive request on `raw` and waits for its whole answer (a Content-Length body). */
async function ask(raw: Raw, path: string): Promise<string> {
  const start = raw.received().length;
  raw.socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  for (;;) {
    const text = raw.received().slice(start);
    const head = text.indexOf('\r\n\r\n');
    const length = /\r\ncontent-length: (\d+)/i.exec(text)?.[1];
    if (head >= 0 && length !== undefined && text.length >= head + 4 + Number(length)) return text;
    if (raw.socket.destroyed) throw new Error(`closed after: ${text}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends `text` a few bytes at a time, as a slow client would, until the connection closes. */
function trickle(raw: Raw, text: string): void {
  let i = 0;
  const timer = setInterval(() => {
    if (raw.socket.destroyed || i >= text.length) return clearInterval(timer);
    raw.socket.write(text.slice(i, i + 2));
    i += 2;
  }, 40);
  void raw.closed.then(() => clearInterval(timer));
}

/**
 * Issue 15, slow clients: the headers and the whole request must arrive within their timeouts
 * (408 OperationOutcome, and the connection is closed), an idle kept-alive connection is
 * closed, and connections over the cap are closed at once, while normal requests go on.
 */
describe('slow clients', () => {
  let s: ListeningServer;
  beforeAll(async () => {
    s = await startListening({ headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 400, maxConnections: 0 });
  });
  afterAll(async () => s?.stop());

  it('answers 408 and closes a connection whose headers arrive too slowly', async () => {
    const raw = await open(s);
    // Headers without end: a byte pair every 40 ms.
    trickle(raw, `GET /STU3/metadata HTTP/1.1\r\nHost: localhost\r\n${'X-Slow: a\r\n'.repeat(1000)}`);
    const text = await raw.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'timeout' }] });
  });

  it('answers 408 and closes a connection whose body arrives too slowly', async () => {
    const raw = await open(s);
    const body = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'x'.repeat(400) }] });
    raw.socket.write(`POST /STU3/Patient HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/fhir+json\r\nContent-Length: ${body.length}\r\n\r\n`);
    trickle(raw, body);
    const text = await raw.closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(text).toContain('"code":"timeout"');
  });

  it('closes a kept-alive connection left idle', async () => {
    const raw = await open(s);
    const first = await ask(raw, '/health/live');
    expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(first).toMatch(/\r\nconnection: keep-alive\r\n/i);
    // Nothing more is sent: the server closes it (a client-side timeout of the test would fail it).
    const text = await raw.closed;
    expect(text).toBe(first);
  });

  it('keeps serving everyone else meanwhile', async () => {
    const slow = await open(s);
    trickle(slow, 'GET /STU3/metadata HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    const res = await fetch(`${s.baseUrl}/metadata`);
    expect(res.status).toBe(200);
    await slow.closed;
  });
});

describe('the connection cap', () => {
  let s: ListeningServer;
  beforeAll(async () => {
    s = await startListening({ maxConnections: 2, keepAliveTimeoutMs: 60_000 });
  });
  afterAll(async () => s?.stop());

  it('closes a connection over the cap at once, while the others go on; a freed place is taken again', async () => {
    const a = await open(s);
    const b = await open(s);
    // Both are the server's (each has been answered), and stay open.
    expect(await ask(a, '/health/live')).toMatch(/^HTTP\/1\.1 200/);
    expect(await ask(b, '/health/live')).toMatch(/^HTTP\/1\.1 200/);
    const c = await open(s);
    c.socket.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n');
    // Closed by the server without an answer.
    expect(await c.closed).toBe('');
    // The two within the cap still work.
    expect(await ask(a, '/STU3/metadata?_summary=true')).toMatch(/^HTTP\/1\.1 200/);
    const metrics = await ask(b, '/metrics');
    expect(metrics).toMatch(/^ccri_http_rejected_total\{reason="max-connections"\} 1$/m);
    // One leaves; a new connection is served.
    a.socket.end();
    await a.closed;
    await expect.poll(async () => new Promise<number>((r) => s.app.server.getConnections((_e, n) => r(n)))).toBe(1);
    const d = await open(s);
    expect(await ask(d, '/health/live')).toMatch(/^HTTP\/1\.1 200/);
    b.socket.destroy();
    d.socket.destroy();
  });
});

describe('slow clients: configuration', () => {
  it('has defaults, takes settings, and refuses a header timeout longer than the request timeout', () => {
    const c = loadConfig({}, {});
    expect([c.headersTimeoutMs, c.requestTimeoutMs, c.keepAliveTimeoutMs, c.maxConnections]).toEqual([10_000, 60_000, 10_000, 1000]);
    const set = loadConfig({}, { CCRI_HEADERS_TIMEOUT_MS: '5000', CCRI_REQUEST_TIMEOUT_MS: '0', CCRI_KEEP_ALIVE_TIMEOUT_MS: '75000', CCRI_MAX_CONNECTIONS: '0' });
    expect([set.headersTimeoutMs, set.requestTimeoutMs, set.keepAliveTimeoutMs, set.maxConnections]).toEqual([5000, 0, 75_000, 0]);
    expect(() => loadConfig({}, { CCRI_HEADERS_TIMEOUT_MS: '20000', CCRI_REQUEST_TIMEOUT_MS: '10000' })).toThrow(/CCRI_HEADERS_TIMEOUT_MS \(20000\) must not be longer than CCRI_REQUEST_TIMEOUT_MS/);
  });
});
