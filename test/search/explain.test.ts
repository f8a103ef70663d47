import { EVERYTHING } from '../../src/search/access.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSearch } from '../../src/search/parse/query.js';
import { searchRegistry } from '../../src/search/registry.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * The query plans of the main search shapes use the indexes: no full scan of an index
 * table, and no full scan of `resource` where a parameter narrows the search. A chain's or
 * `_has`'s inner search runs first, as a search of its own (its shapes are here too:
 * `Patient?family=…`, `Observation?code=…`); the plans are of the search its list goes into.
 */
const SHAPES: Array<[string, string]> = [
  ['Patient', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210'],
  ['Patient', 'identifier=9876543210'],
  ['Patient', 'family=kanfeld&birthdate=1998-03-19'],
  ['Patient', 'name=bern'],
  ['Patient', 'family:exact=Kanfeld'],
  ['Patient', 'gender=male&_id=bk'],
  ['Observation', 'patient=bk&category=vital-signs&_count=50'],
  ['Observation', 'subject=Patient/bk&_sort=-date'],
  ['Observation', 'code=http://snomed.info/sct|75367002&date=ge2020-01-01'],
  ['Observation', 'subject:Patient.family=kanfeld'],
  ['Observation', 'component-code-value-quantity=72313002$gt140'],
  ['Observation', 'value-quantity=gt100|http://unitsofmeasure.org|mm[Hg]'],
  // An external reference is found through the partial index on the URLs kept.
  ['Observation', 'subject=http://elsewhere.org/fhir/Patient/1'],
  ['Encounter', 'patient=bk&date=ge2020'],
  ['Patient', '_has:Observation:patient:code=75367002'],
  ['Condition', '_content=diabetes'],
];

/**
 * Sorted pages at a position (as a `next` link gives it): the order's index gives the rows in
 * order from the position, so a deep page reads what the first does, and nothing is sorted
 * but the page's own rows (when their JSON is joined).
 */
const early = { after: 10, afterKeys: [Date.parse('2020-01-05')] };
const late = { after: 10, afterKeys: [Date.parse('2021-11-25')] };
/** Positions with most rows still beyond them, as on a deep page of a large result (each key ascending, or descending). */
const SORTED: Array<[string, string, { after: number; afterKeys: Array<string | number | null>; backward?: boolean }]> = [
  ['Observation', '_sort=_lastUpdated&_count=50', { after: 10, afterKeys: [0] }],
  ['Observation', '_sort=-_lastUpdated&_count=50', { after: 10, afterKeys: [Date.parse('2100-01-01')] }],
  ['Observation', '_sort=_id&_count=50', { after: 10, afterKeys: ['o-10'] }],
  ['Observation', '_sort=date&_count=50', early],
  ['Observation', '_sort=-date&_count=50', late],
  ['AuditEvent', '_sort=-date&_count=50', late],
  // Backwards (a `previous` link): the same indexes, read the other way.
  ['Observation', '_sort=-_lastUpdated&_count=50', { after: 10, afterKeys: [0], backward: true }],
  ['Observation', '_sort=date&_count=50', { ...late, backward: true }],
];

/** The database's plan of the page query of `type?query`, as one text. */
async function planOf(store: SqlStore, type: string, query: string, options: { forceIndexes?: boolean } = {}): Promise<string> {
  const parsed = parseSearch([type], [...new URLSearchParams(query)], searchRegistry(), { defaultCount: 10, maxCount: 100, strict: true, now: Date.parse('2026-01-01') });
  return (await store.explain(parsed.plan, EVERYTHING, options)).join('\n');
}

const stores: Array<[string, () => Promise<{ store: SqlStore; cleanup: () => Promise<void> }>]> = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ccri-explain-'));
      return { store: await openStore({ ...defaultStoreOptions(), dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];
if (await shouldRunPostgres()) {
  stores.push([
    'PostgreSQL',
    async () => {
      const schema = await createTestSchema();
      return { store: await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url }), cleanup: schema.drop };
    },
  ]);
}

for (const [name, open] of stores) {
  describe(`query plans (${name})`, () => {
    let store: SqlStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
      // What the chain's and _has's inner searches find (run before the search): their lists then hold two values each.
      await store.transaction(EVERYTHING, async (tx) => {
        for (const id of ['bk', 'bk2']) {
          await tx.write({ type: 'Patient', id, resource: { resourceType: 'Patient', name: [{ family: 'Kanfeld' }] } });
          await tx.write({ type: 'Observation', id: `o-${id}`, resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '75367002' }] }, subject: { reference: `Patient/${id}` } } });
        }
      });
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it.each(SHAPES)('%s?%s uses the indexes', async (type, query) => {
      const text = await planOf(store, type, query, { forceIndexes: true });
      if (name === 'SQLite') {
        // FTS5 reports a full-text lookup as "SCAN idx_text_content VIRTUAL TABLE INDEX 0:M…": that is its index.
        expect(text, text).not.toMatch(/\bSCAN (idx_\w+|compartment)\b(?! USING| VIRTUAL TABLE INDEX \d+:M)/);
        expect(text, text).not.toMatch(/\bSCAN r\b(?! USING)/);
      } else {
        expect(text, text).not.toMatch(/Seq Scan on (idx_\w+|compartment|resource)\b/);
      }
    });

    if (name === 'SQLite') {
      // This store has no planner statistics, as a new store grown by requests has none until PRAGMA optimize.
      it.each([
        ['Observation', 'subject=Patient/bk&_count=10'],
        ['Observation', 'patient=bk&category=vital-signs'],
        ['Patient', 'identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210'],
        ['Patient', 'family=kanfeld&birthdate=1998-03-19'],
      ])('%s?%s reads its candidates by rid, not every resource of the type, without statistics', async (type, query) => {
        const text = await planOf(store, type, query);
        expect(text, text).toMatch(/SEARCH r USING INTEGER PRIMARY KEY \(rowid=\?\)/);
        expect(text, text).not.toMatch(/SEARCH r USING (COVERING )?INDEX resource_type/);
      });

      // A birth date is a day: a few patients of thousands, where a family name's prefix is hundreds.
      // It drives, and its index on low is read between the day's bounds, not from its start to the end.
      it.each([
        ['Patient', 'family=kanfeld&birthdate=1998-03-19'],
        ['Patient', 'gender=male&birthdate=1998-03'],
        ['Observation', 'code=8867-4&date=2020-01-15'],
      ])('%s?%s is driven by the date, a range of the index on low bounded on both sides', async (type, query) => {
        const text = await planOf(store, type, query);
        expect(text, text).toMatch(/LIST SUBQUERY \d+\nSEARCH idx_date USING (COVERING )?INDEX idx_date_low \(pid=\? AND low>\? AND low<\?\)/);
      });
    }
  });

  describe(`query plans of sorted pages (${name})`, () => {
    let store: SqlStore;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
      // Enough rows, with their statistics, that a plan's order is a choice: sorting every row, or reading them in order.
      const day = (i: number) => new Date(Date.parse('2020-01-01') + (i % 700) * 86_400_000).toISOString();
      const ops = [
        ...Array.from({ length: 3000 }, (_, i) => ({ type: 'Observation', id: `o-${i}`, resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, ...(i % 10 ? { effectiveDateTime: day(i) } : {}) } })),
        ...Array.from({ length: 1000 }, (_, i) => ({ type: 'AuditEvent', id: `a-${i}`, resource: { resourceType: 'AuditEvent', type: { code: 'rest' }, recorded: day(i), agent: [{ requestor: true }], source: { identifier: { value: 'x' } } } })),
      ];
      await store.bulk(() => store.transaction(EVERYTHING, (tx) => tx.writeMany(ops)));
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it.each(SORTED)('%s?%s, at %j, reads the rows in order from the index', async (type, query, position) => {
      const parsed = parseSearch([type], [...new URLSearchParams(query)], searchRegistry(), { defaultCount: 10, maxCount: 100, strict: true, now: Date.parse('2026-01-01') });
      const plan = await store.explain({ ...parsed.plan, ...position }, EVERYTHING, { forceIndexes: true });
      const text = plan.join('\n');
      // The inner query, which finds the page's rows, sorts none of the rows beyond the position: it
      // reads them in order from an index, sorting at most the ties of its key (SQLite's "RIGHT PART"
      // or "LAST TERM", PostgreSQL's incremental sort: the rows of one instant, or of one _id). The
      // outer query, which joins their JSON, may sort the page's own rows.
      if (name === 'SQLite') {
        expect(text, text).not.toMatch(/\bSCAN (r|d|idx_\w+)\b(?! USING)/);
        const inner = text.slice(0, text.indexOf('\nSCAN s'));
        expect(inner, text).not.toMatch(/USE TEMP B-TREE FOR ORDER BY/);
        // The other rows of a resource are looked up by (rid, pid), never by a range over the parameter's rows.
        expect(inner, text).not.toMatch(/SEARCH e .*\(pid=\? AND (low|high)[<>]\?\)/);
      } else {
        expect(text, text).not.toMatch(/Seq Scan on (idx_\w+|compartment|resource)\b/);
        const inner = text.slice(text.indexOf('->  Limit'));
        expect(inner, text).not.toMatch(/->\s+Sort  \(/);
      }
    });
  });
}
