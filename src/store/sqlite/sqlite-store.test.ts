import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../open.js';
import { runStoreContract } from '../store.contract.js';
import { defaultStoreOptions } from '../default-options.js';

runStoreContract('SQLite', async (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-sqlite-'));
  const store = await openStore({ ...defaultStoreOptions(clock), dataDir: dir });
  return { store, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});
