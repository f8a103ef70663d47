import { describe, expect, it } from 'vitest';
import type { SearchPlan } from '../search/plan.js';
import { searchRegistry } from '../search/registry.js';
import type { SearchPage, StoreReader, StoredVersion } from '../store/store.js';
import { MAX_CONSIDERED, MAX_INCLUDED, resolveIncludes } from './includes.js';

/**
 * Issue 15, "queries cannot run away": the include queries of one page read at most
 * MAX_CONSIDERED rows in all, and a page whose includes were cut short says so.
 */

const patient: StoredVersion = { type: 'Patient', id: 'p', version: 1, lastUpdated: '2024-01-01T00:00:00.000Z', deleted: false, json: '{"resourceType":"Patient","id":"p"}', method: 'PUT' };

/** A store in which every query has more rows than it may read: each answers as many as it asks for, and says there are more. */
function endlessReader(rowsPerQuery = Infinity): StoreReader & { asked: number; rowsRead: number } {
  let n = 0;
  const reader = {
    asked: 0,
    rowsRead: 0,
    search: async (plan: SearchPlan): Promise<SearchPage> => {
      reader.asked++;
      const count = Math.min(plan.count, rowsPerQuery);
      const type = plan.types![0]!;
      const rows = Array.from({ length: count }, () => ({ ...patient, type, id: `${type}-${n++}`, json: `{"resourceType":"${type}"}` }));
      reader.rowsRead += rows.length;
      return { rows, more: rowsPerQuery > plan.count };
    },
    read: async () => undefined,
    vread: async () => undefined,
    history: async () => ({ rows: [], more: false }),
  };
  return reader as unknown as StoreReader & { asked: number; rowsRead: number };
}

describe('the work of _include and _revinclude', () => {
  const registry = searchRegistry();

  it('reads at most MAX_CONSIDERED rows for _revinclude=*, and says the includes were cut', async () => {
    const reader = endlessReader(600);
    const { included, cut } = await resolveIncludes(reader, registry, [patient], [], [{ sourceType: '*', param: '*', iterate: false, wildcard: true }], 'http://x/STU3');
    // docs/limits.md: 5,000 rows a page.
    expect(MAX_CONSIDERED).toBe(5000);
    expect(reader.rowsRead).toBeLessThanOrEqual(5000);
    // Without the budget every type that can refer to a Patient would be asked.
    const referring = registry.types().filter((t) => registry.params(t).some((p) => p.type === 'reference' && p.expression && (!p.targets || p.targets.includes('Patient'))));
    expect(referring.length).toBeGreaterThan(20);
    expect(reader.asked).toBeLessThanOrEqual(Math.ceil(5000 / 600));
    expect(included.length).toBeLessThanOrEqual(MAX_INCLUDED);
    expect(cut).toMatch(/cut at 1000|stopped after reading 5000 rows/);
  });

  it('says so when one query found more than MAX_INCLUDED', async () => {
    const reader = endlessReader();
    const { included, cut } = await resolveIncludes(reader, registry, [patient], [], [{ sourceType: 'Observation', param: 'subject', iterate: false }], 'http://x/STU3');
    expect(included).toHaveLength(MAX_INCLUDED);
    expect(cut).toMatch(/cut at 1000/);
  });

  it('says nothing when every included resource was found', async () => {
    const reader = endlessReader(3);
    const { included, cut } = await resolveIncludes(reader, registry, [patient], [], [{ sourceType: 'Observation', param: 'subject', iterate: false }], 'http://x/STU3');
    expect(included).toHaveLength(3);
    expect(cut).toBeUndefined();
  });
});
