import { FhirError, issue } from '../fhir/outcome.js';

/**
 * What a database's failures mean to a client. The drivers translate their errors into
 * these, so a request never answers a bare 500 for what it or the database can help.
 */

/** A query ran past the configured time limit (CCRI_QUERY_TIMEOUT_MS): the request asks too much. */
export function queryTooCostly(limitMs: number): FhirError {
  return new FhirError(
    400,
    issue('too-costly', `The query ran longer than this server's limit of ${limitMs} ms (CCRI_QUERY_TIMEOUT_MS) and was stopped; narrow the search (fewer parameters, no sort, fewer _include/_revinclude) and try again`),
  );
}

/** Seconds a client is told to wait before trying again when the database is unavailable or busy. */
export const RETRY_AFTER_SECONDS = 5;

/** The database is unreachable, gone or overloaded: nothing was done, and the same request may succeed later. */
export function storeUnavailable(what: string): FhirError {
  return new FhirError(503, issue('transient', `${what}; try again later`), { 'Retry-After': String(RETRY_AFTER_SECONDS) });
}

/** Concurrent writes kept colliding (deadlocks, serialisation failures) after the retries the server makes itself. */
export function storeContended(): FhirError {
  return new FhirError(503, issue('transient', 'The resources are being changed by concurrent requests, and this one could not be completed after several attempts; try again'), {
    'Retry-After': '1',
  });
}

/** The client went away before its answer: the work is cancelled, and nobody reads the answer (499, as proxies log it). */
export class ClientGone extends FhirError {
  constructor() {
    super(499, issue('incomplete', 'The client closed the connection; the request was cancelled'));
    this.name = 'ClientGone';
  }
}

/**
 * A write lost a race it can win by trying again: another request created the same
 * resource between this one's look and its insert. The store runs the transaction again
 * (a bounded number of times) before answering with this 409.
 */
export class RetryableConflict extends FhirError {
  constructor(diagnostics: string) {
    super(409, issue('conflict', diagnostics));
    this.name = 'RetryableConflict';
  }
}
