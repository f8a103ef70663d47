import { FhirError } from '../fhir/outcome.js';
import { ClientGone, RetryableConflict } from '../store/errors.js';
import type { StoreTx, WriteOp, WriteResult } from '../store/store.js';

interface Waiting {
  /** The Bundle entry that asked: its writes go to the store in entry order. */
  index: number;
  op: WriteOp;
  resolve: (r: WriteResult) => void;
  reject: (err: unknown) => void;
}

/**
 * The writes of a transaction's entries that run together (one method's entries: they
 * change different resources and read nothing the others write), gathered into one
 * `writeMany`: a few statements per table for all of them, instead of a few per entry
 * (on PostgreSQL each statement is a round trip). Each entry still runs through the whole
 * pipeline on its own and gets its own result.
 *
 * The gathered writes go to the store once every entry still running is waiting for its
 * write, and before any entry reads through the transaction (so a read sees every write
 * asked before it). A write refused as a whole (a precondition, a forbidden write) is then
 * tried entry by entry, so that the refusal names the entry it belongs to.
 */
export class WriteGather {
  private readonly queue: Waiting[] = [];
  private flushing?: Promise<void>;

  constructor(
    private readonly tx: StoreTx,
    /** Entries that have not finished yet. */
    private running: number,
  ) {}

  /** The transaction as entry `index` sees it. */
  txFor(index: number): StoreTx {
    const tx = this.tx;
    const after = <T>(f: () => Promise<T>): Promise<T> => this.flush().then(f);
    return {
      read: (type, id) => after(() => tx.read(type, id)),
      vread: (type, id, version) => after(() => tx.vread(type, id, version)),
      history: (query) => after(() => tx.history(query)),
      search: (plan) => after(() => tx.search(plan)),
      serialise: (key) => after(() => tx.serialise(key)),
      lock: (keys) => after(() => tx.lock(keys)),
      writeMany: (ops) => after(() => tx.writeMany(ops)),
      write: (op) =>
        new Promise<WriteResult>((resolve, reject) => {
          this.queue.push({ index, op, resolve, reject });
          this.kick();
        }),
    };
  }

  /** An entry has finished (answered or failed). */
  done(): void {
    this.running--;
    this.kick();
  }

  private kick(): void {
    if (this.queue.length && this.queue.length >= this.running) void this.flush().catch(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.queue.length) return;
    const batch = this.queue.splice(0).sort((a, b) => a.index - b.index);
    this.flushing = this.write(batch).finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      const results = await this.tx.writeMany(batch.map((w) => w.op));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      // A refusal made before anything was written (one run of distinct resources: writeBatch
      // checks access and preconditions before its statements) is found entry by entry.
      const distinct = new Set(batch.map((w) => `${w.op.type}/${w.op.id}`)).size === batch.length;
      if (err instanceof FhirError && !(err instanceof RetryableConflict) && !(err instanceof ClientGone) && distinct && batch.length > 1) {
        let failed: unknown;
        for (const w of batch) {
          // After the first refusal the rest are not tried: the transaction fails on that entry.
          if (failed !== undefined) w.reject(failed);
          else await this.tx.write(w.op).then(w.resolve, (e: unknown) => w.reject((failed = e)));
        }
      } else {
        for (const w of batch) w.reject(err);
      }
    }
  }
}
