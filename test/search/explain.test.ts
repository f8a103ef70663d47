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
      const parsed = parseSearch([type], [...new URLSearchParams(query)], searchRegistry(), { defaultCount: 10, maxCount: 100, strict: true, now: Date.parse('2026-01-01') });
      const plan = await store.explain(parsed.plan, EVERYTHING, { forceIndexes: true });
      const text = plan.join('\n');
      if (name === 'SQLite') {
        // FTS5 reports a full-text lookup as "SCAN idx_text_content VIRTUAL TABLE INDEX 0:M…": that is its index.
        expect(text, text).not.toMatch(/\bSCAN (idx_\w+|compartment)\b(?! USING| VIRTUAL TABLE INDEX \d+:M)/);
        expect(text, text).not.toMatch(/\bSCAN r\b(?! USING)/);
      } else {
        expect(text, text).not.toMatch(/Seq Scan on (idx_\w+|compartment|resource)\b/);
      }
    });
  });
}
