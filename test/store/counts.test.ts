import { afterAll, describe, expect, it } from 'vitest';
import { EVERYTHING } from '../../src/search/access.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';
import { parseSearch } from '../../src/search/parse/query.js';
import { searchRegistry } from '../../src/search/registry.js';

/**
 * The count of current resources per type (type_count) is written once, at the end of a
 * transaction (write-batch.ts, BatchContext.counts). On PostgreSQL, a transaction that
 * wrote a type's count row at its first write of the type held that row locked to its
 * commit: concurrent transactions writing the same types queued behind each other, and
 * two writing them in different orders deadlocked (four clients' transaction Bundles
 * waited a second for PostgreSQL's deadlock timeout again and again).
 */
const withPostgres = await shouldRunPostgres();
const registry = searchRegistry();
const planOf = (type: string, query: string) => parseSearch([type], [...new URLSearchParams(query)], registry, { defaultCount: 10, maxCount: 100, strict: true }).plan;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const patient = (id: string) => ({ type: 'Patient', id, resource: { resourceType: 'Patient', id } });
const observation = (id: string) => ({ type: 'Observation', id, resource: { resourceType: 'Observation', id, status: 'final', code: { text: 'x' } } });

describe.skipIf(!withPostgres)('type counts on PostgreSQL', () => {
  async function store(): Promise<Store> {
    const schema = await createTestSchema('ccri_counts');
    const s = await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url });
    cleanups.push(async () => {
      await s.close();
      await schema.drop();
    });
    return s;
  }

  it('are locked only at the end: a transaction writing the same types commits while another is still open', async () => {
    const s = await store();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let wrote!: () => void;
    const written = new Promise<void>((r) => (wrote = r));
    // The first writes a Patient, then waits, its transaction open.
    const first = s.transaction(EVERYTHING, async (tx) => {
      await tx.write(patient('a'));
      wrote();
      await held;
      await tx.write(observation('a'));
    });
    await written;
    // The second writes both types, in the other order, and must commit meanwhile.
    const second = s.transaction(EVERYTHING, async (tx) => {
      await tx.write(observation('b'));
      await tx.write(patient('b'));
    });
    const outcome = await Promise.race([second.then(() => 'committed'), new Promise((r) => setTimeout(() => r('still waiting'), 5000))]);
    release();
    await first;
    await second;
    expect(outcome).toBe('committed');
    const reader = s.reader(EVERYTHING);
    expect((await reader.search(planOf('Patient', '_total=accurate'))).total).toBe(2);
    expect((await reader.search(planOf('Observation', '_total=accurate'))).total).toBe(2);
  });

  it("count a transaction's own writes in a search it makes after them", async () => {
    const s = await store();
    const total = await s.transaction(EVERYTHING, async (tx) => {
      await tx.write(patient('c'));
      await tx.write(patient('d'));
      return (await tx.search(planOf('Patient', '_total=accurate'))).total;
    });
    expect(total).toBe(2);
  });
});
