import { createHmac, timingSafeEqual } from 'node:crypto';
import { badRequest, forbidden } from '../fhir/outcome.js';
import type { SortValue } from '../search/plan.js';
import type { RequestContext } from './types.js';

/**
 * Paging cursors are self-contained and signed: the position travels in the link,
 * so any node can serve the next page, and the HMAC (over the position and the
 * query it belongs to) makes a forged or edited cursor a 400. A cursor made for a caller
 * with a token names it (a keyed hash of the token's subject, client and patient): replayed
 * by anyone else, it is a 403.
 * https://hl7.org/fhir/STU3/http.html#paging
 */

export interface CursorState {
  /** Offset of the page's first match (for a page reached by keyset, as counted when the pages were made). */
  o: number;
  /** For search: continue after this resource row id (keyset paging), in the search's order. */
  a?: number;
  /** For a sorted search's keyset paging: the sort key values of row `a` (SearchPlan.afterKeys). */
  k?: SortValue[];
  /** 1: the page is the rows before row `a`, not after it (a `previous` link; SearchPlan.backward). */
  p?: 1;
  /** For history: continue below this change sequence number. */
  s?: number;
  /** For history: the upper bound fixed at the first page, so new changes do not shift pages. */
  b?: number;
  /** For search: Bundle.total as counted for the first page, which the pages after it carry rather than count again. */
  t?: number;
  /** Whom the cursor was made for (see holder). */
  u?: string;
}

type CursorContext = Pick<RequestContext, 'config' | 'caller'>;

/** A keyed hash of who the caller's token names ('' when anonymous): what binds cursors and export jobs to their caller. */
export function callerKey(ctx: CursorContext): string {
  return holder(ctx) ?? '';
}

/** The caller a cursor is bound to: none for anonymous callers, else a keyed hash of who the token names. */
function holder(ctx: CursorContext): string | undefined {
  const { subject, client, patient, kind } = ctx.caller;
  if (kind === 'anonymous') return undefined;
  return createHmac('sha256', ctx.config.cursorSecret).update(`holder\u0000${subject ?? ''}\u0000${client ?? ''}\u0000${patient ?? ''}`).digest('base64url').slice(0, 22);
}

function canonicalQuery(query: Array<[string, string]>): string {
  return query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function mac(secret: string, scope: string, payload: string): string {
  return createHmac('sha256', secret).update(scope).update('\u0000').update(payload).digest('base64url');
}

/** `scope` names what is paged (e.g. `GET Patient`), `query` its canonical parameters. */
export function signCursor(ctx: CursorContext, scope: string, query: Array<[string, string]>, state: CursorState): string {
  const u = holder(ctx);
  const payload = Buffer.from(JSON.stringify(u ? { ...state, u } : state)).toString('base64url');
  return `${payload}.${mac(ctx.config.cursorSecret, `${scope}?${canonicalQuery(query)}`, payload)}`;
}

export function verifyCursor(ctx: CursorContext, scope: string, query: Array<[string, string]>, cursor: string): CursorState {
  const secret = ctx.config.cursorSecret;
  const [payload, signature] = cursor.split('.');
  const expected = Buffer.from(payload ? mac(secret, `${scope}?${canonicalQuery(query)}`, payload) : '');
  // Compared as bytes: a signature with a character outside ASCII has as many characters as the MAC but more bytes.
  const given = Buffer.from(signature ?? '');
  if (!payload || !signature || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw badRequest('The paging cursor is not valid for this query (it was altered, or belongs to another search)', '_cursor');
  }
  let state: CursorState;
  try {
    state = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badRequest('The paging cursor is not valid', '_cursor');
  }
  if (typeof state !== 'object' || state === null || !Number.isInteger(state.o) || state.o < 0) throw badRequest('The paging cursor is not valid', '_cursor');
  if (state.a !== undefined && !Number.isInteger(state.a)) throw badRequest('The paging cursor is not valid', '_cursor');
  if (state.p !== undefined && (state.p !== 1 || state.a === undefined)) throw badRequest('The paging cursor is not valid', '_cursor');
  if (state.k !== undefined && !(Array.isArray(state.k) && state.k.every((v) => v === null || typeof v === 'string' || typeof v === 'number'))) {
    throw badRequest('The paging cursor is not valid', '_cursor');
  }
  if (state.t !== undefined && !(Number.isInteger(state.t) && state.t >= 0)) throw badRequest('The paging cursor is not valid', '_cursor');
  if (state.u !== holder(ctx)) throw forbidden('This paging link was made for another caller: search again with your own token');
  return state;
}

export function queryString(query: Array<[string, string]>): string {
  return canonicalQuery(query);
}
