import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer, type Server } from '../../src/server.js';
import { ccri } from '../helpers/cli.js';
import { createTestSchema, shouldRunPostgres } from '../helpers/postgres.js';
import { ccriAsync, serveProcess } from '../helpers/serve-process.js';

/**
 * Issue 15, backups: `ccri backup` takes a consistent copy of a SQLite store while a real
 * `ccri serve` keeps writing, and `ccri restore` puts it back; on PostgreSQL both print the
 * pg_dump and pg_restore commands, which are run here as printed. The restored store is
 * checked as a whole: each resource's current version is the top of its history, the
 * search index finds every Patient by its identifier, every write answered before the
 * backup began is in it, and the audit trail verifies.
 */

const root = mkdtempSync(join(tmpdir(), 'ccri-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const postgres = await shouldRunPostgres();

const SYSTEM = 'urn:ccri-test:backup';
const json = { 'content-type': 'application/fhir+json' };

/** Versions of the Patients the storm wrote, as the server acknowledged them. */
type Acked = Map<string, number>;

/**
 * Writers against a listening server: creates, updates of their own Patients (new
 * versions) and transactions of two creates. Runs until `stop()`; `acked` holds what was
 * answered 2xx.
 */
function storm(address: string, workers = 6): { acked: Acked; count(): number; stop(): Promise<void> } {
  const acked: Acked = new Map();
  const failures: unknown[] = [];
  let stopped = false;
  let n = 0;
  const note = (location: string | null | undefined) => {
    const m = /Patient\/([^/]+)\/_history\/(\d+)/.exec(location ?? '');
    if (!m) throw new Error(`no version in ${location}`);
    acked.set(m[1]!, Math.max(acked.get(m[1]!) ?? 0, Number(m[2])));
    n++;
  };
  const patient = (value: string, id?: string) => ({ resourceType: 'Patient', ...(id ? { id } : {}), identifier: [{ system: SYSTEM, value }], name: [{ family: 'Storm', given: [value] }], gender: 'female' });
  const worker = async (w: number) => {
    const mine: string[] = [];
    for (let i = 0; !stopped; i++) {
      const value = `w${w}-${i}`;
      if (i % 4 === 0 || !mine.length) {
        const res = await fetch(`${address}/STU3/Patient`, { method: 'POST', headers: json, body: JSON.stringify(patient(value)) });
        await res.arrayBuffer();
        expect(res.status).toBe(201);
        note(res.headers.get('location'));
        mine.push(/Patient\/([^/]+)\//.exec(res.headers.get('location')!)![1]!);
      } else if (i % 4 === 3) {
        const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [`${value}a`, `${value}b`].map((v) => ({ resource: patient(v), request: { method: 'POST', url: 'Patient' } })) };
        const res = await fetch(`${address}/STU3`, { method: 'POST', headers: json, body: JSON.stringify(bundle) });
        const body = (await res.json()) as { entry: Array<{ response: { location: string } }> };
        expect(res.status).toBe(200);
        for (const e of body.entry) note(e.response.location);
      } else {
        // A new version of one of this worker's Patients, keeping its identifier.
        const id = mine[i % mine.length]!;
        const res = await fetch(`${address}/STU3/Patient/${id}`);
        const current = (await res.json()) as Record<string, unknown>;
        const put = await fetch(`${address}/STU3/Patient/${id}`, { method: 'PUT', headers: json, body: JSON.stringify({ ...current, birthDate: `19${10 + (i % 80)}-01-01` }) });
        await put.arrayBuffer();
        expect(put.status).toBe(200);
        note(put.headers.get('location') ?? `Patient/${id}/_history/${/W\/"(\d+)"/.exec(put.headers.get('etag') ?? '')?.[1]}`);
      }
    }
  };
  const running = Promise.all(
    Array.from({ length: workers }, (_, w) =>
      worker(w).catch((err: unknown) => {
        failures.push(err);
        stopped = true;
      }),
    ),
  );
  return {
    acked,
    count: () => {
      if (failures.length) throw failures[0];
      return n;
    },
    /** Stops the writers; throws the first failure of any. */
    stop: async () => {
      stopped = true;
      await running;
      if (failures.length) throw failures[0];
    },
  };
}

async function until(what: () => boolean, label: string): Promise<void> {
  for (let waited = 0; !what(); waited += 20) {
    if (waited > 120_000) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A server on the restored store, driven in process. */
async function open(overrides: { dataDir?: string; databaseUrl?: string }): Promise<Server> {
  return createServer(loadConfig({ demoData: false, baseUrl: 'http://restored.test/STU3', dataDir: overrides.dataDir ?? join(root, 'unused'), ...overrides }, {}), { logger: false });
}

async function get(server: Server, path: string): Promise<{ status: number; json: any }> {
  const res = await server.app.inject({ method: 'GET', url: path });
  return { status: res.statusCode, json: res.body ? JSON.parse(res.body) : undefined };
}

/**
 * The restored store is whole: every Patient's current version is the top of its history,
 * with every version below it; each is found by its identifier; and every write the storm
 * had been answered before the backup began is there (at that version or a later one).
 */
async function expectConsistent(server: Server, before: Acked): Promise<number> {
  const patients: Array<{ id: string; version: number; identifier?: { system?: string; value?: string } }> = [];
  for (let path: string | undefined = '/STU3/Patient?_count=100'; path; ) {
    const page = await get(server, path);
    expect(page.status).toBe(200);
    for (const e of page.json.entry ?? []) patients.push({ id: e.resource.id, version: Number(e.resource.meta.versionId), identifier: e.resource.identifier?.[0] });
    const next = (page.json.link as Array<{ relation: string; url: string }>).find((l) => l.relation === 'next')?.url;
    path = next ? new URL(next).pathname + new URL(next).search : undefined;
  }
  const count = await get(server, '/STU3/Patient?_summary=count');
  expect(count.json.total).toBe(patients.length);
  for (const p of patients) {
    const read = await get(server, `/STU3/Patient/${p.id}`);
    expect(read.status).toBe(200);
    expect(Number(read.json.meta.versionId)).toBe(p.version);
    const history = await get(server, `/STU3/Patient/${p.id}/_history?_count=100`);
    expect(history.json.entry.map((e: any) => Number(e.resource.meta.versionId))).toEqual(Array.from({ length: p.version }, (_, i) => p.version - i));
    expect(history.json.entry[0].resource).toEqual(read.json);
    expect(p.identifier?.value, `Patient/${p.id} has an identifier`).toBeTruthy();
    const found = await get(server, `/STU3/Patient?identifier=${encodeURIComponent(`${p.identifier!.system}|${p.identifier!.value}`)}`);
    expect(found.json.entry.map((e: any) => e.resource.id)).toContain(p.id);
  }
  const restored = new Map(patients.map((p) => [p.id, p.version]));
  const lost = [...before].filter(([id, version]) => (restored.get(id) ?? 0) < version);
  expect(lost, `${lost.length} of ${before.size} Patients written before the backup began are missing or older`).toEqual([]);
  return patients.length;
}

/** Every resource of the SQLite file: its current version is its newest, and it has every version below. */
function expectHistoriesWhole(file: string): void {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const broken = db
      .prepare('SELECT r.type, r.id, r.version, (SELECT max(version) FROM resource_version v WHERE v.rid = r.rid) AS newest, (SELECT count(*) FROM resource_version v WHERE v.rid = r.rid) AS n FROM resource r')
      .all()
      .filter((r: any) => r.version !== r.newest || r.n !== r.version);
    expect(broken).toEqual([]);
  } finally {
    db.close();
  }
}

describe('ccri backup and ccri restore (SQLite)', () => {
  it('a backup taken during a storm of writes against `ccri serve` restores to a consistent store that verifies', async () => {
    const live = join(root, 'live');
    const seeded = ccri(['seed', '--patients', '20', '--data-dir', live]);
    expect(seeded.status, seeded.stderr).toBe(0);
    const server = await serveProcess(['--data-dir', live]);
    const writes = storm(server.address);
    const backupFile = join(root, 'during-storm.ccri-backup');
    let before: Acked;
    try {
      await until(() => writes.count() >= 150, 'the storm to write');
      before = new Map(writes.acked);
      const atStart = writes.count();
      const backup = await ccriAsync(['backup', backupFile, '--data-dir', live]);
      expect(backup.status, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/^Backed up SQLite file .* to .*during-storm\.ccri-backup: \d+ resources/);
      // The storm went on while the backup was taken.
      await until(() => writes.count() >= atStart + 50, 'more writes after the backup');
      await writes.stop();
    } finally {
      await writes.stop().catch(() => undefined);
      await server.stop();
    }
    // A single self-contained file: not in WAL mode, no log beside it.
    expect(readFileSync(backupFile).subarray(18, 20)).toEqual(Buffer.from([1, 1]));
    expect(existsSync(`${backupFile}-wal`)).toBe(false);
    // Health records: readable by their owner only.
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);

    const fresh = join(root, 'fresh');
    const restored = ccri(['restore', backupFile, '--data-dir', fresh]);
    expect(restored.status, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`Restored ${backupFile} into SQLite file ${join(fresh, 'ccri.sqlite')}`);
    expectHistoriesWhole(join(fresh, 'ccri.sqlite'));
    const verify = ccri(['audit', 'verify', '--data-dir', fresh]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^ok /m);

    const opened = await open({ dataDir: fresh });
    try {
      const n = await expectConsistent(opened, before);
      expect(n).toBeGreaterThan(before.size);
    } finally {
      await opened.close();
    }
  }, 300_000);

  it('refuses to restore over a store a running server holds, and says what to do', async () => {
    const held = join(root, 'held');
    const server = await serveProcess(['--data-dir', held]);
    try {
      const put = await fetch(`${server.address}/STU3/Patient/kept`, { method: 'PUT', headers: json, body: JSON.stringify({ resourceType: 'Patient', id: 'kept' }) });
      expect(put.status).toBe(201);
      const backupFile = join(root, 'held.ccri-backup');
      expect((await ccriAsync(['backup', backupFile, '--data-dir', held])).status).toBe(0);
      for (const force of [[], ['--force']]) {
        const r = await ccriAsync(['restore', backupFile, '--data-dir', held, ...force]);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`The store ${join(held, 'ccri.sqlite')} is open in another process`);
        expect(r.stderr).toContain('Stop it first');
      }
      // The server goes on with its store.
      expect((await fetch(`${server.address}/STU3/Patient/kept`)).status).toBe(200);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 120_000);

  it('refuses a file that is not a whole ccri store, and leaves no store behind', () => {
    const good = join(root, 'good');
    expect(ccri(['seed', '--patients', '2', '--data-dir', good]).status).toBe(0);
    const backupFile = join(root, 'good.ccri-backup');
    expect(ccri(['backup', backupFile, '--data-dir', good]).status).toBe(0);

    const text = join(root, 'notes.txt');
    writeFileSync(text, 'not a database at all, but long enough to be read as a file header by SQLite: '.repeat(20));
    const other = join(root, 'other.sqlite');
    const db = new Database(other);
    db.exec('CREATE TABLE t (x)');
    db.close();
    const cut = join(root, 'cut.ccri-backup');
    copyFileSync(backupFile, cut);
    truncateSync(cut, Math.floor(statSync(cut).size / 2));
    const newer = join(root, 'newer.ccri-backup');
    copyFileSync(backupFile, newer);
    const n = new Database(newer);
    n.prepare("UPDATE store_meta SET value = '999' WHERE key = 'schema_version'").run();
    n.close();

    const cases: Array<[string, RegExp]> = [
      [text, /notes\.txt is not a SQLite database, so not a ccri store/],
      [other, /other\.sqlite is a SQLite database but not a ccri store \(it has no store_meta table\)/],
      [cut, /cut\.ccri-backup is (damaged|a damaged SQLite database)/],
      [newer, /newer\.ccri-backup was written by a newer release of ccri \(schema version 999/],
      [join(root, 'missing.ccri-backup'), /missing\.ccri-backup: no such file/],
    ];
    for (const [file, message] of cases) {
      const target = join(root, `target-${cases.findIndex((c) => c[0] === file)}`);
      const r = ccri(['restore', file, '--data-dir', target]);
      expect(r.status, file).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(target, 'ccri.sqlite')), file).toBe(false);
      expect(existsSync(join(target, 'ccri.sqlite.restoring')), file).toBe(false);
    }
  }, 120_000);

  it('replaces a store that is there only with --force, and never overwrites a backup unasked', () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    expect(ccri(['seed', '--patients', '1', '--data-dir', a]).status).toBe(0);
    expect(ccri(['seed', '--patients', '3', '--seed', '9', '--data-dir', b]).status).toBe(0);
    const backupFile = join(root, 'a.ccri-backup');
    expect(ccri(['backup', backupFile, '--data-dir', a]).status).toBe(0);

    const again = ccri(['backup', backupFile, '--data-dir', b]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('exists already: name another file, or give --force to replace it');
    const none = ccri(['backup', join(root, 'x.ccri-backup'), '--data-dir', join(root, 'no-store-here')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('There is no store in');

    const count = (dir: string) => ccri(['export', '--data-dir', dir]).stdout.trim().split('\n').length;
    const inB = count(b);
    const refused = ccri(['restore', backupFile, '--data-dir', b]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('A restore replaces it, losing everything written to it since the backup: give --force');
    expect(count(b)).toBe(inB);
    const forced = ccri(['restore', backupFile, '--data-dir', b, '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    expect(count(b)).toBe(count(a));
    expect(ccri(['audit', 'verify', '--data-dir', b]).status).toBe(0);
  }, 120_000);
});

const pgDump = spawnSync('pg_dump', ['--version'], { encoding: 'utf8' }).status === 0;
if (postgres && !pgDump) {
  if (process.env.CI === 'true') throw new Error('pg_dump is missing, and CI=true requires the PostgreSQL backup test to run');
  console.warn('Skipping the PostgreSQL backup test: pg_dump is not installed (Debian: postgresql-client)');
}

describe.runIf(postgres && pgDump)('ccri backup and ccri restore (PostgreSQL)', () => {
  it('print the pg_dump and pg_restore commands for the store, which back it up during a storm and restore it consistent', async () => {
    const schema = await createTestSchema('ccri_backup');
    const file = join(root, 'pg.dump');
    try {
      const server = await serveProcess(['--database-url', schema.url]);
      const writes = storm(server.address);
      let before: Acked;
      let commands: { dump: string; restore: string };
      try {
        const advice = await ccriAsync(['backup', file, '--database-url', schema.url]);
        expect(advice.status).toBe(1);
        const name = /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(schema.url))![1]!;
        expect(advice.stderr).toContain(`This store is the schema ${name} of the database`);
        const dump = /^ {2}(pg_dump .*)$/m.exec(advice.stderr)?.[1];
        const restore = /^ {2}(pg_restore .*)$/m.exec(advice.stderr)?.[1];
        expect(dump).toContain(`--schema=${name}`);
        expect(restore).toBeDefined();
        const restoreAdvice = await ccriAsync(['restore', file, '--database-url', schema.url]);
        expect(restoreAdvice.status).toBe(1);
        expect(restoreAdvice.stderr).toContain(restore!);
        commands = { dump: dump!, restore: restore! };

        await until(() => writes.count() >= 150, 'the storm to write');
        before = new Map(writes.acked);
        const atStart = writes.count();
        const dumped = await shell(commands.dump);
        expect(dumped.status, dumped.stderr).toBe(0);
        await until(() => writes.count() >= atStart + 50, 'more writes after the backup');
        await writes.stop();
      } finally {
        await writes.stop().catch(() => undefined);
        await server.stop();
      }
      // The store is lost, then restored with the command printed.
      await schema.drop();
      const restored = await shell(commands.restore);
      expect(restored.status, restored.stderr).toBe(0);
      const verify = ccri(['audit', 'verify', '--database-url', schema.url]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
      const opened = await open({ databaseUrl: schema.url });
      try {
        expect(await expectConsistent(opened, before)).toBeGreaterThanOrEqual(before.size);
      } finally {
        await opened.close();
      }
    } finally {
      await schema.drop();
    }
  }, 300_000);
});

/** Runs a command line as printed, through a POSIX shell, without blocking this thread. */
async function shell(line: string): Promise<{ status: number | null; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn('sh', ['-c', line], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stderr })));
}
