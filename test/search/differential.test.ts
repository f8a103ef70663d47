import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDateValue } from '../../src/search/parse/values.js';
import { shouldRunPostgres } from '../helpers/postgres.js';
import { checkQuery, type Clock, closeStores, loadWorld, memoryOf, type NamedStore, openStores } from './harness.js';
import { dateRangeOf, type MemorySearch } from './memory-search.js';
import { type Area, queryArbitrary } from './queries.js';
import { dateTime, type World, worldArbitrary } from './world.js';

/**
 * The differential search test: random worlds of Patients, Observations, Encounters
 * and Conditions are written to SQLite and PostgreSQL, random queries are parsed
 * once (parseSearch) and run on both stores and on an independent in-memory
 * evaluator (memory-search.ts, fhirpath.js over the registry's expressions), and
 * all three must return the same ids in the same order, the same total and the
 * same "more" flag. See docs/search-differential.md.
 *
 * Reproducible: the seed is fixed (SEARCH_DIFF_SEED overrides it), and fast-check
 * prints the seed, the shrunk query and our explanation on failure.
 * SEARCH_DIFF_WORLDS and SEARCH_DIFF_RUNS scale the run for a longer hunt.
 */

const SEED = Number(process.env.SEARCH_DIFF_SEED ?? 20_250_611);
const WORLDS = Number(process.env.SEARCH_DIFF_WORLDS ?? 3);
const RUNS = Number(process.env.SEARCH_DIFF_RUNS ?? 100);

const AREAS: Array<{ area: Area; runs: number }> = [
  { area: 'strings', runs: RUNS },
  { area: 'tokens', runs: RUNS },
  { area: 'dates', runs: RUNS },
  { area: 'quantities', runs: RUNS },
  { area: 'references', runs: RUNS },
  { area: 'sorting', runs: RUNS },
  { area: 'mixed', runs: RUNS * 2 },
  { area: 'system', runs: RUNS },
];

const withPostgres = await shouldRunPostgres();

const worlds: World[] = Array.from({ length: WORLDS }, (_, i) => fc.sample(worldArbitrary(), { seed: SEED + i, numRuns: 1 })[0]!);

describe(`differential search (seed ${SEED}; SQLite${withPostgres ? ', PostgreSQL' : ''} and the in-memory evaluator)`, () => {
  const clock: Clock = { now: 0 };
  let stores: NamedStore[] = [];

  beforeAll(async () => {
    stores = await openStores(withPostgres, clock);
  });
  afterAll(async () => {
    await closeStores(stores);
  });

  it('parses search dates to the ranges the evaluator gives them', () => {
    fc.assert(
      fc.property(dateTime, (d) => {
        const parsed = parseDateValue('date', d);
        expect({ low: parsed.low, high: parsed.high }).toEqual(dateRangeOf(d));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  worlds.forEach((world, w) => {
    describe(`world ${w} (seed ${SEED + w}: ${world.steps.reduce((n, s) => n + s.writes.length, 0)} writes in ${world.steps.length} transactions)`, () => {
      let memory: MemorySearch;

      beforeAll(async () => {
        memory = memoryOf(await loadWorld(stores, clock, world.steps));
      });

      for (const { area, runs } of AREAS) {
        it(`agrees on ${area}`, async () => {
          await fc.assert(
            fc.asyncProperty(queryArbitrary(world, area), (q) => checkQuery(stores, memory, q)),
            { seed: SEED + w * 1000 + AREAS.findIndex((a) => a.area === area), numRuns: runs },
          );
        });
      }
    });
  });
});
