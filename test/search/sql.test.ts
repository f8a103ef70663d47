import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Access, EVERYTHING } from '../../src/search/access.js';
import { compileSearch } from '../../src/search/compile/compile.js';
import { parseSearch } from '../../src/search/parse/query.js';
import { searchRegistry } from '../../src/search/registry.js';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import { postgresDialect } from '../../src/store/postgres/dialect.js';
import type { SqlDialect } from '../../src/store/sql/schema.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import type { StoreAdmin } from '../../src/store/store.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';

/**
 * The SQL a few representative searches compile to, per dialect (as Kysely's tests
 * assert each dialect's SQL), and then the same searches run on each store. Both
 * dialects write the same SQL but for the full-text index; access confined to
 * compartments drives a search when nothing narrower does.
 */

const SELECT = 'SELECT r.rid, r.type, r.id, r.version, v.last_updated, v.method, v.json FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version';
const TAIL = 'ORDER BY r.rid LIMIT ? OFFSET ?';
/** Parameter ids as a fixed function of type and code, so the SQL does not depend on a database. */
const pids = (types: string[], code: string) => types.map((_, i) => 100 + i + code.length);

interface Case {
  name: string;
  type: string;
  query: string;
  access?: Access;
  /** The WHERE clause per dialect (the same for both when one string). */
  where: string | Record<SqlDialect['name'], string>;
  params: Record<SqlDialect['name'], unknown[]>;
  /** What the search finds in the data below. */
  finds: string[];
}

const CASES: Case[] = [
  {
    name: 'a token with its system drives through the (pid, code) index',
    type: 'Patient',
    query: 'identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210',
    where: 'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ? AND system = ?)',
    params: { sqlite: ['Patient', 110, '9876543210', 'https://fhir.nhs.uk/Id/nhs-number', 11, 0], postgres: ['Patient', 110, '9876543210', 'https://fhir.nhs.uk/Id/nhs-number', 11, 0] },
    finds: ['Patient/a'],
  },
  {
    name: 'a string prefix drives; a date probes the candidates',
    type: 'Patient',
    query: 'family=kan&birthdate=ge1970',
    where:
      'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_string WHERE pid = ? AND substr(norm, 1, 100) >= ? AND substr(norm, 1, 100) < ?) ' +
      'AND EXISTS (SELECT 1 FROM idx_date WHERE rid = r.rid AND pid = ? AND (high > ? OR (low >= ? AND high <= ?)))',
    params: { sqlite: ['Patient', 106, 'kan', 'kao', 109, 31535999999, 0, 31535999999, 11, 0], postgres: ['Patient', 106, 'kan', 'kao', 109, 31535999999, 0, 31535999999, 11, 0] },
    finds: ['Patient/a', 'Patient/b'],
  },
  {
    name: 'a chain tests the target in an inner query',
    type: 'Observation',
    query: 'subject:Patient.gender=male',
    where:
      'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid = ? AND (target_type, target_id) IN ' +
      '(SELECT r1.type, r1.id FROM resource r1 WHERE r1.type = ? AND r1.deleted = 0 AND r1.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ?)))',
    params: { sqlite: ['Observation', 107, 'Patient', 106, 'male', 11, 0], postgres: ['Observation', 107, 'Patient', 106, 'male', 11, 0] },
    finds: ['Observation/o2'],
  },
  {
    name: '_text: the one difference, the full-text index',
    type: 'Condition',
    query: '_text=asthma',
    where: {
      sqlite: 'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rowid AS rid FROM idx_text_narrative WHERE idx_text_narrative MATCH ?)',
      postgres: "r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_text WHERE narrative @@ to_tsquery('simple', ?))",
    },
    params: { sqlite: ['Condition', '"asthma"*', 11, 0], postgres: ['Condition', 'asthma:*', 11, 0] },
    finds: ['Condition/c1'],
  },
  {
    name: 'access confined to a compartment drives; the token probes',
    type: 'Observation',
    query: 'code=1234',
    access: { default: 'compartment', patients: ['a'] },
    where: 'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM compartment WHERE patient = ?) AND EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid AND pid = ? AND code = ?)',
    params: { sqlite: ['Observation', 'a', 104, '1234', 11, 0], postgres: ['Observation', 'a', 104, '1234', 11, 0] },
    finds: ['Observation/o1'],
  },
  {
    name: 'access narrows a chain’s inner query too',
    type: 'Observation',
    query: 'subject:Patient.gender=male',
    // Observations are all visible, patients only c: o2's subject (b, male) is not, so the chain cannot see it.
    access: { default: 'compartment', types: { Observation: 'all' }, patients: ['c'] },
    where:
      'r.type = ? AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid = ? AND (target_type, target_id) IN ' +
      '(SELECT r1.type, r1.id FROM resource r1 WHERE r1.type = ? AND r1.deleted = 0 AND r1.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ?) ' +
      "AND (EXISTS (SELECT 1 FROM compartment WHERE rid = r1.rid AND patient = ?) OR (r1.type = 'Patient' AND r1.id = ?))))",
    params: { sqlite: ['Observation', 107, 'Patient', 106, 'male', 'c', 'c', 11, 0], postgres: ['Observation', 107, 'Patient', 106, 'male', 'c', 'c', 11, 0] },
    finds: [],
  },
];

