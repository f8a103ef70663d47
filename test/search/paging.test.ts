import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVERYTHING } from '../../src/search/access.js';
import { parseSearch } from '../../src/search/parse/query.js';
import type { SearchPlan } from '../../src/search/plan.js';
import { searchRegistry } from '../../src/search/registry.js';
import type { SearchPage, StoreReader } from '../../src/store/store.js';
import { shouldRunPostgres } from '../helpers/postgres.js';
import { type Clock, closeStores, loadWorld, memoryOf, type NamedStore, openStores } from './harness.js';
import type { MemorySearch } from './memory-search.js';
import { BASE } from './vocabulary.js';
import { START, type World, worldArbitrary } from './world.js';

/**
 * Keyset paging of sorted searches (issue 16): walking a search page by page through each
 * page's position (its last row's sort key values and rid, as `next` links carry it) gives
 * exactly the order of one big page and of the in-memory evaluator, on every kind of sort
 * key, ascending and descending, with ties and resources without a value, and so does the
 * walk back from the last page (each page the rows before the next one's first row, as
 * `previous` links carry it); and rows written between pages neither repeat a row nor make
 * the walk skip one that was there before.
 */

const SEED = Number(process.env.SEARCH_DIFF_SEED ?? 20_250_611);
const withPostgres = await shouldRunPostgres();
const registry = searchRegistry();

const plan = (types: string[], query: string, count = 1000): SearchPlan =>
  parseSearch(types, [...new URLSearchParams(`${query}&_count=${count}`)], registry, { defaultCount: 1000, maxCount: 1000, strict: true, baseUrl: BASE }).plan;

/** Every page of `p`, each continuing after the previous one's last row; `between` runs before each page after the first. */
async function walk(reader: () => StoreReader, p: SearchPlan, between?: () => Promise<void>): Promise<{ ids: string[]; pages: SearchPage[] }> {
  const pages: SearchPage[] = [];
  let page = await reader().search(p);
  pages.push(page);
  while (page.more) {
    expect(page.lastRid).toBeDefined();
    if (p.sort.length) expect(page.lastKeys).toHaveLength(p.sort.length);
    await between?.();
    page = await reader().search({ ...p, offset: pages.length * p.count, after: page.lastRid!, ...(p.sort.length ? { afterKeys: page.lastKeys! } : {}) });
    pages.push(page);
    if (pages.length > 10_000) throw new Error('the walk does not end');
  }
  return { ids: pages.flatMap((pg) => pg.rows.map((r) => `${r.type}/${r.id}`)), pages };
}

/** From `last` (a walk's last page) back to the first row, each page the rows before the previous one's first row, as `previous` links read them. */
async function walkBack(reader: () => StoreReader, p: SearchPlan, last: SearchPage, between?: () => Promise<void>): Promise<string[]> {
  const ids = last.rows.map((r) => `${r.type}/${r.id}`);
  let page = last;
  while (page.firstRid !== undefined) {
    await between?.();
    page = await reader().search({ ...p, after: page.firstRid, ...(p.sort.length ? { afterKeys: page.firstKeys! } : {}), backward: true });
    ids.unshift(...page.rows.map((r) => `${r.type}/${r.id}`));
    if (!page.more) break;
    // A page backwards with rows before it is whole.
    expect(page.rows).toHaveLength(p.count);
    if (ids.length > 100_000) throw new Error('the walk does not end');
  }
  return ids;
}

/** Sorts on every kind of key, both ways, several keys, keys most resources lack, with conditions and across types. */
const SORTED: Array<[string[], string]> = [
  [['Observation'], '_sort=date'],
  [['Observation'], '_sort=-date'],
  [['Observation'], '_sort=value-date'],
  [['Observation'], '_sort=-value-date'],
  [['Observation'], '_sort=code'],
  [['Observation'], '_sort=-status'],
  [['Observation'], '_sort=value-quantity'],
  [['Observation'], '_sort=-value-quantity'],
  [['Observation'], '_sort=value-string'],
  [['Observation'], '_sort=subject'],
  [['Observation'], '_sort=combo-code,-value-date'],
  [['Observation'], '_sort=status,-date,_id'],
  [['Observation'], '_sort=_lastUpdated'],
  [['Observation'], '_sort=-_lastUpdated'],
  [['Observation'], '_sort=-_lastUpdated,code'],
  [['Observation'], '_sort=_id'],
  [['Observation'], '_sort=-_id'],
  [['Observation'], 'status=final,amended&_sort=-date'],
  [['Observation'], 'code:missing=false&_sort=date'],
  [['Observation'], 'date=ge2020&_sort=-date'],
  [['Patient'], 'birthdate=lt2000&_sort=birthdate'],
  [['Encounter'], '_sort=location-period'],
  [['Patient'], '_sort=family'],
  [['Patient'], '_sort=-given'],
  [['Patient'], '_sort=birthdate'],
  [['Patient'], '_sort=-birthdate'],
  [['Patient'], '_sort=gender,-family'],
  [['Patient'], '_sort=active,_lastUpdated'],
  [['Patient'], '_sort=death-date'],
  [['Patient'], '_sort=-death-date'],
  [['Patient'], '_sort=telecom'],
  [['Encounter'], '_sort=length'],
  [['Encounter'], '_sort=-length'],
  [['Encounter'], '_sort=date'],
  [['Encounter'], '_sort=-location-period'],
  [['Encounter'], '_sort=class,_id'],
  [['Condition'], '_sort=onset-date'],
  [['Condition'], '_sort=-abatement-date'],
  [['Condition'], '_sort=onset-age,-_lastUpdated'],
  [['Condition'], '_sort=clinical-status,-onset-date'],
  [['Patient', 'Observation'], '_sort=_lastUpdated'],
  [['Patient', 'Observation', 'Encounter'], '_sort=-_id'],
  [['Observation', 'Condition'], '_sort=code,-_lastUpdated'],
  [['Observation'], ''],
];

