import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Access, EVERYTHING } from '../../src/search/access.js';
import { compileInnerSearch, compileSearch } from '../../src/search/compile/compile.js';
import { limit, typeIn } from '../../src/search/compile/builder.js';
import type { Resolved, Target } from '../../src/search/compile/conditions.js';
import type { Condition, SearchPlan } from '../../src/search/plan.js';
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
const TAIL = 'ORDER BY r.rid LIMIT 11 OFFSET ?';
/** Parameter ids as a fixed function of type and code, so the SQL does not depend on a database. */
const pids = (types: string[], code: string) => types.map((_, i) => 100 + i + code.length);

interface Case {
  name: string;
  type: string;
  query: string;
  access?: Access;
  /** What the inner searches of the plan's chains and `_has` found, in the order of the plan's conditions (run by the store before compiling). */
  inner?: Target[][];
  /** The WHERE clause per dialect (the same for both when one string). */
  where: string | Record<SqlDialect['name'], string>;
  params: Record<SqlDialect['name'], unknown[]>;
  /** What the search finds in the data below. */
  finds: string[];
}

/**
 * Patients a and b as one bound list of ids: what `_has` becomes once its inner search has run, and
 * what `_id=a,b` is (several ids are one list: SQLite plans an IN list of bound values with the
 * (type, id) index's statistics, and prepared such a statement again at every run).
 */
const PATIENTS_A_AND_B: Pick<Case, 'where' | 'params' | 'finds'> = {
  where: {
    sqlite: "r.type = 'Patient' AND r.deleted = 0 AND r.id IN (SELECT value FROM json_each(?))",
    postgres: "r.type = 'Patient' AND r.deleted = 0 AND r.id = ANY(?::text[])",
  },
  params: { sqlite: ['["a","b"]', 0], postgres: ['{"a","b"}', 0] },
  finds: ['Patient/a', 'Patient/b'],
};

