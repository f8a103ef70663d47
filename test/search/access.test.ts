import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from '../../src/search/access.js';
import { searchRegistry } from '../../src/search/registry.js';
import { shouldRunPostgres } from '../helpers/postgres.js';
import { type Clock, closeStores, loadWorld, memoryOf, type NamedStore, openStores, planOf } from './harness.js';
import type { MemoryResource, MemorySearch } from './memory-search.js';
import { type Area, queryArbitrary, queryText } from './queries.js';
import { TYPES, type World, worldArbitrary } from './world.js';

/**
 * Access narrowed to patient compartments, tested as the differential search test
 * tests search (docs/search-differential.md): random worlds are written to SQLite and
 * PostgreSQL, random searches (chains, `_has`, sorting, paging, system level) run under
 * access confined to the compartments of one or two patients, and the stores must
 * return what the independent in-memory evaluator returns over only the resources in
 * those compartments: the same ids in the same order, the same totals. Independently
 * of the evaluator, every resource a store returns must lie in one of the compartments.
 *
 * Reproducible: ACCESS_SEED overrides the seed; fast-check prints it on failure.
 */

const SEED = Number(process.env.ACCESS_SEED ?? 20_261_205);
const RUNS = Number(process.env.ACCESS_RUNS ?? 60);
const AREAS: Area[] = ['references', 'mixed', 'sorting', 'system', 'tokens'];

const withPostgres = await shouldRunPostgres();
const registry = searchRegistry();

/** Whether a resource lies in the compartment of one of `patients` (the STU3 Patient CompartmentDefinition), decided from its JSON alone. */
function inCompartments(r: MemoryResource, patients: string[], refs: (r: MemoryResource, param: string) => string[]): boolean {
  if (r.type === 'Patient' && patients.includes(r.id)) return true;
  return registry.compartmentParams(r.type).some((p) => refs(r, p).some((ref) => patients.some((id) => ref === `Patient/${id}`)));
}

describe(`searches under access confined to patient compartments (seed ${SEED}; SQLite${withPostgres ? ', PostgreSQL' : ''} and the in-memory evaluator)`, () => {
  const clock: Clock = { now: 0 };
  let stores: NamedStore[] = [];
  beforeAll(async () => {
    stores = await openStores(withPostgres, clock);
  });
  afterAll(async () => {
    await closeStores(stores);
  });

  const worlds: World[] = [0, 1].map((i) => fc.sample(worldArbitrary(), { seed: SEED + i, numRuns: 1 })[0]!);
  worlds.forEach((world, w) => {
    describe(`world ${w}`, () => {
      let everyone: MemoryResource[];
      let full: MemorySearch;
      beforeAll(async () => {
        everyone = await loadWorld(stores, clock, world.steps);
        full = memoryOf(everyone);
      });

      for (const area of AREAS) {
        it(`returns only what lies in the compartments, and all of it (${area})`, async () => {
          const patients = fc.uniqueArray(fc.constantFrom(...world.ids.Patient), { minLength: 1, maxLength: 2 });
          await fc.assert(
            fc.asyncProperty(queryArbitrary(world, area), patients, async (q, ids) => {
              const refs = (r: MemoryResource, param: string) => (full.describe(`${r.type}/${r.id}`, param) as { references?: Array<{ type?: string; id?: string }> }).references?.map((x) => `${x.type}/${x.id}`) ?? [];
              const visible = everyone.filter((r) => inCompartments(r, ids, refs));
              const expected = memoryOf(visible).search(planOf(q));
              const access: Access = { default: 'compartment', patients: ids };
              for (const s of stores) {
                const page = await s.store.reader(access).search(planOf(q));
                const got = page.rows.map((r) => `${r.type}/${r.id}`);
                const outside = got.filter((key) => !visible.some((r) => `${r.type}/${r.id}` === key));
                const where = `${s.name}, patients ${ids.join(',')}: ${queryText(q)}`;
                expect(outside, `${where}: returned resources outside the compartments`).toEqual([]);
                expect(got, `${where}: ids`).toEqual(expected.ids);
                expect(page.total, `${where}: total`).toBe(expected.total);
                expect(page.more, `${where}: more`).toBe(expected.more);
              }
            }),
            { seed: SEED + w * 100 + AREAS.indexOf(area), numRuns: RUNS },
          );
        });
      }

      it('reads by id, vread and history see only the compartments', async () => {
        const ids = [world.ids.Patient[0]!];
        const access: Access = { default: 'compartment', patients: ids };
        const refs = (r: MemoryResource, param: string) => (full.describe(`${r.type}/${r.id}`, param) as { references?: Array<{ type?: string; id?: string }> }).references?.map((x) => `${x.type}/${x.id}`) ?? [];
        const visible = new Set(everyone.filter((r) => inCompartments(r, ids, refs)).map((r) => `${r.type}/${r.id}`));
        for (const s of stores) {
          const reader = s.store.reader(access);
          for (const r of everyone) {
            const key = `${r.type}/${r.id}`;
            expect(Boolean(await reader.read(r.type, r.id)), `${s.name} read ${key}`).toBe(visible.has(key));
            expect(Boolean(await reader.vread(r.type, r.id, 1)), `${s.name} vread ${key}`).toBe(visible.has(key));
          }
          for (const type of TYPES) {
            const history = await reader.history({ type, count: 1000 });
            for (const v of history.versions) {
              // A version is shown when its resource is, or was at its deletion, in the compartment.
              if (!v.deleted && everyone.some((r) => r.type === v.type && r.id === v.id)) expect(visible.has(`${v.type}/${v.id}`), `${s.name} history ${v.type}/${v.id}`).toBe(true);
            }
            expect(history.total).toBe(history.versions.length);
            const shown = new Set(history.versions.map((v) => `${v.type}/${v.id}`));
            for (const key of visible) if (key.startsWith(`${type}/`)) expect(shown.has(key), `${s.name} history lacks ${key}`).toBe(true);
          }
        }
      });
    });
  });
});
