import pg from 'pg';

/**
 * PostgreSQL for tests: PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=test unless set.
 * Each suite gets its own schema, dropped afterwards. When PostgreSQL is unreachable
 * the suites skip with a message on a developer's machine and fail under CI=true.
 */
export function baseUrl(): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const host = process.env.PGHOST ?? '127.0.0.1';
  const user = process.env.PGUSER ?? 'postgres';
  const db = process.env.PGDATABASE ?? 'test';
  const port = process.env.PGPORT ?? '5432';
  return `postgres://${user}@${host}:${port}/${db}`;
}

let reachable: Promise<boolean> | undefined;

export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: baseUrl(), connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/** Whether PostgreSQL suites run; logs why not. Under CI=true an unreachable server is an error. */
export async function shouldRunPostgres(): Promise<boolean> {
  if (await postgresReachable()) return true;
  if (process.env.CI === 'true') throw new Error(`PostgreSQL is unreachable at ${baseUrl()}, and CI=true requires the PostgreSQL suites to run`);
  console.warn(`Skipping PostgreSQL tests: no server at ${baseUrl()} (set PGHOST/PGUSER/PGDATABASE or TEST_DATABASE_URL)`);
  return false;
}

/** A fresh schema and a connection URL whose search_path points at it. */
export async function createTestSchema(prefix = 'ccri_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: baseUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sep = baseUrl().includes('?') ? '&' : '?';
  const url = `${baseUrl()}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl() });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}
