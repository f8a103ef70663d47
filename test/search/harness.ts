import { EVERYTHING } from '../../src/search/access.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSearch } from '../../src/search/parse/query.js';
import { splitUnescaped } from '../../src/search/parse/values.js';
import type { Condition, SearchPlan } from '../../src/search/plan.js';
import { searchRegistry } from '../../src/search/registry.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import type { SearchPage, StoreAdmin as Store, StoreReader } from '../../src/store/store.js';
import { createTestSchema } from '../helpers/postgres.js';
import { MemorySearch, type MemoryPage, type MemoryResource } from './memory-search.js';
import { type Query, queryText } from './queries.js';
import { BASE } from './vocabulary.js';
import type { Obj, WorldStep } from './world.js';

/**
 * Runs the same searches on SQLite, PostgreSQL and the in-memory evaluator, over the
 * same data written at the same instants, and explains any difference.
 */

export interface NamedStore {
  name: 'SQLite' | 'PostgreSQL';
  store: Store;
  cleanup: () => Promise<void>;
}

export interface Clock {
  now: number;
}

export async function openStores(withPostgres: boolean, clock: Clock): Promise<NamedStore[]> {
  const options = defaultStoreOptions(() => clock.now, BASE);
  const dir = mkdtempSync(join(tmpdir(), 'ccri-search-diff-'));
  const stores: NamedStore[] = [
    { name: 'SQLite', store: await openStore({ ...options, dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) },
  ];
  if (withPostgres) {
    const schema = await createTestSchema('ccri_search_diff');
    stores.push({ name: 'PostgreSQL', store: await openStore({ ...options, databaseUrl: schema.url }), cleanup: schema.drop });
  }
  return stores;
}

export async function closeStores(stores: NamedStore[]): Promise<void> {
  for (const s of stores) {
    await s.store.close();
    await s.cleanup();
  }
}

/**
 * Clears the stores and writes the world's timeline into each. Returns the current
 * resources, as the stores serve them, in creation order (the stores' tie-break).
 */
export async function loadWorld(stores: NamedStore[], clock: Clock, steps: WorldStep[]): Promise<MemoryResource[]> {
  for (const s of stores) await s.store.clear();
  const current = new Map<string, MemoryResource | null>();
  const created: string[] = [];
  for (const step of steps) {
    clock.now = step.at;
    const jsons: string[][] = [];
    for (const s of stores) {
      const results = await s.store.transaction(EVERYTHING, async (tx) => {
        const out = [];
        for (const w of step.writes) out.push(await tx.write({ type: w.type, id: w.id, resource: w.resource ? structuredClone(w.resource) : null }));
        return out;
      });
      jsons.push(results.map((r) => `${r.kind} ${r.version.version} ${r.version.json}`));
      if (s === stores[0]) {
        results.forEach((r, i) => {
          const w = step.writes[i]!;
          const key = `${w.type}/${w.id}`;
          if (r.kind === 'noop') return;
          if (!current.has(key)) created.push(key);
          current.set(key, r.version.json === null ? null : { type: w.type, id: w.id, lastUpdated: Date.parse(r.version.lastUpdated), resource: JSON.parse(r.version.json) as Obj });
        });
      }
    }
    for (const j of jsons.slice(1)) if (JSON.stringify(j) !== JSON.stringify(jsons[0])) throw new Error(`The stores wrote different versions at ${new Date(step.at).toISOString()}`);
  }
  return created.map((k) => current.get(k)).filter((r): r is MemoryResource => r !== null && r !== undefined);
}

export function memoryOf(resources: MemoryResource[]): MemorySearch {
  return new MemorySearch(resources, searchRegistry(), { baseUrl: BASE });
}

const SEARCH_OPTIONS = { defaultCount: 1000, maxCount: 1000, strict: true, baseUrl: BASE };

/** The plan the server would run for a query (offset from the page, as a paging cursor would set it). */
export function planOf(q: Query): SearchPlan {
  const parsed = parseSearch(q.types, q.params, searchRegistry(), SEARCH_OPTIONS);
  // As the HTTP layer does for Patient/[id]/[type].
  if (q.compartment) parsed.plan.where.unshift({ kind: 'compartment', patient: q.compartment });
  return { ...parsed.plan, offset: q.page * parsed.plan.count };
}

interface Outcome {
  ids: string[];
  total?: number;
  more: boolean;
}

/**
 * Runs `q` everywhere; on a difference, throws an Error that explains it for the
 * smallest query (fewer parameters, fewer ORed values, the first page) that still
 * differs, and names the original query.
 */
export async function checkQuery(stores: NamedStore[], memory: MemorySearch, q: Query): Promise<void> {
  try {
    await compare(stores, memory, q);
  } catch (err) {
    const small = await minimise(q, async (c) => {
      try {
        planOf(c);
      } catch {
        return false;
      }
      try {
        await compare(stores, memory, c);
        return false;
      } catch {
        return true;
      }
    });
    if (small === q) throw err;
    try {
      await compare(stores, memory, small);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n  (minimised from ${queryText(q)})`, { cause: err });
    }
    throw err;
  }
}

/** Greedily drops parameters and ORed values, and goes to the first page, while `fails` holds. */
export async function minimise(q: Query, fails: (q: Query) => Promise<boolean>): Promise<Query> {
  let cur = q;
  for (let changed = true; changed; ) {
    changed = false;
    const candidates: Query[] = [];
    if (cur.page > 0) candidates.push({ ...cur, page: 0 });
    if (cur.compartment && cur.params.length) {
      const { compartment: _c, ...rest } = cur;
      candidates.push(rest);
    }
    cur.params.forEach((_, i) => {
      if (cur.params.length > 1) candidates.push({ ...cur, params: cur.params.filter((_p, j) => j !== i) });
    });
    cur.params.forEach(([k, v], i) => {
      const values = splitUnescaped(v, ',');
      if (k === '_sort' || values.length < 2) return;
      values.forEach((_, n) => {
        const params = [...cur.params];
        params[i] = [k, values.filter((_v, m) => m !== n).join(',')];
        candidates.push({ ...cur, params });
      });
    });
    const sort = cur.params.findIndex(([k]) => k === '_sort');
    if (sort >= 0 && cur.params[sort]![1].includes(',')) {
      const keys = cur.params[sort]![1].split(',');
      keys.forEach((_, n) => {
        const params = [...cur.params];
        params[sort] = ['_sort', keys.filter((_k, m) => m !== n).join(',')];
        candidates.push({ ...cur, params });
      });
    }
    for (const c of candidates) {
      if (await fails(c)) {
        cur = c;
        changed = true;
        break;
      }
    }
  }
  return cur;
}

async function compare(stores: NamedStore[], memory: MemorySearch, q: Query): Promise<void> {
  const plan = planOf(q);
  let expected: MemoryPage;
  try {
    expected = memory.search(plan);
  } catch (e) {
    throw new Error(`The evaluator failed: ${(e as Error).message}\n  query:    ${queryText(q)}`, { cause: e });
  }
  const actual: Array<[string, Outcome]> = [];
  for (const s of stores) {
    // A page after the first: by offset (a `previous` link) and by keyset, as `next` links reach it.
    const ways: Array<[string, () => Promise<SearchPage>]> = [[s.name, () => s.store.reader(EVERYTHING).search(plan)]];
    if (q.page > 0 && plan.count > 0) ways.push([`${s.name} keyset`, () => keysetPage(s.store.reader(EVERYTHING), plan, q.page)]);
    for (const [name, run] of ways) {
      let page: SearchPage;
      try {
        page = await run();
      } catch (e) {
        throw new Error(`${name} failed: ${(e as Error).message}\n  query:    ${queryText(q)}`, { cause: e });
      }
      actual.push([name, { ids: page.rows.map((r) => `${r.type}/${r.id}`), ...(page.total !== undefined ? { total: page.total } : {}), more: page.more }]);
    }
  }
  const problems: string[] = [];
  for (const [name, got] of actual) {
    if (JSON.stringify(got.ids) !== JSON.stringify(expected.ids)) problems.push(`${name} ids differ`);
    if (plan.total && got.total !== expected.total) problems.push(`${name} total ${got.total} != ${expected.total}`);
    if (!plan.total && got.total !== undefined) problems.push(`${name} counted though _total=none`);
    if (got.more !== expected.more) problems.push(`${name} more=${got.more} != ${expected.more}`);
  }
  if (problems.length) throw new Error(explain(q, plan, expected, actual, problems, memory));
}

/**
 * Page `n` (of `plan.count` rows) of a search as a client following `next` links reaches it:
 * the first page, then each time the rows after the last one's position (keyset paging).
 */
export async function keysetPage(reader: StoreReader, plan: SearchPlan, n: number): Promise<SearchPage> {
  let page = await reader.search({ ...plan, offset: 0 });
  for (let i = 1; i <= n; i++) {
    if (!page.more || page.lastRid === undefined) return { rows: [], more: false, ...(page.total !== undefined ? { total: page.total } : {}) };
    page = await reader.search({ ...plan, offset: i * plan.count, after: page.lastRid, ...(plan.sort.length ? { afterKeys: page.lastKeys! } : {}) });
  }
  return page;
}

function explain(q: Query, plan: SearchPlan, expected: MemoryPage, actual: Array<[string, Outcome]>, problems: string[], memory: MemorySearch): string {
  const lines = [`Search differs: ${problems.join('; ')}`, `  query:    ${queryText(q)}`, `  offset ${plan.offset}, count ${plan.count}`];
  lines.push(`  expected: total ${expected.total}, more ${expected.more}: ${expected.ids.join(' ')}`);
  for (const [name, got] of actual) lines.push(`  ${name.padEnd(17)}: total ${got.total}, more ${got.more}: ${got.ids.join(' ')}`);
  // The resources on which they disagree, with what the evaluator sees for each parameter involved.
  const all = new Set<string>();
  const exp = new Set(expected.ids);
  for (const [, got] of actual) for (const id of got.ids) if (!exp.has(id)) all.add(id);
  for (const id of expected.ids) if (actual.some(([, got]) => !got.ids.includes(id))) all.add(id);
  const params = paramsOf(plan);
  for (const key of [...all].slice(0, 4)) {
    const r = memory.get(key);
    lines.push(`  --- ${key}: ${r ? JSON.stringify(r.resource) : '(not current)'}`);
    if (r) for (const [type, code] of params) if (type === r.type) lines.push(`      ${code}: ${JSON.stringify(memory.describe(key, code))}`);
  }
  if (all.size > 4) lines.push(`  ... and ${all.size - 4} more`);
  return lines.join('\n');
}

/** The (type, parameter) pairs a plan tests or sorts on directly. */
function paramsOf(plan: SearchPlan): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const visit = (c: Condition, types: string[]) => {
    if (c.kind === 'or') c.any.forEach((x) => visit(x, types));
    else if (c.kind === 'has') visit(c.where, [c.type]);
    else if ('param' in c) types.forEach((t) => out.push([t, c.param]));
  };
  plan.where.forEach((c) => visit(c, plan.types));
  plan.sort.forEach((k) => plan.types.forEach((t) => k.param.startsWith('_') || out.push([t, k.param])));
  return out;
}

