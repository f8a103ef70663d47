import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListeningServer, startListening } from '../helpers/listen.js';

/**
 * Issue 15's findings about the wire (L1, L2, L6), sent as raw bytes to a listening
 * server: what Node's HTTP parser refuses is an OperationOutcome, JSON bodies are read
 * strictly (duplicate keys and invalid UTF-8 are 400, another charset 415), and the
 * absolute form of the request line is served.
 */
describe('the wire', () => {
  let server: ListeningServer;
  let host: string;
  let port: number;
  beforeAll(async () => {
    server = await startListening();
    const url = new URL(server.baseUrl);
    host = url.hostname;
    port = Number(url.port);
  });
  afterAll(async () => server.stop());

  /** Sends `bytes` on a new connection and returns everything answered until the server closes it (or 3 s pass; every request here asks it to close, or is refused). */
  const raw = (bytes: string | Buffer): Promise<{ status: number; headers: string; body: string }> =>
    new Promise((resolve, reject) => {
      const socket = connect(port, host);
      let out = '';
      socket.on('data', (c) => (out += String(c)));
      const done = () => {
        const [head, ...rest] = out.split('\r\n\r\n');
        resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0), headers: head ?? '', body: rest.join('\r\n\r\n') });
      };
      socket.on('end', done);
      socket.on('error', (e) => (out ? done() : reject(e)));
      socket.setTimeout(3000, () => {
        socket.destroy();
        done();
      });
      // Written, not ended: Node's HTTP server takes a client's half-close as the request's abort
      // (httpAllowHalfOpen is off by default), so a request still waiting for its audit commit would get no answer.
      socket.write(bytes);
    });
  /** The JSON of a body, whether or not it came chunked. */
  const json = (body: string) => JSON.parse(body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1));

  describe('L1: requests the HTTP parser refuses are answered with an OperationOutcome', () => {
    it.each([
      ['a bare LF', 'GET /STU3/metadata HTTP/1.1\nHost: x\n\n'],
      ['a CR inside a header', 'GET /STU3/metadata HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'],
      ['Content-Length with Transfer-Encoding', 'POST /STU3/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['two Content-Lengths', 'POST /STU3/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
      ['a bad chunk size', 'POST /STU3/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'],
      ['a raw space in the URL', 'GET /STU3/Patient?name=a b HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a raw non-ASCII character in the URL', 'GET /STU3/Patient?name=\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['an unknown method', 'FOO /STU3/metadata HTTP/1.1\r\nHost: x\r\n\r\n'],
    ])('%s -> 400', async (_name, bytes) => {
      const res = await raw(bytes);
      expect(res.status).toBe(400);
      expect(res.headers).toContain('application/fhir+json');
      expect(json(res.body).resourceType).toBe('OperationOutcome');
    });

    it('a URL over 16 KB -> 431', async () => {
      const res = await raw(`GET /STU3/Patient?name=${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(json(res.body).issue[0].code).toBe('too-costly');
    });
  });

  describe('L2: JSON bodies are read strictly', () => {
    const post = (body: Buffer | string, contentType = 'application/fhir+json') => {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      return raw(Buffer.concat([Buffer.from(`POST /STU3/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: ${contentType}\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n\r\n`), bytes]));
    };

    it('a duplicate key -> 400, nothing stored', async () => {
      const res = await post('{"resourceType":"Patient","gender":"male","gender":"female"}');
      expect(res.status).toBe(400);
      expect(json(res.body).issue[0].diagnostics).toContain("'gender' twice");
      const nested = await post('{"resourceType":"Patient","name":[{"family":"a","given":["b"],"family":"c"}]}');
      expect(nested.status).toBe(400);
      // The same key in different objects is fine.
      expect((await post('{"resourceType":"Patient","name":[{"family":"a"},{"family":"b"}]}')).status).toBe(201);
    });

    it('invalid UTF-8 -> 400', async () => {
      const res = await post(Buffer.concat([Buffer.from('{"resourceType":"Patient","name":[{"family":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}]}')]));
      expect(res.status).toBe(400);
      expect(json(res.body).issue[0].diagnostics).toContain('UTF-8');
    });

    it('a charset other than UTF-8 -> 415; UTF-8 named is fine', async () => {
      expect((await post('{"resourceType":"Patient"}', 'application/fhir+json; charset=iso-8859-1')).status).toBe(415);
      expect((await post('{"resourceType":"Patient"}', 'application/fhir+json; charset=UTF-8')).status).toBe(201);
    });
  });

  it('L6: the absolute form of the request line is served', async () => {
    const res = await raw(`GET http://${host}:${port}/STU3/metadata HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    expect(res.status).toBe(200);
    expect(json(res.body).resourceType).toBe('CapabilityStatement');
  });
});