describe(`keyset paging of sorted searches (seed ${SEED}; SQLite${withPostgres ? ', PostgreSQL' : ''} and the in-memory evaluator)`, () => {
  const clock: Clock = { now: 0 };
  let stores: NamedStore[] = [];
  let memory: MemorySearch;
  const world: World = fc.sample(worldArbitrary(), { seed: SEED, numRuns: 1 })[0]!;

  beforeAll(async () => {
    stores = await openStores(withPostgres, clock);
    memory = memoryOf(await loadWorld(stores, clock, world.steps));
  });
  afterAll(async () => {
    await closeStores(stores);
  });

  it.each(SORTED)('%s?%s: page by page, the order of one big page and of the evaluator', async (types, query) => {
    const expected = memory.search(plan(types, query));
    // The world has ties and missing values for the walk to cross.
    expect(expected.ids.length).toBeGreaterThan(10);
    for (const s of stores) {
      const reader = () => s.store.reader(EVERYTHING);
      const whole = await reader().search(plan(types, query));
      expect(whole.rows.map((r) => `${r.type}/${r.id}`), `${s.name}: one page`).toEqual(expected.ids);
      for (const count of [1, 3, 7]) {
        const { ids, pages } = await walk(reader, plan(types, query, count));
        expect(ids, `${s.name}: pages of ${count}`).toEqual(expected.ids);
        expect(await walkBack(reader, plan(types, query, count), pages[pages.length - 1]!), `${s.name}: pages of ${count}, backwards`).toEqual(expected.ids);
        expect(pages.length).toBe(Math.max(1, Math.ceil(expected.ids.length / count)));
        // Every page counts all the matches, not what is left after its position.
        for (const pg of pages) expect(pg.total).toBe(expected.total);
      }
    }
  });

  it('has ties and resources without a value for the walks to cross', () => {
    for (const [type, code] of [['Observation', 'date'], ['Observation', 'value-quantity'], ['Patient', 'family'], ['Encounter', 'length']] as const) {
      // What the evaluator extracted for each resource ({ kind, dates: […] }, { kind, tokens: { codes: […] } } …): none when every list is empty.
      const lists = (x: unknown): unknown[][] => (Array.isArray(x) ? [x] : x && typeof x === 'object' ? Object.values(x).flatMap(lists) : []);
      const values = memory.search(plan([type], `_sort=${code}`)).ids.map((id) => lists(memory.describe(id, code)));
      const valued = values.filter((v) => v.some((l) => l.length)).map((v) => JSON.stringify(v));
      expect(valued.length, `${type}.${code}: some without a value`).toBeLessThan(values.length);
      expect(new Set(valued).size, `${type}.${code}: ties`).toBeLessThan(valued.length);
    }
  });

  it('finds nothing after the last row, and nothing before the first', async () => {
    for (const s of stores) {
      const p = plan(['Observation'], '_sort=-date', 1000);
      const all = await s.store.reader(EVERYTHING).search(p);
      const after = await s.store.reader(EVERYTHING).search({ ...p, after: all.lastRid!, afterKeys: all.lastKeys! });
      expect(after.rows).toEqual([]);
      expect(after.more).toBe(false);
      const before = await s.store.reader(EVERYTHING).search({ ...p, after: all.firstRid!, afterKeys: all.firstKeys!, backward: true });
      expect(before.rows).toEqual([]);
      expect(before.more).toBe(false);
    }
  });
});

