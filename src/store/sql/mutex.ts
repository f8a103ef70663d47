/** A first-come, first-served async lock. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private held = false;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.queued++;
    const result = this.tail.then(() => {
      this.queued--;
      this.held = true;
      return fn();
    });
    // The next caller waits for this one, whether it succeeded or not.
    this.tail = result.then(
      () => {
        this.held = false;
      },
      () => {
        this.held = false;
      },
    );
    return result;
  }

  /** Callers waiting for the lock (metrics). */
  get waiting(): number {
    return this.queued;
  }

  /** Whether a caller holds the lock now. */
  get busy(): boolean {
    return this.held;
  }
}
