/**
 * A request's cancellation: what the store asks (`aborted`) and listens to (`onAbort`). The
 * HTTP layer aborts it when the client disconnects before the answer is sent. It is handed
 * to the store with the request's reader and transactions (`Store.reader(access, signal)`),
 * never carried ambiently: the PostgreSQL driver then cancels the statement running for it
 * (pg_cancel_backend) and refuses to start another; on SQLite a statement runs to its end
 * (or to the time limit) on the server's thread, and the next one is not started.
 *
 * Not an AbortController, whose signal, an EventTarget, cost about 7 µs to make: a tenth of
 * the CPU of a whole read by id, paid by every request for the few whose client goes away.
 * Nor an AsyncLocalStorage: on Node 20 one turns on promise hooks that ran for every promise
 * of every request, about a quarter of the instructions of a read by id (docs/benchmarks.md).
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
