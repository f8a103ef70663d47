import fc from 'fast-check';
import { postgresReachable } from '../helpers/postgres.js';
import { checkQuery, type Clock, closeStores, loadWorld, memoryOf, openStores } from './harness.js';
import { type Area, queryArbitrary } from './queries.js';
import { worldArbitrary } from './world.js';

/**
 * A longer hunt than the test: many worlds and queries, carrying on past failures,
 * each failure minimised and grouped by its shape (parameter names and modifiers,
 * without values); one example per group is printed.
 *
 *   npx tsx test/search/hunt.ts [worlds=3] [queries per area=300] [seed=1]
 */

const [worlds = 3, runs = 300, seed = 1] = process.argv.slice(2).map(Number);
const AREAS: Area[] = ['strings', 'tokens', 'dates', 'quantities', 'references', 'sorting', 'mixed', 'system'];

const clock: Clock = { now: 0 };
const stores = await openStores(await postgresReachable(), clock);
const groups = new Map<string, { count: number; example: string; queries: Set<string> }>();
try {
  for (let w = 0; w < worlds; w++) {
    const world = fc.sample(worldArbitrary(), { seed: seed + w, numRuns: 1 })[0]!;
    const memory = memoryOf(await loadWorld(stores, clock, world.steps));
    for (const area of AREAS) {
      for (const q of fc.sample(queryArbitrary(world, area), { seed: seed * 7919 + w * 131 + AREAS.indexOf(area), numRuns: runs })) {
        try {
          await checkQuery(stores, memory, q);
        } catch (err) {
          const text = (err as Error).message;
          const query = /query: +(\S+)/.exec(text)?.[1] ?? '?';
          const shape = `${query.split('?')[0]}?${/_type=\S*/.exec(text)?.[0] ?? ''}&${(query.split('?')[1] ?? '').split('&').map((p) => p.split('=')[0]).join('&')} | ${text.split('\n')[0]!.replace(/\d+/g, 'N')}`;
          const g = groups.get(shape);
          if (g) {
            g.count++;
            g.queries.add(query);
          } else groups.set(shape, { count: 1, example: text, queries: new Set([query]) });
        }
      }
    }
    console.log(`world ${w}: ${groups.size} kinds of difference so far`);
  }
} finally {
  await closeStores(stores);
}
for (const [shape, { count, example, queries }] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
  console.log(`\n=== ${count} x ${shape}\n${example.split('\n').map((l) => l.slice(0, 400)).join('\n')}`);
  console.log(`  all minimised queries of this shape:\n${[...queries].slice(0, 25).map((q) => `    ${q}`).join('\n')}`);
}