const CASES: Case[] = [
  {
    name: 'a token with its system drives through the (pid, code) index',
    type: 'Patient',
    query: 'identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210',
    // SQLite: `+r.type`, the candidates read by rid (compile.ts, drivesByRid), whatever the statistics.
    where: {
      sqlite: "+r.type = 'Patient' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ? AND system = ?)",
      postgres: "r.type = 'Patient' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_token WHERE pid = ? AND code = ? AND system = ?)",
    },
    params: { sqlite: [110, '9876543210', 'https://fhir.nhs.uk/Id/nhs-number', 0], postgres: [110, '9876543210', 'https://fhir.nhs.uk/Id/nhs-number', 0] },
    finds: ['Patient/a'],
  },
  {
    name: 'a string prefix drives; a date probes the candidates',
    type: 'Patient',
    query: 'family=kan&birthdate=ge1970',
    where: Object.fromEntries(
      (['sqlite', 'postgres'] as const).map((d) => [
        d,
        `${d === 'sqlite' ? '+' : ''}r.type = 'Patient' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_string WHERE pid = ? AND substr(norm, 1, 100) >= ? AND substr(norm, 1, 100) < ?) ` +
          'AND EXISTS (SELECT 1 FROM idx_date WHERE rid = r.rid AND pid = ? AND (high > ? OR (low >= ? AND high <= ?)))',
      ]),
    ) as Record<'sqlite' | 'postgres', string>,
    params: { sqlite: [106, 'kan', 'kao', 109, 31535999999, 0, 31535999999, 0], postgres: [106, 'kan', 'kao', 109, 31535999999, 0, 31535999999, 0] },
    finds: ['Patient/a', 'Patient/b'],
  },
  {
    name: 'a chain goes in as the list of what its inner search found',
    type: 'Observation',
    query: 'subject:Patient.gender=male',
    inner: [[{ type: 'Patient', id: 'b' }, { type: 'Patient', id: 'c' }]],
    // The list is one bound value whatever its length: a JSON array on SQLite, an array on PostgreSQL.
    where: {
      sqlite: "r.type = 'Observation' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid = ? AND target_type = ? AND target_id IN (SELECT value FROM json_each(?)))",
      postgres: "r.type = 'Observation' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid = ? AND target_type = ? AND target_id = ANY(?::text[]))",
    },
    params: { sqlite: [107, 'Patient', '["b","c"]', 0], postgres: [107, 'Patient', '{"b","c"}', 0] },
    finds: ['Observation/o2'],
  },
  {
    name: '_has goes in as the ids its inner search’s matches refer to',
    type: 'Patient',
    query: '_has:Observation:patient:code=1234',
    inner: [[{ type: 'Patient', id: 'a' }, { type: 'Patient', id: 'b' }]],
    ...PATIENTS_A_AND_B,
  },
  {
    // As a page's _include targets are read.
    name: '_id with several values goes in as one list',
    type: 'Patient',
    query: '_id=a,b',
    ...PATIENTS_A_AND_B,
  },
  {
    name: '_id with one value',
    type: 'Patient',
    query: '_id=b',
    where: "r.type = 'Patient' AND r.deleted = 0 AND r.id = ?",
    params: { sqlite: ['b', 0], postgres: ['b', 0] },
    finds: ['Patient/b'],
  },
  {
    name: '_text: the one difference, the full-text index',
    type: 'Condition',
    query: '_text=asthma',
    where: {
      sqlite: "r.type = 'Condition' AND r.deleted = 0 AND r.rid IN (SELECT rowid AS rid FROM idx_text_narrative WHERE idx_text_narrative MATCH ?)",
      postgres: "r.type = 'Condition' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_text WHERE narrative @@ to_tsquery('simple', ?))",
    },
    params: { sqlite: ['"asthma"*', 0], postgres: ['asthma:*', 0] },
    finds: ['Condition/c1'],
  },
  {
    name: 'access confined to a compartment drives; the token probes',
    type: 'Observation',
    query: 'code=1234',
    access: { default: 'compartment', patients: ['a'] },
    where: "r.type = 'Observation' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM compartment WHERE patient = ?) AND EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid AND pid = ? AND code = ?)",
    params: { sqlite: ['a', 104, '1234', 0], postgres: ['a', 104, '1234', 0] },
    finds: ['Observation/o1'],
  },
  {
    name: 'access narrows a chain’s inner search too: its list holds only what the caller sees',
    type: 'Observation',
    query: 'subject:Patient.gender=male',
    // Observations are all visible, patients only c: o2's subject (b, male) is not, so the chain cannot see it.
    access: { default: 'compartment', types: { Observation: 'all' }, patients: ['c'] },
    inner: [[{ type: 'Patient', id: 'c' }]],
    where: "r.type = 'Observation' AND r.deleted = 0 AND r.rid IN (SELECT rid FROM idx_reference WHERE pid = ? AND target_type = ? AND target_id = ?)",
    params: { sqlite: [107, 'Patient', 'c', 0], postgres: [107, 'Patient', 'c', 0] },
    finds: [],
  },
];

const registry = searchRegistry();
const planOf = (c: Pick<Case, 'type' | 'query'>) => parseSearch([c.type], [...new URLSearchParams(c.query)], registry, { defaultCount: 10, maxCount: 100, strict: true, baseUrl: 'http://x/STU3' }).plan;
const isInner = (c: Condition): c is Extract<Condition, { kind: 'chain' | 'has' }> => c.kind === 'chain' || c.kind === 'has';
/** The plan's chains and `_has` (top level), each with the given list. */
const resolvedOf = (plan: SearchPlan, inner: Target[][] = []): Resolved => new Map(plan.where.filter(isInner).map((c, i) => [c, inner[i] ?? []]));

describe('the SQL of representative searches, per dialect', () => {
  for (const dialect of [sqliteDialect, postgresDialect]) {
    for (const c of CASES) {
      it(`${dialect.name}: ${c.name}`, () => {
        const plan = planOf(c);
        const compiled = compileSearch(plan, c.access ?? EVERYTHING, pids, dialect, resolvedOf(plan, c.inner));
        const where = typeof c.where === 'string' ? c.where : c.where[dialect.name];
        // SQLite's time-limit guard is left out here; its places are checked below.
        expect(compiled.page.text.replace(GUARD, '')).toBe(`${SELECT} WHERE ${where} ${TAIL}`);
        expect(compiled.page.params).toEqual(c.params[dialect.name]);
      });
    }
  }
});

