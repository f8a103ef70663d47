import type { Command } from 'commander';
import { createContext } from './context.js';
import { count } from './text.js';
import { configFrom, requireStore, storeOptions } from './options.js';
import { BUILDING, progressBar } from './progress.js';

export function reindexCommand(program: Command): void {
  storeOptions(program.command('reindex').description('rebuild every search index from the stored resources')).action(async (opts: Record<string, unknown>) => {
    const config = configFrom(opts);
    requireStore(config);
    const { store } = await createContext(config);
    try {
      const bar = progressBar('reindex');
      // As a bulk load: the search-only indexes are dropped and built once at the end.
      const n = await store.bulk(() => store.reindex((done, total) => bar.update(done, total)), () => bar.stop(BUILDING));
      bar.stop();
      console.log(`Reindexed ${count(n, 'resource')}.`);
    } finally {
      await store.close();
    }
  });
}
