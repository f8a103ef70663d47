import type { Caller, Data } from '../interactions/types.js';
import type { Access } from '../search/access.js';
import type { SearchPlan } from '../search/plan.js';
import type { Cancellation } from '../store/cancel.js';
import type { AuditAppend, HistoryPage, HistoryQuery, SearchPage, Store, StoredVersion, StoreReader, StoreTx, WriteResult } from '../store/store.js';
import type { Target } from './route.js';

/**
 * What a request reads and writes, noted as it happens, for the record step. The
 * pipeline feeds it from the request's data (the only way a handler reaches the store),
 * so nothing a request touches escapes it.
 */
export interface Trail {
  /** The request's caller and target, once known. */
  identified(caller: Caller): void;
  routed(target: Target): void;
  /** A bundle entry runs now (its target), or no longer (undefined). */
  entry(target: Target | undefined): void;
  read(versions: readonly StoredVersion[]): void;
  wrote(results: readonly WriteResult[]): void;
  /** What to append in a store transaction of the request (its event, if the transaction wrote). */
  inTransaction(): AuditAppend;
}

/** The request's data, noting in `trail` every version it reads and every write it makes. */
export function observed(store: Store, access: Access, data: Data, trail: Trail, signal?: Cancellation): Data {
  return new ObservedData(store, access, data, trail, signal);
}

/**
 * A reader that notes what it reads. A class rather than an object of closures: one is
 * made for every request with a trail, and its methods are then made once, not per request.
 */
class ObservedReader implements StoreReader {
  constructor(
    protected readonly reader: StoreReader,
    protected readonly trail: Trail,
  ) {}

  async read(type: string, id: string): Promise<StoredVersion | undefined> {
    return seen(await this.reader.read(type, id), this.trail);
  }

  async vread(type: string, id: string, version: number): Promise<StoredVersion | undefined> {
    return seen(await this.reader.vread(type, id, version), this.trail);
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    const page = await this.reader.history(query);
    this.trail.read(page.versions);
    return page;
  }

  async search(plan: SearchPlan): Promise<SearchPage> {
    const page = await this.reader.search(plan);
    this.trail.read(page.rows);
    return page;
  }
}

class ObservedData extends ObservedReader implements Data {
  constructor(
    private readonly store: Store,
    private readonly access: Access,
    data: Data,
    trail: Trail,
    private readonly signal: Cancellation | undefined,
  ) {
    super(data, trail);
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const trail = this.trail;
    return this.store.transaction(this.access, (tx) => fn(observeTx(tx, trail)), { audit: trail.inTransaction(), ...(this.signal ? { signal: this.signal } : {}) });
  }
}

function observeTx(tx: StoreTx, trail: Trail): StoreTx {
  const reader = new ObservedReader(tx, trail);
  return {
    read: (type, id) => reader.read(type, id),
    vread: (type, id, version) => reader.vread(type, id, version),
    history: (query) => reader.history(query),
    search: (plan) => reader.search(plan),
    serialise: (key) => tx.serialise(key),
    lock: (keys) => tx.lock(keys),
    write: async (op) => {
      const result = await tx.write(op);
      trail.wrote([result]);
      return result;
    },
    writeMany: async (ops) => {
      const results = await tx.writeMany(ops);
      trail.wrote(results);
      return results;
    },
  };
}

function seen(v: StoredVersion | undefined, trail: Trail): StoredVersion | undefined {
  if (v) trail.read([v]);
  return v;
}
