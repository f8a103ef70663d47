import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { FhirError, issue } from '../fhir/outcome.js';

/** The request body encodings accepted (RFC 9110 8.4.1): gzip, and deflate (zlib's format, which HTTP's deflate is). */
export const ACCEPTED_ENCODINGS = 'gzip, deflate';

/** A body stream as Fastify reads it after a preParsing hook: `receivedEncodedLength` is what arrived on the wire. */
export type Decoded = Readable & { receivedEncodedLength: number };

/**
 * The request body as Fastify should read it: as sent when it has no Content-Encoding (or
 * `identity`); inflated when it is gzip or deflate. Fastify holds the inflated bytes to the
 * body limit (413 past it), and so does this stream itself: past `limit` it stops inflating
 * at once, so a small body that inflates to gigabytes (a "zip bomb") costs no more memory or
 * time than `limit` bytes. Any other encoding, or several, is a 415 naming the accepted ones;
 * a body that does not inflate is a 400.
 */
export function decodedBody(raw: IncomingMessage, payload: Readable, limit: number): Readable {
  const given = raw.headers['content-encoding'];
  // Without a body (no length, or none, and nothing chunked) there is nothing to decode.
  if (given === undefined || (raw.headers['transfer-encoding'] === undefined && (raw.headers['content-length'] === undefined || raw.headers['content-length'] === '0'))) return payload;
  const encoding = (Array.isArray(given) ? given.join(',') : (given ?? '')).trim().toLowerCase();
  if (encoding === '' || encoding === 'identity') return payload;
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
    throw new FhirError(415, issue('not-supported', `The body's Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not accepted: send it as is, or in gzip or deflate`), {
      'Accept-Encoding': ACCEPTED_ENCODINGS,
    });
  }
  const inflater = encoding === 'deflate' ? createInflate() : createGunzip();
  let inflated = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      inflated += chunk.length;
      if (inflated > limit) {
        done(Object.assign(new Error('The request body, inflated, is larger than this server accepts'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }));
        return;
      }
      done(null, chunk);
    },
  }) as Transform & Decoded;
  limited.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    limited.receivedEncodedLength += chunk.length;
  });
  inflater.on('error', () => {
    limited.destroy(Object.assign(new Error(`The request body is not valid ${encoding === 'deflate' ? 'deflate' : 'gzip'} data`), { statusCode: 400, code: 'CCRI_BAD_ENCODING' }));
  });
  // However the body ends (read, too large, corrupt), nothing more is inflated; what the
  // client still sends is read and dropped, so that the answer can reach it.
  limited.on('close', () => {
    payload.unpipe(inflater);
    inflater.destroy();
    payload.resume();
  });
  payload.pipe(inflater).pipe(limited);
  return limited;
}
