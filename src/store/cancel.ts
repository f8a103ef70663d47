import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The cancellation signal of the request being served, carried through its async calls
 * without being passed by hand: the HTTP layer aborts it when the client disconnects
 * before the answer is sent, and the PostgreSQL driver then cancels the statement running
 * for it (pg_cancel_backend) and refuses to start another. On SQLite a statement runs to
 * its end (or to the time limit) on the server's thread; the next one is not started.
 */
const storage = new AsyncLocalStorage<Cancellation | undefined>();

/**
 * A request's cancellation: what the store asks (`aborted`) and listens to (`onAbort`). Not
 * an AbortController, whose signal, an EventTarget, cost about 7 µs to make: a tenth of the
 * CPU of a whole read by id, paid by every request for the few whose client goes away.
 */
export class Cancellation {
  private listeners: Array<() => void> | undefined;
  aborted = false;

  /** Aborts: the listeners run once, in order; later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listeners = this.listeners ?? [];
    this.listeners = undefined;
    for (const listener of listeners) listener();
  }

  /** Calls `listener` when aborted (never if already aborted); returns what stops listening. */
  onAbort(listener: () => void): () => void {
    if (this.aborted) return () => undefined;
    (this.listeners ??= []).push(listener);
    return () => {
      const at = this.listeners?.indexOf(listener) ?? -1;
      if (at >= 0) this.listeners!.splice(at, 1);
    };
  }
}

/** Runs `fn` with `signal` as the current request's cancellation. */
export function withCancellation<T>(signal: Cancellation, fn: () => T): T {
  return storage.run(signal, fn);
}

/** The current request's cancellation, if it has one. */
export function currentSignal(): Cancellation | undefined {
  return storage.getStore();
}

/**
 * Runs `fn` outside any request's cancellation (work shared by many requests: the audit
 * trail's group commit). Run with no store rather than `exit()`: Node's `exit()` turns the
 * promise hooks off and on again around `fn` (when no other AsyncLocalStorage is in use),
 * which cost the server's thread about 1% under reads, once a batch.
 */
export function uncancellable<T>(fn: () => T): T {
  return storage.run(undefined, fn);
}
