import { EVERYTHING } from '../../search/access.js';
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import { runStoreContract } from '../store.contract.js';
import { CROSS_PROCESS_MS } from './driver.js';
import { defaultStoreOptions } from '../default-options.js';
import { emptyIndexRows } from '../../search/index-rows.js';

runStoreContract('SQLite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-sqlite-'));
  const store = await openStore({ ...defaultStoreOptions(clock), dataDir: dir });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

describe('SQLite read cache', () => {
  it('sees its own writes at once, and another process\'s (connection\'s) within the window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-cache-'));
    const a = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    const b = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    try {
      const write = (store: typeof a, family: string) =>
        store.transaction(EVERYTHING, (tx) => tx.write({ type: 'Patient', id: 'p', resource: { resourceType: 'Patient', name: [{ family }] } }));
      await write(a, 'One');
      expect((await a.reader(EVERYTHING).read('Patient', 'p'))?.version).toBe(1);
      expect((await a.reader(EVERYTHING).read('Patient', 'p'))?.version).toBe(1);
      await write(a, 'Two');
      expect((await a.reader(EVERYTHING).read('Patient', 'p'))?.version).toBe(2);
      await write(b, 'Three');
      // Another process's commit is seen once the cross-process window has passed.
      await new Promise((r) => setTimeout(r, CROSS_PROCESS_MS * 2));
      const seen = await a.reader(EVERYTHING).read('Patient', 'p');
      expect(seen?.version).toBe(3);
      expect(JSON.parse(seen!.json!).name[0].family).toBe('Three');
      await b.transaction(EVERYTHING, (tx) => tx.write({ type: 'Patient', id: 'p', resource: null }));
      await new Promise((r) => setTimeout(r, CROSS_PROCESS_MS * 2));
      expect((await a.reader(EVERYTHING).read('Patient', 'p'))?.deleted).toBe(true);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with peers (the workers of `ccri serve --workers`), sees another connection\'s commit at the very next read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-peers-'));
    const a = await openStore({ ...defaultStoreOptions(), dataDir: dir, peers: true });
    const b = await openStore({ ...defaultStoreOptions(), dataDir: dir, peers: true });
    try {
      const write = (store: typeof a, family: string) =>
        store.transaction(EVERYTHING, (tx) => tx.write({ type: 'Patient', id: 'p', resource: { resourceType: 'Patient', name: [{ family }] } }));
      await write(a, 'One');
      // Each write by one, read at once by the other, which had the version before it cached.
      for (const [writer, reader, family] of [[b, a, 'Two'], [a, b, 'Three'], [b, a, 'Four']] as const) {
        const before = (await reader.reader(EVERYTHING).read('Patient', 'p'))!.version;
        await write(writer, family);
        const seen = await reader.reader(EVERYTHING).read('Patient', 'p');
        expect(seen?.version).toBe(before + 1);
        expect(JSON.parse(seen!.json!).name[0].family).toBe(family);
      }
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('index format', () => {
  it('reindexes, once, a store whose index rows were written under another format', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-format-'));
    const search = (store: Awaited<ReturnType<typeof openStore>>) =>
      store.reader(EVERYTHING).search({ types: ['Observation'], where: [{ kind: 'reference', param: 'patient', values: [{ type: 'Patient', id: 'p1' }] }], sort: [], count: 10, offset: 0, total: false });
    // An "older" store: its indexer wrote no rows at all, under format 0.
    const old = await openStore({ ...defaultStoreOptions(), indexer: () => emptyIndexRows(), indexFormat: '0', dataDir: dir });
    try {
      await old.transaction(EVERYTHING, (tx) => tx.write({ type: 'Observation', id: 'o1', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } } }));
      expect((await search(old)).rows).toHaveLength(0);
    } finally {
      await old.close();
    }
    let reindexed = 0;
    const options = defaultStoreOptions();
    const counting = { ...options, indexer: (r: Record<string, unknown>) => (reindexed++, options.indexer(r)), dataDir: dir };
    const current = await openStore(counting);
    try {
      expect(reindexed).toBe(1);
      expect((await search(current)).rows.map((r) => r.id)).toEqual(['o1']);
    } finally {
      await current.close();
    }
    const again = await openStore(counting);
    await again.close();
    expect(reindexed).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
