import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSchema, shouldRunPostgres } from '../../../test/helpers/postgres.js';
import { EVERYTHING } from '../../search/access.js';
import { defaultStoreOptions } from '../default-options.js';
import { openStore } from '../open.js';
import type { SqlStore } from '../sql/sql-store.js';
import { fixed } from '../sql/driver.js';
import { HELPERS_MAX, PostgresDriver } from './driver.js';

/**
 * The statements marked fixed (a read by id, the audit chain's) and the bulk helpers' are
 * kept prepared on each connection, so PostgreSQL plans them once per connection instead
 * of at each request; every other statement (a search's) is planned each time it is sent.
 */
if (await shouldRunPostgres()) {
  describe('prepared statements (PostgreSQL)', () => {
    let schema: Awaited<ReturnType<typeof createTestSchema>>;
    let store: SqlStore;
    /** The statements prepared on a connection: its one pooled connection's, through a second driver of one connection. */
    let one: PostgresDriver;
    const preparedOn = async (driver: PostgresDriver) => (await driver.reader.all<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements')).filter((p) => p.name.startsWith('ccri_'));

    beforeAll(async () => {
      schema = await createTestSchema('ccri_prepared');
      store = await openStore({ ...defaultStoreOptions(), databaseUrl: schema.url });
      await store.transaction(EVERYTHING, async (tx) => {
        await tx.write({ type: 'Patient', id: 'p1', resource: { resourceType: 'Patient', name: [{ family: 'Kanfeld' }] } });
      });
      one = new PostgresDriver(schema.url, 1);
    });
    afterAll(async () => {
      await one?.close();
      await store?.close();
      await schema?.drop();
    });

    it('keeps a read by id prepared, and plans a search each time', async () => {
      const read = fixed('SELECT r.id FROM resource r WHERE r.type = ? AND r.id = ?');
      for (let i = 0; i < 3; i++) expect(await one.reader.get(read, ['Patient', 'p1'])).toEqual({ id: 'p1' });
      expect(await one.reader.get('SELECT r.id FROM resource r WHERE r.type = ? AND r.id <> ?', ['Patient', 'x'])).toEqual({ id: 'p1' });
      const prepared = await preparedOn(one);
      expect(prepared.map((p) => p.statement)).toEqual(['SELECT r.id FROM resource r WHERE r.type = $1 AND r.id = $2']);
    });

    it("prepares the store's own reads by id and its writes' statements", async () => {
      // Through the store: the pool's connections each prepare what they run; a read by id and a write's lookups are among them.
      expect((await store.reader(EVERYTHING).read('Patient', 'p1'))?.id).toBe('p1');
      const statements = (await store.reader(EVERYTHING).search({ types: ['Patient'], where: [], sort: [], count: 10, offset: 0, total: false })).rows.map((r) => r.id);
      expect(statements).toEqual(['p1']);
      const driver = (store as unknown as { driver: PostgresDriver }).driver;
      const texts = [...(driver as unknown as { prepared: Map<string, string> }).prepared.keys()];
      expect(texts.some((t) => t.includes('WHERE r.type = $1 AND r.id = $2'))).toBe(true);
      expect(texts.some((t) => t.startsWith('SELECT r.rid, r.type, r.id, r.version, r.deleted FROM resource r JOIN unnest'))).toBe(true);
      // A search's SQL is never named.
      expect(texts.some((t) => t.includes('ORDER BY r.rid LIMIT'))).toBe(false);
    });

    it("names no more than HELPERS_MAX of the write helpers' texts, and every fixed one however many came before", async () => {
      const driver = new PostgresDriver(schema.url, 1);
      try {
        // Inserts into tables of HELPERS_MAX + 6 different names: as many texts of the write helpers'.
        const tables = Array.from({ length: HELPERS_MAX + 6 }, (_, i) => `t${i}`);
        for (const t of tables) await driver.reader.run(`CREATE TABLE ${t} (rid bigint)`, []);
        await driver.transaction(async (conn) => {
          for (const t of tables) {
            await conn.insertMany(t, ['rid'], [1, 2]);
            // A transaction's insert is sent with its next statement.
            await conn.get('SELECT 1 AS one', []);
          }
        });
        expect((await preparedOn(driver)).filter((p) => p.statement.startsWith('INSERT INTO t')).length).toBe(HELPERS_MAX);
        const read = fixed('SELECT count(*)::int AS n FROM t0 WHERE rid > ?');
        expect(await driver.reader.get(read, [0])).toEqual({ n: 2 });
        expect((await preparedOn(driver)).map((p) => p.statement)).toContain('SELECT count(*)::int AS n FROM t0 WHERE rid > $1');
      } finally {
        await driver.close();
      }
    });
  });
} else {
  describe('prepared statements (PostgreSQL)', () => {
    it('is skipped: PostgreSQL is unreachable (see the warning above)', () => undefined);
  });
}
