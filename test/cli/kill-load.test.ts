import Database from 'better-sqlite3';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { shellWord } from '../../src/store/backup.js';
import { searchOnlyIndexes } from '../../src/store/sql/migrations.js';
import { postgresDialect } from '../../src/store/postgres/dialect.js';
import { sqliteDialect } from '../../src/store/sqlite/dialect.js';
import { CLI, ccri, cliEnv } from '../helpers/cli.js';
import { createTestSchema } from '../helpers/postgres.js';
import { storeKinds } from '../helpers/server.js';

/**
 * Issue 15: `kill -9` during `ccri seed` and `ccri import`, on both stores. Each load runs
 * on a terminal (a pseudo-terminal made by util-linux's `script`), so that it draws its
 * progress line: the count it shows is what it has reported loaded. After the kill, every
 * resource it reported is readable and found by search; the store opens without a reindex
 * (a bulk load's dropped search indexes are built again, not the index rows); the next
 * command says that the load was interrupted, not rolled back, and how to finish it; and
 * running the same command again finishes it.
 */

const root = mkdtempSync(join(tmpdir(), 'ccri-kill-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
if (!haveScript) {
  if (process.env.CI === 'true') throw new Error('`script` (util-linux) is missing, and CI=true requires the kill -9 load tests to run');
  console.warn('Skipping the kill -9 load tests: `script` (util-linux, which makes the pseudo-terminal the progress line needs) is not installed');
}

interface Killed {
  /** The highest count the progress line showed before the kill. */
  reported: number;
  output: string;
}

/**
 * Runs `ccri <args>` on a pseudo-terminal and kills it with SIGKILL once its progress
 * line has shown at least `after` resources.
 */
function killDuringLoad(args: string[], env: Record<string, string | undefined>, after: number): Promise<Killed> {
  // The shell prints its process id and becomes ccri (exec): that is the process killed.
  const line = `echo "pid=$$"; exec ${[process.execPath, CLI, ...args].map(shellWord).join(' ')}`;
  const child = spawn('script', ['-qfec', line, '/dev/null'], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let reported = 0;
  let pid: number | undefined;
  let killed = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      if (pid) process.kill(pid, 'SIGKILL');
      reject(new Error(`the load never reported ${after} resources:\n${output}`));
    }, 240_000);
    const read = (chunk: Buffer) => {
      output += String(chunk);
      pid ??= Number(/pid=(\d+)/.exec(output)?.[1]) || undefined;
      for (const m of output.matchAll(/\| ([\d,]+) resources? \|/g)) reported = Math.max(reported, Number(m[1]!.replace(/,/g, '')));
      if (!killed && pid && reported >= after) {
        killed = true;
        process.kill(pid, 'SIGKILL');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('close', () => {
      clearTimeout(timer);
      if (!killed) reject(new Error(`the load ended before it was killed:\n${output}`));
      else resolve({ reported, output });
    });
  });
}

/** The (type, id) keys of an NDJSON file, in order. */
function keysOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const r = JSON.parse(l) as { resourceType: string; id: string };
      return `${r.resourceType}/${r.id}`;
    });
}