const GUARD = / AND \([\w.]+ % 64 <> 0 OR ccri_live\(\) = 1\)/g;

describe('the inner search of a chain or _has, per dialect', () => {
  for (const dialect of [sqliteDialect, postgresDialect]) {
    it(`${dialect.name}: is a search of its own, narrowed to what the caller sees (the compartment drives), read to the bound + 1`, () => {
      const chain = planOf({ type: 'Observation', query: 'subject:Patient.gender=male' }).where[0] as Extract<Condition, { kind: 'chain' }>;
      const access: Access = { default: 'compartment', types: { Observation: 'all' }, patients: ['c'] };
      const inner = compileInnerSearch(chain.targetTypes, chain.where, access, pids, dialect, new Map(), 10_001);
      expect(inner.text.replace(GUARD, '')).toBe(
        "SELECT r.rid, r.type, r.id FROM resource r WHERE r.type = 'Patient' AND r.deleted = 0 AND " +
          "(r.rid IN (SELECT rid FROM compartment WHERE patient = ?) OR (r.type = 'Patient' AND r.id = ?)) AND EXISTS (SELECT 1 FROM idx_token WHERE rid = r.rid AND pid = ? AND code = ?) LIMIT 10001",
      );
      expect(inner.params).toEqual(['c', 'c', 106, 'male']);
    });
  }
});

describe("SQLite's time-limit guard (issue 15, H1)", () => {
  const sqlOf = (query: string, dialect: SqlDialect) => {
    const plan = planOf({ type: 'Observation', query });
    return compileSearch(plan, EVERYTHING, pids, dialect, resolvedOf(plan, [[{ type: 'Patient', id: 'a' }], [{ type: 'Observation', id: 'o1' }]])).page.text;
  };

  it('is asked of every candidate row, and in every subquery that builds candidates, on SQLite only', () => {
    const query = 'code=http://loinc.org|1,http://loinc.org|2&subject:Patient.name=x&_has:Provenance:target:agent=Practitioner/1';
    const text = sqlOf(query, sqliteDialect);
    // The top query and the two ORed code ranges; the chain and _has probe their lists.
    expect(text.match(GUARD)).toHaveLength(3);
    expect(text).toContain(' AND (r.rid % 64 <> 0 OR ccri_live() = 1) ORDER BY');
    // Each inner search: its own rows, and the range that drives it (the name; the agent).
    for (const c of planOf({ type: 'Observation', query }).where.filter(isInner)) {
      const types = c.kind === 'chain' ? c.targetTypes : [c.type];
      expect(compileInnerSearch(types, c.where, EVERYTHING, pids, sqliteDialect, new Map(), 10).text.match(GUARD)).toHaveLength(2);
    }
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

describe('a row limit', () => {
  it('is written into the text, so that SQLite does not prepare the statement again at every run (it plans with a bound LIMIT\'s value)', () => {
    expect(limit(21)).toEqual(expect.objectContaining({ text: 'LIMIT 21', params: [] }));
    expect(limit(0).text).toBe('LIMIT 0');
  });

  it.each([1.5, -1, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY])('is refused when it is not a whole number the text can hold (%s)', (n) => {
    expect(() => limit(n)).toThrow(RangeError);
  });
});

describe('resource types in the SQL', () => {
  it('are written into the text, so that SQLite does not prepare the statement again at every run (it plans with a bound type\'s statistics)', () => {
    expect(typeIn(['Patient'])).toEqual(expect.objectContaining({ text: "= 'Patient'", params: [] }));
    expect(typeIn(['Encounter', 'Patient']).text).toBe("IN ('Encounter', 'Patient')");
  });

  it.each([[[]], [["Patient' OR 1=1 --"]], [['Pa tient']], [['']], [['1Patient']], [['Patient', 'x;y']]])('are refused when not names (%j)', (types) => {
    expect(() => typeIn(types)).toThrow(RangeError);
  });
});
