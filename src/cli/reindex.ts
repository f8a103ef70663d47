import type { Command } from 'commander';
import { searchRegistry } from '../search/registry.js';
import { defaultStoreOptions } from '../store/default-options.js';
import { openStore } from '../store/open.js';
import { configFrom, storeOptions } from './options.js';
import { progressBar } from './progress.js';

export function reindexCommand(program: Command): void {
  storeOptions(program.command('reindex').description('rebuild every search index from the stored resources')).action(async (opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    searchRegistry();
    const store = await openStore({ ...defaultStoreOptions(undefined, config.baseUrl), ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir });
    const bar = progressBar('reindex');
    const n = await store.reindex((done, total) => bar.update(done, total));
    bar.stop();
    await store.close();
    console.log(`Reindexed ${n} resources.`);
  });
}
