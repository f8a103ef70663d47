import type { Command } from 'commander';
import { createContext } from './context.js';
import { configFrom, storeOptions } from './options.js';
import { progressBar } from './progress.js';

export function reindexCommand(program: Command): void {
  storeOptions(program.command('reindex').description('rebuild every search index from the stored resources')).action(async (opts: Record<string, unknown>) => {
    const { store } = await createContext(configFrom(opts));
    const bar = progressBar('reindex');
    // As a bulk load: the search-only indexes are dropped and built once at the end.
    const n = await store.bulk(() => store.reindex((done, total) => bar.update(done, total)));
    bar.stop();
    await store.close();
    console.log(`Reindexed ${n} resources.`);
  });
}
