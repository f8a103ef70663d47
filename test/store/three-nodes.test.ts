import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore, type OpenStoreOptions } from '../../src/store/open.js';
import { runStoreContract } from '../../src/store/store.contract.js';
import type { StoreAdmin } from '../../src/store/store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * The store contract suite against three nodes behind a round-robin client (issue 15, "Many
 * nodes"): three stores opened on one database, as three nodes open it, and every call of the
 * suite (a read, a search, a transaction, a count, an authorization record) made by the next
 * of them in turn. What one node writes, the next must read, search and version-check at
 * once. On SQLite the three are peers, as the workers of `ccri serve --workers` are.
 */

/** The parts of a store that are services of their own: their calls take turns too. */
const SERVICES = new Set<PropertyKey>(['reader', 'auth', 'audit', 'exportJobs']);

/** One object whose every method call goes to the next target in turn (`close` to all); the services it hands out share its turns. */
function roundRobin<T extends object>(targets: T[], services: ReadonlySet<PropertyKey> = new Set(), turns = { n: 0 }): T {
  return new Proxy(targets[0]!, {
    get(first, prop) {
      const value = Reflect.get(first, prop) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'close') return async () => Promise.all(targets.map((t) => (t as { close(): Promise<void> }).close()));
      const call = (t: T, args: unknown[]) => (Reflect.get(t, prop) as (...a: unknown[]) => unknown).apply(t, args);
      if (services.has(prop)) return (...args: unknown[]) => roundRobin(targets.map((t) => call(t, args) as object), new Set(), turns);
      return (...args: unknown[]) => call(targets[turns.n++ % targets.length]!, args);
    },
  });
}

async function threeNodes(location: Pick<OpenStoreOptions, 'dataDir' | 'databaseUrl'>, clock: () => number): Promise<StoreAdmin> {
  const nodes: StoreAdmin[] = [];
  // Opened together, as nodes starting together: one migrates, the others wait for the store's lock.
  nodes.push(...(await Promise.all([0, 1, 2].map(() => openStore({ ...defaultStoreOptions(clock), ...location, peers: true })))));
  return roundRobin(nodes, SERVICES);
}

runStoreContract('three SQLite nodes on one file, round-robin', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-three-'));
  return { store: await threeNodes({ dataDir: dir }, clock), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

if (await shouldRunPostgres()) {
  runStoreContract('three PostgreSQL nodes on one schema, round-robin', async (clock) => {
    const schema = await createTestSchema('ccri_three');
    return { store: await threeNodes({ databaseUrl: schema.url }, clock), cleanup: schema.drop };
  });
} else {
  describe('store contract: three PostgreSQL nodes', () => {
    it('is skipped: PostgreSQL is unreachable (see the warning above)', () => undefined);
  });
}
