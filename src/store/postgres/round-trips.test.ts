import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestSchema, shouldRunPostgres } from '../../../test/helpers/postgres.js';
import { EVERYTHING } from '../../search/access.js';
import { defaultStoreOptions } from '../default-options.js';
import { openStore } from '../open.js';
import type { SqlStore } from '../sql/sql-store.js';

/**
 * The statements a write sends to PostgreSQL, each a round trip: what needs no answer is held
 * back and sent with the next statement (the version, index and compartment rows, the counts, the
 * resource row's update), and the old index rows of every table go in one statement. An update
 * was sixteen round trips, one delete per index table among them.
 */
if (await shouldRunPostgres()) {
  describe('round trips of a write (PostgreSQL)', () => {
    let schema: Awaited<ReturnType<typeof createTestSchema>>;
    let store: SqlStore;
    const patient = (code: string) => ({ resourceType: 'Patient', name: [{ family: code }], identifier: [{ system: 'urn:ccri-test:trips', value: code }] });
    /** What the store's connections send while `fn` runs: BEGIN and COMMIT by name, other statements by their text. */
    async function sent(fn: () => Promise<unknown>): Promise<string[]> {
      const texts: string[] = [];
      const original = pg.Client.prototype.query;
      const spy = vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
        const q = args[0] as string | { text: string };
        texts.push(typeof q === 'string' ? q : q.text);
        return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
      });
      try {
        await fn();
      } finally {
        spy.mockRestore();
      }
      return texts;
    }
    const write = (id: string, resource: Record<string, unknown> | null, more: { ifMatch?: number; newId?: boolean; mustNotExist?: boolean } = {}) =>
      store.transaction(EVERYTHING, (tx) => tx.write({ type: 'Patient', id, resource: resource && { ...resource, id }, ...more }));
    const byIdentifier = async (code: string) =>
      (await store.reader(EVERYTHING).search({ types: ['Patient'], where: [{ kind: 'token', param: 'identifier', values: [{ system: 'urn:ccri-test:trips', code }] }], sort: [], count: 10, offset: 0, total: true })).total;

    beforeAll(async () => {
      schema = await createTestSchema('ccri_trips');
      store = await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url });
    });
    afterAll(async () => {
      await store?.close();
      await schema?.drop();
    });

    it('creates in four: BEGIN, the resource row (its rid comes back), every other row in one statement, COMMIT', async () => {
      const id = randomUUID();
      const texts = await sent(() => write(id, patient('Created'), { newId: true, mustNotExist: true }));
      expect(texts[0]).toBe('BEGIN');
      expect(texts[1]).toMatch(/^INSERT INTO resource .* RETURNING rid/);
      expect(texts[2]).toMatch(/^WITH /);
      expect(texts[2]).toContain('INSERT INTO resource_version');
      expect(texts[3]).toBe('COMMIT');
      expect(texts).toHaveLength(4);
      expect(await byIdentifier('Created')).toBe(1);
    });

    it('updates in five: BEGIN, the current row locked, the old index rows of every table in one statement, the rest in one, COMMIT', async () => {
      await write('updated', patient('Before'));
      const texts = await sent(() => write('updated', patient('After'), { ifMatch: 1 }));
      expect(texts[0]).toBe('BEGIN');
      expect(texts[1]).toContain('FOR UPDATE');
      expect(texts[2]).toMatch(/^WITH d0 AS \(DELETE FROM idx_token WHERE rid = ANY\(\$1::bigint\[\]\)\), /);
      for (const table of ['idx_string', 'idx_date', 'idx_reference', 'idx_composite', 'idx_text', 'compartment']) expect(texts[2]).toContain(`DELETE FROM ${table} `);
      expect(texts[3]).toMatch(/^WITH /);
      expect(texts[3]).toContain('UPDATE resource r SET version');
      expect(texts[3]).toContain('INSERT INTO idx_token');
      expect(texts[4]).toBe('COMMIT');
      expect(texts).toHaveLength(5);
      // The new version is read, and its index rows alone are there: found by the new identifier, by the old one no more.
      expect((await store.reader(EVERYTHING).read('Patient', 'updated'))?.version).toBe(2);
      expect(await byIdentifier('After')).toBe(1);
      expect(await byIdentifier('Before')).toBe(0);
      // Again with the same values: the new rows have the keys of the deleted ones (idx_text's rid), which the delete's own statement must not meet.
      expect((await write('updated', patient('After'), { ifMatch: 2 })).version.version).toBe(3);
      expect(await byIdentifier('After')).toBe(1);
    });

    it('deletes in five, and the deleted resource is found no more', async () => {
      await write('deleted', patient('Deleted'));
      const texts = await sent(() => write('deleted', null));
      expect(texts[0]).toBe('BEGIN');
      expect(texts[2]).toMatch(/^WITH d0 AS \(DELETE FROM idx_token /);
      expect(texts.at(-1)).toBe('COMMIT');
      expect(texts).toHaveLength(5);
      expect((await store.reader(EVERYTHING).read('Patient', 'deleted'))?.deleted).toBe(true);
      expect(await byIdentifier('Deleted')).toBe(0);
    });
  });
}
