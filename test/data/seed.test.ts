import pino from 'pino';
import { EVERYTHING } from '../../src/search/access.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { loadConfig } from '../../src/config.js';
import { DEMO_PATIENT_IDS } from '../../src/data/demo.js';
import { projectRoot } from '../../src/fhir/definitions/cache.js';

const dir = mkdtempSync(join(tmpdir(), 'ccri-seed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ccri(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot(), 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: projectRoot() });
  expect(r.status, r.stderr).toBe(0);
  return r;
}

async function counts(dataDir: string) {
  const ctx = await createContext(loadConfig({ dataDir, cursorSecret: 'x' }, {}), { logger: pino({ enabled: false }) });
  try {
    return { counts: await ctx.store.counts(), seeded: await ctx.store.reader(EVERYTHING).read('Patient', 's4-pat-00001') };
  } finally {
    await ctx.store.close();
  }
}

describe('ccri seed', () => {
  it('writes the same NDJSON for the same seed', () => {
    ccri('seed', '--patients', '15', '--seed', '4', '--output', join(dir, 'a.ndjson'));
    ccri('seed', '--patients', '15', '--seed', '4', '--output', join(dir, 'b.ndjson'));
    const a = readFileSync(join(dir, 'a.ndjson'), 'utf8');
    expect(a.split('\n').filter(Boolean).length).toBeGreaterThan(15 * 10);
    expect(readFileSync(join(dir, 'b.ndjson'), 'utf8')).toBe(a);
  }, 120_000);

  it('loads a population, and --reset wipes the store and reloads the demo data set', async () => {
    const data = join(dir, 'store');
    const loaded = ccri('seed', '--patients', '12', '--seed', '4', '--data-dir', data);
    expect(loaded.stdout).toMatch(/Loaded \d+ resources in [\d.]+ s/);
    let state = await counts(data);
    expect(state.counts.get('Patient')).toBe(12);
    expect(state.seeded).toBeDefined();
    ccri('seed', '--reset', '--data-dir', data);
    state = await counts(data);
    expect(state.counts.get('Patient')).toBe(DEMO_PATIENT_IDS.length + 1);
    expect(state.seeded).toBeUndefined();
  }, 120_000);
});
