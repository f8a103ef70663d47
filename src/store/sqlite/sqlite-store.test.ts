import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import { runStoreContract } from '../store.contract.js';
import { CROSS_PROCESS_MS } from './driver.js';
import { defaultStoreOptions } from '../default-options.js';

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
        store.transaction((tx) => tx.write({ type: 'Patient', id: 'p', resource: { resourceType: 'Patient', name: [{ family }] } }));
      await write(a, 'One');
      expect((await a.read('Patient', 'p'))?.version).toBe(1);
      expect((await a.read('Patient', 'p'))?.version).toBe(1);
      await write(a, 'Two');
      expect((await a.read('Patient', 'p'))?.version).toBe(2);
      await write(b, 'Three');
      // Another process's commit is seen once the cross-process window has passed.
      await new Promise((r) => setTimeout(r, CROSS_PROCESS_MS * 2));
      const seen = await a.read('Patient', 'p');
      expect(seen?.version).toBe(3);
      expect(JSON.parse(seen!.json!).name[0].family).toBe('Three');
      await b.transaction((tx) => tx.write({ type: 'Patient', id: 'p', resource: null }));
      await new Promise((r) => setTimeout(r, CROSS_PROCESS_MS * 2));
      expect((await a.read('Patient', 'p'))?.deleted).toBe(true);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
