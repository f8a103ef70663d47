import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO_LOAD, openContext } from '../../src/context.js';
import { createServer } from '../../src/server.js';
import { CLI, ccri, cliEnv } from '../helpers/cli.js';

/**
 * Issue 15: a `ccri seed` killed midway left a partial population, and nothing said so.
 * The load is now recorded in the store from its start to its end; the next start or
 * command says that it was interrupted and how to finish it or start again.
 */
/** The load record of the store in `file`, read as another process would (undefined before the store exists). */
function loadRecord(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT value FROM store_meta WHERE key = 'load-in-progress'").get() as { value: string } | undefined)?.value;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

describe('an interrupted load', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-interrupted-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'ccri.sqlite');

  const record = () => loadRecord(file);

  it('is recorded while `ccri seed` runs; a kill -9 leaves the record, and the next command says so', async () => {
    const child = spawn(process.execPath, [CLI, 'seed', '--patients', '3000', '--seed', '7', '--data-dir', dir], { env: cliEnv(), stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed as soon as the load has said it started (a load of 3,000 patients takes seconds more).
    for (let i = 0; i < 600 && record() === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await exited;
    expect(JSON.parse(record()!).command).toBe('ccri seed --patients 3000 --seed 7');

    const opened = await openContext(loadConfig({ dataDir: dir, demoData: false }, {}), { logger: { info() {}, warn() {}, error() {}, child() { return this; } } });
    await opened.store.close();
    expect(opened.interrupted).toContain('`ccri seed --patients 3000 --seed 7`');
    expect(opened.interrupted).toContain('ccri seed --reset');

    // A command tells the operator; a load that runs to its end clears the record.
    const again = ccri(['seed', '--patients', '2', '--data-dir', dir]);
    expect(again.status).toBe(0);
    expect(again.stderr).toContain('did not finish');
    expect(record()).toBeUndefined();
    const after = ccri(['seed', '--patients', '1', '--data-dir', dir]);
    expect(after.stderr).not.toContain('did not finish');
  }, 120_000);
});

describe('an interrupted first start', () => {
  it('`ccri serve` killed while it loads the demo data set finishes the load at its next start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-interrupted-demo-'));
    try {
      const file = join(dir, 'ccri.sqlite');
      const loading = () => loadRecord(file);
      const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir], { env: cliEnv(), stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      for (let i = 0; i < 1200 && loading() === undefined; i++) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGKILL');
      await exited;
      expect(JSON.parse(loading()!).command).toBe(DEMO_LOAD);

      const told = ccri(['export', '--type', 'Patient', '--data-dir', dir]);
      expect(told.stderr).toContain('the demo data set, loaded by `ccri serve` at its first start');
      expect(told.stderr).toContain('The next `ccri serve` with the demo data on finishes it');

      // The next start finishes it: every resource of the demo data set is there, and nothing more is said.
      const server = await createServer(loadConfig({ dataDir: dir, demoData: true }, {}), { logger: false });
      await server.close();
      expect(loading()).toBeUndefined();
      const demo = ccri(['seed', '--output', join(dir, 'demo.ndjson')]);
      expect(demo.status).toBe(0);
      const keys = (text: string) => new Set(text.trim().split('\n').map((l) => { const r = JSON.parse(l) as { resourceType: string; id: string }; return `${r.resourceType}/${r.id}`; }));
      const stored = keys(ccri(['export', '--data-dir', dir]).stdout);
      const missing = [...keys(readFileSync(join(dir, 'demo.ndjson'), 'utf8'))].filter((k) => !stored.has(k));
      expect(missing).toEqual([]);
      expect(ccri(['export', '--type', 'Patient', '--data-dir', dir]).stderr).not.toContain('did not finish');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe("the operator's loads", () => {
  it('are not held to the Bundle limits that protect the server from its clients', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-bundle-limits-'));
    try {
      const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [1, 2, 3].map((i) => ({ resource: { resourceType: 'Patient', id: `p${i}` }, request: { method: 'PUT', url: `Patient/p${i}` } })) };
      writeFileSync(join(dir, 'tx.json'), JSON.stringify(bundle));
      const r = ccri(['import', '--create', '--data-dir', join(dir, 'store'), join(dir, 'tx.json')], { env: { CCRI_BUNDLE_MAX_ENTRIES: '2' } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain('Imported 3 resources');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