/** The names of the search-only indexes the store is missing. */
async function missingIndexes(where: { dataDir?: string; databaseUrl?: string }): Promise<string[]> {
  const wanted = [...searchOnlyIndexes().map((i) => i.name), ...(where.databaseUrl ? postgresDialect : sqliteDialect).textIndex.searchOnly.map((i) => i.name)];
  let have: string[];
  if (where.databaseUrl) {
    const client = new pg.Client({ connectionString: where.databaseUrl });
    await client.connect();
    try {
      have = (await client.query<{ name: string }>(postgresDialect.indexNames)).rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  } else {
    const db = new Database(join(where.dataDir!, 'ccri.sqlite'), { readonly: true, fileMustExist: true });
    try {
      have = (db.prepare(sqliteDialect.indexNames).all() as Array<{ name: string }>).map((r) => r.name);
    } finally {
      db.close();
    }
  }
  return wanted.filter((n) => !have.includes(n));
}

for (const kind of haveScript ? await storeKinds() : []) {
  describe(`kill -9 during a load (${kind})`, () => {
    /** A store of this kind: its options for the commands, and where it is. */
    const store = async (name: string) => {
      if (kind === 'postgres') {
        const schema = await createTestSchema(`ccri_kill_${name}`);
        return { args: ['--database-url', schema.url], where: { databaseUrl: schema.url }, drop: schema.drop };
      }
      const dir = join(root, `${kind}-${name}`);
      return { args: ['--data-dir', dir], where: { dataDir: dir }, drop: async () => undefined };
    };

    /**
     * After the kill: the next command says the load was interrupted and is resumable; it
     * opened the store without a reindex; every resource the load had reported is there
     * and searchable; running it again finishes it, and then nothing is said.
     */
    const check = async (s: Awaited<ReturnType<typeof store>>, command: string[], expected: string[], killed: Killed, ordered: boolean) => {
      expect(killed.reported).toBeGreaterThan(0);
      expect(killed.reported).toBeLessThan(expected.length);

      const exported = ccri(['export', ...s.args], { env: { CCRI_LOG_LEVEL: 'warn' } });
      expect(exported.status, exported.stderr).toBe(0);
      expect(exported.stderr).toContain(`A load into this store did not finish: \`ccri ${command[0]}`);
      expect(exported.stderr).toContain('It was not rolled back: the store holds what it loaded before it stopped');
      expect(exported.stderr).toContain('Run the same command again to finish it');
      expect(exported.stderr).not.toContain('every search index was rebuilt');
      expect(await missingIndexes(s.where)).toEqual([]);

      const stored = new Set(exported.stdout.trim().split('\n').filter(Boolean).map((l) => {
        const r = JSON.parse(l) as { resourceType: string; id: string };
        return `${r.resourceType}/${r.id}`;
      }));
      const present = expected.filter((k) => stored.has(k));
      expect(present.length, `${present.length} resources stored, ${killed.reported} reported`).toBeGreaterThanOrEqual(killed.reported);
      // Batches written one after another: the first `reported` resources are the ones reported.
      if (ordered) expect(expected.slice(0, killed.reported).filter((k) => !stored.has(k))).toEqual([]);

      // Each Patient loaded is found by its identifier (the search indexes agree with the resources).
      const server = await createServer(loadConfig({ demoData: false, audit: false, ...(s.where.dataDir ? { dataDir: s.where.dataDir } : { dataDir: join(root, 'unused'), databaseUrl: s.where.databaseUrl! }) }, {}), { logger: false });
      try {
        const patients = present.filter((k) => k.startsWith('Patient/'));
        expect(patients.length).toBeGreaterThan(0);
        for (const key of patients) {
          const read = await server.app.inject({ method: 'GET', url: `/STU3/${key}` });
          expect(read.statusCode).toBe(200);
          const identifier = (JSON.parse(read.body) as { identifier: Array<{ system: string; value: string }> }).identifier[0]!;
          const found = await server.app.inject({ method: 'GET', url: `/STU3/Patient?identifier=${encodeURIComponent(`${identifier.system}|${identifier.value}`)}&_elements=id` });
          expect((JSON.parse(found.body) as { entry?: Array<{ resource: { id: string } }> }).entry?.map((e) => e.resource.id)).toContain(key.slice('Patient/'.length));
        }
      } finally {
        await server.close();
      }

      const again = ccri([...command, ...s.args]);
      expect(again.status, again.stderr).toBe(0);
      expect(again.stderr).toContain('did not finish');
      const after = ccri(['export', ...s.args]);
      expect(after.stderr).not.toContain('did not finish');
      const all = new Set(after.stdout.trim().split('\n').map((l) => {
        const r = JSON.parse(l) as { resourceType: string; id: string };
        return `${r.resourceType}/${r.id}`;
      }));
      expect(expected.filter((k) => !all.has(k))).toEqual([]);
    };

    it('`ccri seed` (a bulk load, search indexes dropped while it runs)', async () => {
      const s = await store('seed');
      try {
        const population = join(root, `${kind}-population.ndjson`);
        expect(ccri(['seed', '--patients', '1000', '--seed', '5', '--output', population]).status).toBe(0);
        const command = ['seed', '--patients', '1000', '--seed', '5'];
        const killed = await killDuringLoad([...command, ...s.args], {}, 2000);
        // SQLite's single writer writes the batches in order; PostgreSQL writes several at once.
        await check(s, command, keysOf(population), killed, kind === 'sqlite');
      } finally {
        await s.drop();
      }
    }, 600_000);

    it('`ccri import` of NDJSON', async () => {
      const s = await store('import');
      try {
        const input = join(root, `${kind}-input.ndjson`);
        expect(ccri(['seed', '--patients', '120', '--seed', '6', '--output', input]).status).toBe(0);
        const command = ['import', '--batch-size', '100', input];
        // --create: the first import makes the SQLite store.
        const killed = await killDuringLoad([...command, '--create', ...s.args], {}, 1000);
        await check(s, command, keysOf(input), killed, true);
      } finally {
        await s.drop();
      }
    }, 600_000);
  });
}
