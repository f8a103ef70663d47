import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The cancellation signal of the request being served, carried through its async calls
 * without being passed by hand: the HTTP layer aborts it when the client disconnects
 * before the answer is sent, and the PostgreSQL driver then cancels the statement running
 * for it (pg_cancel_backend) and refuses to start another. On SQLite a statement runs to
 * its end (or to the time limit) on the server's thread; the next one is not started.
 */
const storage = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the current request's cancellation signal. */
export function withCancellation<T>(signal: AbortSignal, fn: () => T): T {
  return storage.run(signal, fn);
}

/** The current request's cancellation signal, if it has one. */
export function currentSignal(): AbortSignal | undefined {
  return storage.getStore();
}

/** Runs `fn` outside any request's cancellation (work shared by many requests: the audit trail's group commit). */
export function uncancellable<T>(fn: () => T): T {
  return storage.exit(fn);
}
