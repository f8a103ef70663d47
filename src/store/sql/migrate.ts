import type { SqlDriver } from './driver.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { stepDdl } from './schema.js';

/**
 * Runs the migrations a store lacks, in one transaction (all or none), and records the
 * version reached. The caller holds the store's lock (SqlDriver.withLock). Returns the
 * versions applied. Refuses a store whose schema is newer than this release knows.
 */
export async function migrate(driver: SqlDriver): Promise<number[]> {
  return driver.transaction(async (conn) => {
    // store_meta holds the version, so it exists before the version is read (its DDL is migration 1's own).
    for (const statement of stepDdl(MIGRATIONS[0]!.steps[0]!, driver.dialect)) await conn.run(statement);
    const row = await conn.get<{ value: string }>("SELECT value FROM store_meta WHERE key = 'schema_version'");
    const current = row ? Number(row.value) : 0;
    if (!Number.isInteger(current) || current > SCHEMA_VERSION) {
      throw new Error(`This store's schema is version ${row?.value}, which this release of ccri does not know (it knows up to ${SCHEMA_VERSION}): run the release that wrote it, or a newer one`);
    }
    const pending = MIGRATIONS.filter((m) => m.version > current);
    for (const m of pending) for (const step of m.steps) for (const statement of stepDdl(step, driver.dialect)) await conn.run(statement);
    if (pending.length) {
      await conn.run("INSERT INTO store_meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(SCHEMA_VERSION)]);
    }
    return pending.map((m) => m.version);
  }, { unbounded: true });
}