/** A small deterministic generator, so the writes between pages are the same on every store. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}

/** Dates from a short list (many ties), or none (1 in 5). */
const DATES = ['2020-01-01', '2020-01-01T10:00:00Z', '2021-06-15', '2019', '2020-01-01T10:00:00Z', '2022-03-04T05:06:07Z'];
function observation(id: string, next: () => number): Record<string, unknown> {
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]!;
  const date = next() < 0.2 ? undefined : pick(DATES);
  return {
    resourceType: 'Observation',
    id,
    status: pick(['final', 'amended', 'preliminary']),
    code: { coding: [{ system: 'http://loinc.org', code: pick(['1-1', '2-2', '3-3']) }] },
    ...(date ? { effectiveDateTime: date } : {}),
    ...(next() < 0.7 ? { valueQuantity: { value: pick([1, 2.5, 2.5, 10]), unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } } : {}),
  };
}

describe(`keyset paging while rows are written between pages (SQLite${withPostgres ? ', PostgreSQL' : ''})`, () => {
  const clock: Clock = { now: START };
  let stores: NamedStore[] = [];
  beforeAll(async () => {
    stores = await openStores(withPostgres, clock);
  });
  afterAll(async () => {
    await closeStores(stores);
  });

  it('walks a date sort past resources that hold their key twice, each once', async () => {
    for (const s of stores) {
      await s.store.clear();
      const period = (start: string, end: string) => ({ location: { reference: 'Location/l1' }, period: { start, end } });
      const encounters = [
        ['e1', [period('2020-01-01', '2020-01-05'), period('2020-01-01', '2020-01-05')]],
        ['e2', [period('2019-01-01', '2020-02-01'), period('2019-01-01', '2020-02-01'), period('2021-01-01', '2021-01-02')]],
        ['e3', [period('2020-01-01', '2020-01-05')]],
        ['e4', []],
        ['e5', [period('2020-01-01', '2020-01-05'), period('2020-01-01', '2020-01-05')]],
      ] as const;
      await s.store.transaction(EVERYTHING, async (tx) => {
        for (const [id, location] of encounters) await tx.write({ type: 'Encounter', id, resource: { resourceType: 'Encounter', id, status: 'finished', location } });
      });
      for (const [query, expected] of [
        ['_sort=location-period', ['e2', 'e1', 'e3', 'e5', 'e4']],
        ['_sort=-location-period', ['e2', 'e1', 'e3', 'e5', 'e4']],
      ] as const) {
        const whole = await s.store.reader(EVERYTHING).search(plan(['Encounter'], query));
        expect(whole.rows.map((r) => r.id), `${s.name}: ${query}`).toEqual(expected);
        const { ids } = await walk(() => s.store.reader(EVERYTHING), plan(['Encounter'], query, 1));
        expect(ids, `${s.name}: ${query}, one a page`).toEqual(expected.map((id) => `Encounter/${id}`));
      }
    }
  });

  const SORTS = ['_sort=-date', '_sort=date', '_sort=-_lastUpdated', '_sort=_lastUpdated', '_sort=status,-date', '_sort=-value-quantity,code', '_sort=_id', ''];

  it.each(SORTS)('Observation?%s: no row repeats, and every row there before the first page is found, in its order', async (query) => {
    for (const s of stores) {
      await s.store.clear();
      const next = random(SEED);
      const write = async (ids: string[]) => {
        // Several rows per instant: ties on _lastUpdated too.
        clock.now += next() < 0.5 ? 0 : 1000;
        await s.store.transaction(EVERYTHING, async (tx) => {
          for (const id of ids) await tx.write({ type: 'Observation', id, resource: observation(id, next) });
        });
      };
      for (let i = 0; i < 40; i += 4) await write([0, 1, 2, 3].map((j) => `o${i + j}`));
      const p = plan(['Observation'], query, 4);
      const before = (await s.store.reader(EVERYTHING).search({ ...p, count: 1000 })).rows.map((r) => `${r.type}/${r.id}`);
      expect(before).toHaveLength(40);
      let n = 0;
      // Three new rows between pages: before the position, after it, or tied with it.
      const between = async () => {
        n += 3;
        await write([`new${n}`, `new${n + 1}`, `new${n + 2}`]);
      };
      const { ids, pages } = await walk(() => s.store.reader(EVERYTHING), p, between);
      expect(n).toBeGreaterThan(20);
      expect(new Set(ids).size, `${s.name}: a row repeated`).toBe(ids.length);
      const old = new Set(before);
      expect(ids.filter((id) => old.has(id)), `${s.name}: the rows that were there before`).toEqual(before);
      // And back from the last page, with rows still being written.
      const back = await walkBack(() => s.store.reader(EVERYTHING), p, pages[pages.length - 1]!, between);
      expect(new Set(back).size, `${s.name}: a row repeated going back`).toBe(back.length);
      expect(back.filter((id) => old.has(id)), `${s.name}: the rows that were there before, going back`).toEqual(before);
    }
  });
});
