import type { Caller, Data } from '../interactions/types.js';
import type { Access } from '../search/access.js';
import type { AuditAppend, Store, StoredVersion, StoreReader, StoreTx, WriteResult } from '../store/store.js';
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
export function observed(store: Store, access: Access, data: Data, trail: Trail): Data {
  return {
    ...observeReader(data, trail),
    transaction: (fn) => store.transaction(access, (tx) => fn(observeTx(tx, trail)), { audit: trail.inTransaction() }),
  };
}

function observeReader<R extends StoreReader>(r: R, trail: Trail): StoreReader {
  return {
    read: async (type, id) => seen(await r.read(type, id), trail),
    vread: async (type, id, version) => seen(await r.vread(type, id, version), trail),
    history: async (query) => {
      const page = await r.history(query);
      trail.read(page.versions);
      return page;
    },
    search: async (plan) => {
      const page = await r.search(plan);
      trail.read(page.rows);
      return page;
    },
  };
}

function observeTx(tx: StoreTx, trail: Trail): StoreTx {
  return {
    ...observeReader(tx, trail),
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
