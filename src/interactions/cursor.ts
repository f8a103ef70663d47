import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest } from '../fhir/outcome.js';

/**
 * Paging cursors are self-contained and signed: the position travels in the link,
 * so any node can serve the next page, and the HMAC (over the position and the
 * query it belongs to) makes a forged or edited cursor a 400.
 * https://hl7.org/fhir/STU3/http.html#paging
 */

export interface CursorState {
  /** Offset of the page's first match. */
  o: number;
  /** For search in the default order: continue after this resource row id (keyset paging). */
  a?: number;
  /** For history: continue below this change sequence number. */
  s?: number;
  /** For history: the upper bound fixed at the first page, so new changes do not shift pages. */
  b?: number;
}

function canonicalQuery(query: Array<[string, string]>): string {
  return query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function mac(secret: string, scope: string, payload: string): string {
  return createHmac('sha256', secret).update(scope).update('\u0000').update(payload).digest('base64url');
}

/** `scope` names what is paged (e.g. `GET Patient`), `query` its canonical parameters. */
export function signCursor(secret: string, scope: string, query: Array<[string, string]>, state: CursorState): string {
  const payload = Buffer.from(JSON.stringify(state)).toString('base64url');
  return `${payload}.${mac(secret, `${scope}?${canonicalQuery(query)}`, payload)}`;
}

export function verifyCursor(secret: string, scope: string, query: Array<[string, string]>, cursor: string): CursorState {
  const [payload, signature] = cursor.split('.');
  const expected = payload ? mac(secret, `${scope}?${canonicalQuery(query)}`, payload) : '';
  if (!payload || !signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    throw badRequest('The paging cursor is not valid for this query (it was altered, or belongs to another search)', '_cursor');
  }
  let state: CursorState;
  try {
    state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badRequest('The paging cursor is not valid', '_cursor');
  }
  if (!Number.isInteger(state.o) || state.o < 0) throw badRequest('The paging cursor is not valid', '_cursor');
  return state;
}

export function queryString(query: Array<[string, string]>): string {
  return canonicalQuery(query);
}