const registry = searchRegistry();
const planOf = (c: Case) => parseSearch([c.type], [...new URLSearchParams(c.query)], registry, { defaultCount: 10, maxCount: 100, strict: true, baseUrl: 'http://x/STU3' }).plan;

describe('the SQL of representative searches, per dialect', () => {
  for (const dialect of [sqliteDialect, postgresDialect]) {
    for (const c of CASES) {
      it(`${dialect.name}: ${c.name}`, () => {
        const compiled = compileSearch(planOf(c), c.access ?? EVERYTHING, pids, dialect);
        const where = typeof c.where === 'string' ? c.where : c.where[dialect.name];
        // SQLite's time-limit guard is left out here; its places are checked below.
        expect(compiled.page.text.replace(GUARD, '')).toBe(`${SELECT} WHERE ${where} ${TAIL}`);
        expect(compiled.page.params).toEqual(c.params[dialect.name]);
      });
    }
  }
});

const GUARD = / AND \([\w.]+ % 64 <> 0 OR ccri_live\(\) = 1\)/g;

describe("SQLite's time-limit guard (issue 15, H1)", () => {
  const sqlOf = (query: string, dialect: SqlDialect) => compileSearch(planOf({ name: '', type: 'Observation', query } as Case), EVERYTHING, pids, dialect).page.text;

  it('is asked of every candidate row, and in every subquery that builds candidates, on SQLite only', () => {
    const text = sqlOf('code=http://loinc.org|1,http://loinc.org|2&subject:Patient.name=x&_has:Provenance:target:agent=Practitioner/1', sqliteDialect);
    // The top query; the two ORed code ranges; the chain's inner query and the name range in it; _has's join and the agent range in it.
    expect(text.match(GUARD)).toHaveLength(7);
    expect(text).toContain(' AND (r.rid % 64 <> 0 OR ccri_live() = 1) ORDER BY');
    expect(sqlOf('code=http://loinc.org|1', postgresDialect)).not.toContain('ccri_live');
  });

  it('sorts by a parameter through the (rid, pid) index, never a scan of the parameter per row', () => {
    expect(sqlOf('_sort=code', sqliteDialect)).toContain('WHERE rid = r.rid AND +pid = ?');
    expect(sqlOf('_sort=code', postgresDialect)).toContain('WHERE rid = r.rid AND pid = ?');
  });
});

const stores: Array<[string, () => Promise<{ store: StoreAdmin; cleanup: () => Promise<void> }>]> = [
  ['SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-sql-'));
    return { store: await openStore({ ...defaultStoreOptions(), dataDir: dir }), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }],
];
if (await shouldRunPostgres()) {
  stores.push(['PostgreSQL', async () => {
    const schema = await createTestSchema('ccri_sql');
    return { store: await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url }), cleanup: schema.drop };
  }]);
}

for (const [name, open] of stores) {
  describe(`the same searches, run (${name})`, () => {
    let store: StoreAdmin;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await open());
      const text = (div: string) => ({ status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${div}</div>` });
      await store.transaction(EVERYTHING, async (tx) => {
        await tx.write({ type: 'Patient', id: 'a', resource: { resourceType: 'Patient', name: [{ family: 'Kanfeld' }], gender: 'female', birthDate: '1972-01-01', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }] } });
        await tx.write({ type: 'Patient', id: 'b', resource: { resourceType: 'Patient', name: [{ family: 'Kane' }], gender: 'male', birthDate: '1980-01-01' } });
        await tx.write({ type: 'Patient', id: 'c', resource: { resourceType: 'Patient', name: [{ family: 'Jones' }], gender: 'male', birthDate: '1960-01-01' } });
        await tx.write({ type: 'Observation', id: 'o1', resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ code: '1234' }] }, subject: { reference: 'Patient/a' } } });
        await tx.write({ type: 'Observation', id: 'o2', resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ code: '1234' }] }, subject: { reference: 'Patient/b' } } });
        await tx.write({ type: 'Condition', id: 'c1', resource: { resourceType: 'Condition', text: text('Asthma since childhood'), code: { text: 'Asthma' }, subject: { reference: 'Patient/a' } } });
      });
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });
    for (const c of CASES) {
      it(c.name, async () => {
        const page = await store.reader(c.access ?? EVERYTHING).search(planOf(c));
        expect(page.rows.map((r) => `${r.type}/${r.id}`)).toEqual(c.finds);
      });
    }
  });
}
