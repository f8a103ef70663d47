import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccri } from '../helpers/cli.js';

/**
 * The commands refuse what would otherwise be a silent no-op or a crash: options are checked
 * before any store is opened (or created), and the messages say what to do.
 */

const root = mkdtempSync(join(tmpdir(), 'ccri-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const at = (...parts: string[]) => join(root, ...parts);

/** A store holding two patients and an observation of the first, made with `import --create`. */
const store = at('store');
beforeAll(() => {
  const lines = [
    { resourceType: 'Patient', id: 'p1', gender: 'female' },
    { resourceType: 'Patient', id: 'p2', gender: 'male' },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'pulse' }, subject: { reference: 'Patient/p1' } },
  ];
  writeFileSync(at('three.ndjson'), lines.map((l) => JSON.stringify(l)).join('\n'));
  const r = ccri(['import', '--create', '--data-dir', store, at('three.ndjson')]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^Imported 3 resources from 1 file in [\d.]+ s, [\d,]+ resources\/s; 0 errors\.$/m);
}, 60_000);

describe('ccri export', () => {
  it('a type that STU3 does not have is an error, before any store is opened', () => {
    const r = ccri(['export', '--type', 'Nope', '--data-dir', at('none')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("'Nope' is not an STU3 resource type");
    expect(existsSync(at('none'))).toBe(false);
  });

  it('a patient the store does not hold is an error', () => {
    const r = ccri(['export', '--patient', 'nosuch', '--data-dir', store]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('There is no Patient/nosuch in SQLite file');
    expect(r.stdout).toBe('');
  });

  it('a data directory that holds no store is an error, and no store is created there', () => {
    for (const command of [['export'], ['reindex'], ['import', at('three.ndjson')]]) {
      const r = ccri([...command, '--data-dir', at('typo')]);
      expect(r.status, command[0]).toBe(1);
      expect(r.stderr).toContain(`There is no store in ${at('typo')}`);
      expect(r.stderr).toMatch(/check --data-dir or CCRI_DATA_DIR/);
      expect(existsSync(at('typo')), command[0]).toBe(false);
    }
  });

  it('a patient that exists: the patient and its compartment, with the count in the singular or plural', () => {
    const r = ccri(['export', '--patient', 'p1', '--data-dir', store]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).sort()).toEqual(['o1', 'p1']);
    expect(r.stderr).toMatch(/^Exported 2 resources in /);
    const one = ccri(['export', '--type', 'Observation', '--data-dir', store]);
    expect(one.stderr).toMatch(/^Exported 1 resource in /);
  });

  it('an output file in a folder that does not exist is a clear error', () => {
    const r = ccri(['export', '--data-dir', store, '--output', at('no', 'such', 'x.ndjson')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${at('no', 'such', 'x.ndjson')}: cannot be written (no such directory)`);
  });
});

describe('ccri import', () => {
  it('a path that does not exist is named, with no ENOENT or stat, and nothing is opened', () => {
    const r = ccri(['import', '--data-dir', store, at('missing.ndjson')]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`${at('missing.ndjson')}: no such file or directory`);
    const v = ccri(['validate', at('missing.ndjson')]);
    expect(v.status).toBe(1);
    expect(v.stderr.trim()).toBe(`${at('missing.ndjson')}: no such file or directory`);
  });

  it('one resource is "1 resource", one file "1 file", one error "1 error"', () => {
    writeFileSync(at('one.json'), JSON.stringify({ resourceType: 'Patient', id: 'p3' }));
    writeFileSync(at('bad.ndjson'), '{"resourceType":"Patient","id":"p4"}\nnot json\n');
    const r = ccri(['import', '--data-dir', store, at('one.json')]);
    expect(r.stderr).toMatch(/^Imported 1 resource from 1 file in .*; 0 errors\.$/m);
    const bad = ccri(['import', '--data-dir', store, at('bad.ndjson'), at('one.json')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^Imported 2 resources from 2 files in .*; 1 error\.$/m);
  });
});

describe('ccri seed', () => {
  it('--patients must be a positive whole number, checked before any store is created', () => {
    for (const value of ['-5', '0', '2.5', 'many']) {
      const r = ccri(['seed', '--patients', value, '--data-dir', at('seeded')]);
      expect(r.status, value).toBe(1);
      expect(r.stderr).toContain(`argument '${value}' is invalid. It must be a positive whole number.`);
    }
    expect(existsSync(at('seeded'))).toBe(false);
  });
});

describe('configuration', () => {
  it('--port out of range, or not a number, stops before any store is opened', () => {
    for (const value of ['99999', '-1', 'http']) {
      const r = ccri(['serve', '--port', value, '--data-dir', at('served')]);
      expect(r.status, value).toBe(1);
      expect(r.stderr).toContain(`argument '${value}' is invalid. It must be a whole number from 0 to 65535.`);
    }
    const env = ccri(['serve', '--data-dir', at('served')], { env: { CCRI_PORT: '70000' } });
    expect(env.status).toBe(1);
    expect(env.stderr).toContain("CCRI_PORT must be a whole number from 0 to 65535 (0 for any free port), not '70000'");
    expect(existsSync(at('served'))).toBe(false);
  });

  it('a DATABASE_URL that is not PostgreSQL is refused (never SQLite in ./data instead), without its password', () => {
    const cwd = at('cwd');
    mkdirSync(cwd);
    for (const url of ['mysql://me:s3cret@db.example/ccri', 'postgress://me:s3cret@localhost/ccri', 'localhost:5432/ccri']) {
      for (const run of [() => ccri(['serve'], { cwd, env: { DATABASE_URL: url } }), () => ccri(['export', '--database-url', url], { cwd })]) {
        const r = run();
        expect(r.status, url).toBe(1);
        expect(r.stderr).toContain('must start with postgres:// or postgresql://');
        expect(r.stderr).not.toContain('s3cret');
      }
    }
    expect(readdirSync(cwd)).toEqual([]);
  });
});
