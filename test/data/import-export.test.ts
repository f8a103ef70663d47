import { EVERYTHING } from '../../src/search/access.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExport } from '../../src/cli/export.js';
import { createContext } from '../../src/cli/context.js';
import { runImport } from '../../src/cli/import.js';
import { loadConfig } from '../../src/config.js';
import { serializeXml } from '../../src/fhir/xml.js';
import { generatePopulation } from '../../src/data/generate/population.js';
import { repairCardinality } from '../../src/data/import/repair.js';
import { writeResources } from '../../src/data/write.js';
import type { CommandContext } from '../../src/cli/context.js';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { sharedPath } from '../helpers/shared.js';

import pino from 'pino';

const silent = pino({ enabled: false });
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ccri-import-'));
  dirs.push(d);
  return d;
}
async function context(): Promise<CommandContext> {
  return createContext(loadConfig({ dataDir: tempDir(), cursorSecret: 'test' }, {}), { logger: silent });
}
async function collect(ctx: CommandContext, options: Parameters<typeof runExport>[2] = {}): Promise<string[]> {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c) => chunks.push(String(c)));
  await runExport(ctx.store, out, options);
  return chunks.join('').split('\n').filter(Boolean);
}
/** A resource without the parts the store sets on every write. */
function comparable(json: string): unknown {
  const r = JSON.parse(json) as { meta?: Record<string, unknown> };
  const { versionId: _v, lastUpdated: _l, ...meta } = r.meta ?? {};
  return { ...r, meta };
}
/** Every reference in the store. */
async function allReferences(ctx: CommandContext): Promise<string[]> {
  const refs: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) k === 'reference' && typeof v === 'string' ? refs.push(v) : walk(v);
  };
  for (const line of await collect(ctx)) walk(JSON.parse(line));
  return refs;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('ccri import', () => {
  it('loads the SMART sample data completely through transaction processing', async () => {
    const dir = sharedPath('sample-data', 'smart-stu3');
    if (!dir) return;
    const ctx = await context();
    try {
      const lines: string[] = [];
      const summary = await runImport(ctx, [dir], { quiet: true, report: (l) => lines.push(l) });
      expect(summary.errors, lines.join('\n')).toBe(0);
      expect(summary.files).toBe(123);
      const counts = await ctx.store.counts();
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      expect(summary.resources).toBe(total);
      expect(total).toBeGreaterThan(14_000);
      expect(counts.get('Patient')).toBe(67);
      expect(counts.get('Practitioner')).toBe(7);
      expect(counts.get('Observation')).toBe(11_272);
      const refs = await allReferences(ctx);
      expect(refs.length).toBeGreaterThan(10_000);
      expect(refs.filter((r) => r.startsWith('urn:uuid:'))).toEqual([]);
    } finally {
      await ctx.store.close();
    }
  }, 300_000);

  it('resolves urn:uuid references of transaction bundles, and reads batch, collection, NDJSON and XML', async () => {
    const dir = tempDir();
    const pat = 'urn:uuid:4b8b3a4e-0c6a-4f43-8d0a-1d1b6a2b9c01';
    writeFileSync(join(dir, 'tx.json'), JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { fullUrl: pat, resource: { resourceType: 'Patient', name: [{ family: 'Urn' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: pat } }, request: { method: 'POST', url: 'Observation' } },
      ],
    }));
    writeFileSync(join(dir, 'batch.json'), JSON.stringify({ resourceType: 'Bundle', type: 'batch', entry: [{ resource: { resourceType: 'Patient', id: 'b1', gender: 'male' }, request: { method: 'PUT', url: 'Patient/b1' } }] }));
    writeFileSync(join(dir, 'collection.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', id: 'c1' } }, { resource: { resourceType: 'Patient', id: 'c2' } }] }));
    writeFileSync(join(dir, 'lines.ndjson'), '{"resourceType":"Patient","id":"n1"}\n{"resourceType":"Patient","id":"n2"}\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'one.xml'), serializeXml({ resourceType: 'Patient', id: 'x1', gender: 'female' }));
    const ctx = await context();
    try {
      const summary = await runImport(ctx, [dir], { quiet: true, report: () => undefined });
      expect(summary.errors).toBe(0);
      expect(summary.resources).toBe(8);
      const obs = (await collect(ctx, { type: 'Observation' })).map((l) => JSON.parse(l));
      expect(obs).toHaveLength(1);
      expect(obs[0].subject.reference).toMatch(/^Patient\/[0-9a-f-]{36}$/);
      expect(await ctx.store.reader(EVERYTHING).read('Patient', obs[0].subject.reference.slice(8))).toBeDefined();
      for (const id of ['b1', 'c1', 'c2', 'n1', 'n2', 'x1']) expect(await ctx.store.reader(EVERYTHING).read('Patient', id), id).toBeDefined();
    } finally {
      await ctx.store.close();
    }
  });

  it.each([
    ['on this thread', false],
    ['in a worker thread (bulk load)', true],
  ])('reports each bad resource with its file and position, carries on, and fails the run (reading %s)', async (_how, bulk) => {
    const dir = tempDir();
    // --validate checks the Care Connect profile too (a Patient needs an official name).
    writeFileSync(join(dir, 'bad.ndjson'), ['{"resourceType":"Patient","id":"ok1","name":[{"use":"official","family":"Ok"}]}', '{"resourceType":"Patient","id":"bad id!"}', 'not json', '{"resourceType":"Nonsense","id":"z"}', '{"resourceType":"Patient","id":"ok2","gender":7}', '{"resourceType":"Patient","id":"nameless"}'].join('\n'));
    writeFileSync(join(dir, 'tx.json'), JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 't1', name: [{ use: 'official', family: 'T' }] }, request: { method: 'PUT', url: 'Patient/t1' } },
        { resource: { resourceType: 'Patient', id: 't2', name: [{ use: 'official', family: 'T' }], birthDate: 'yesterday' }, request: { method: 'PUT', url: 'Patient/t2' } },
      ],
    }));
    const ctx = await context();
    try {
      const lines: string[] = [];
      // ok1 comes again in a later file (files load in path order): the later one wins (version 2).
      writeFileSync(join(dir, 'z-again.ndjson'), '{"resourceType":"Patient","id":"ok1","name":[{"use":"official","family":"Again"}]}\n');
      const summary = await runImport(ctx, [join(dir, 'bad.ndjson'), join(dir, 'tx.json'), join(dir, 'z-again.ndjson')], { quiet: true, validate: true, bulk, report: (l) => lines.push(l) });
      expect(summary.errors).toBe(6);
      expect(summary.resources).toBe(2);
      expect(summary.files).toBe(3);
      const ok1 = await ctx.store.reader(EVERYTHING).read('Patient', 'ok1');
      expect(ok1?.version).toBe(2);
      expect(JSON.parse(ok1!.json!).name[0].family).toBe('Again');
      const text = lines.join('\n');
      expect(text).toContain(`${join(dir, 'bad.ndjson')}: line 2: Patient has an invalid id`);
      expect(text).toContain(`${join(dir, 'bad.ndjson')}: line 3: `);
      expect(text).toContain(`${join(dir, 'bad.ndjson')}: line 4: unknown resource type 'Nonsense'`);
      expect(text).toContain(`${join(dir, 'bad.ndjson')}: line 5: Patient/ok2: `);
      expect(text).toContain(`${join(dir, 'bad.ndjson')}: line 6: Patient/nameless: `);
      expect(text).toContain(`${join(dir, 'tx.json')}: entry 1: `);
      expect(await ctx.store.reader(EVERYTHING).read('Patient', 'ok1')).toBeDefined();
      expect(await ctx.store.reader(EVERYTHING).read('Patient', 't1')).toBeUndefined();
    } finally {
      await ctx.store.close();
    }
    // The command itself exits non-zero.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot(), 'src/cli/main.ts'), 'import', '--data-dir', tempDir(), join(dir, 'bad.ndjson')], { encoding: 'utf8', cwd: projectRoot() });
    expect(cli.status, cli.stderr).toBe(1);
    expect(cli.stderr).toContain('bad.ndjson: line 2:');
    // Without --validate the STU3 definitions still apply (line 5's gender is a number), the profile does not (line 6 loads).
    expect(cli.stderr).toMatch(/Imported 2 resources from 1 file\(s\) in [\d.]+ s, [\d,]+ resources\/s; 4 error\(s\)/);
  }, 120_000);

  it('reads an NDJSON file line by line: CRLF endings, blank lines and a missing last newline keep their line numbers', async () => {
    const dir = tempDir();
    const file = join(dir, 'crlf.ndjson');
    writeFileSync(file, ['{"resourceType":"Patient","id":"a"}', '', '{"resourceType":"Patient","id":"b"', '  ', '{"resourceType":"Patient","id":"c"}'].join('\r\n'));
    const ctx = await context();
    try {
      const lines: string[] = [];
      const summary = await runImport(ctx, [file], { quiet: true, report: (l) => lines.push(l) });
      expect(summary.resources).toBe(2);
      expect(summary.errors).toBe(1);
      expect(lines[0]).toMatch(/crlf\.ndjson: line 3: The body is not valid JSON/);
      expect((await ctx.store.reader(EVERYTHING).read('Patient', 'c'))?.version).toBe(1);
    } finally {
      await ctx.store.close();
    }
  });

  it('loads standard input: NDJSON line by line, or one JSON or XML resource', async () => {
    const data = tempDir();
    const run = (input: string) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot(), 'src/cli/main.ts'), 'import', '--data-dir', data, '-'], { encoding: 'utf8', cwd: projectRoot(), input });
      return { status: r.status, stderr: r.stderr };
    };
    const ndjson = run('{"resourceType":"Patient","id":"s1"}\nnot json\n{"resourceType":"Patient","id":"s2"}\n');
    expect(ndjson.status).toBe(1);
    expect(ndjson.stderr).toContain('<stdin>: line 2: ');
    expect(ndjson.stderr).toMatch(/Imported 2 resources from 1 file\(s\)/);
    expect(run('{\n  "resourceType": "Patient",\n  "id": "s3"\n}\n').status).toBe(0);
    expect(run('<Patient xmlns="http://hl7.org/fhir"><id value="s4"/></Patient>').status).toBe(0);
    const ctx = await createContext(loadConfig({ dataDir: data, cursorSecret: 'test' }, {}), { logger: silent });
    try {
      for (const id of ['s1', 's2', 's3', 's4']) expect(await ctx.store.reader(EVERYTHING).read('Patient', id), id).toBeDefined();
    } finally {
      await ctx.store.close();
    }
  }, 60_000);

  it('repairs the JSON shape of elements given with the wrong cardinality', () => {
    const obs = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, extension: [{ url: 'http://e', valueString: ['a', 'b'] }], category: { text: 'c' } };
    expect(repairCardinality(obs)).toHaveLength(2);
    expect(obs.extension).toEqual([{ url: 'http://e', valueString: 'a' }, { url: 'http://e', valueString: 'b' }]);
    expect(obs.category).toEqual([{ text: 'c' }]);
  });
});

describe('ccri export', () => {
  let source: CommandContext;
  beforeAll(async () => {
    source = await context();
    await writeResources(source.store, generatePopulation({ patients: 25, seed: 3 }));
    // A changed and a deleted resource: the export has only current versions.
    await source.store.transaction(EVERYTHING, async (tx) => {
      await tx.write({ type: 'Patient', id: 's3-pat-00001', resource: { resourceType: 'Patient', id: 's3-pat-00001', gender: 'other' } });
      await tx.write({ type: 'Patient', id: 's3-pat-00002', resource: null });
    });
  });
  afterAll(async () => {
    await source?.store.close();
  });

  it('round-trips: export then import into an empty store gives the same resources', async () => {
    const lines = await collect(source);
    const counts = await source.store.counts();
    expect(lines).toHaveLength([...counts.values()].reduce((a, b) => a + b, 0));
    const file = join(tempDir(), 'all.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const target = await context();
    try {
      const summary = await runImport(target, [file], { quiet: true, bulk: true, report: () => undefined });
      expect(summary.errors).toBe(0);
      const again = await collect(target);
      const key = (l: string) => { const r = JSON.parse(l); return `${r.resourceType}/${r.id}`; };
      const a = new Map(lines.map((l) => [key(l), comparable(l)]));
      const b = new Map(again.map((l) => [key(l), comparable(l)]));
      expect(b.size).toBe(a.size);
      for (const [k, v] of a) expect(b.get(k), k).toEqual(v);
      expect(JSON.parse(again.find((l) => key(l) === 'Patient/s3-pat-00001')!).gender).toBe('other');
      expect(b.has('Patient/s3-pat-00002')).toBe(false);
    } finally {
      await target.store.close();
    }
  });

  it('exports one type, and one patient with their compartment', async () => {
    const patients = await collect(source, { type: 'Patient' });
    expect(patients.every((l) => JSON.parse(l).resourceType === 'Patient')).toBe(true);
    expect(patients).toHaveLength((await source.store.counts()).get('Patient')!);
    const one = (await collect(source, { patient: 's3-pat-00003' })).map((l) => JSON.parse(l));
    expect(one[0]).toMatchObject({ resourceType: 'Patient', id: 's3-pat-00003' });
    expect(one.length).toBeGreaterThan(5);
    for (const r of one.slice(1)) expect(JSON.stringify(r)).toContain('Patient/s3-pat-00003');
    const obsOnly = (await collect(source, { patient: 's3-pat-00003', type: 'Observation' })).map((l) => JSON.parse(l));
    expect(obsOnly.length).toBe(one.filter((r) => r.resourceType === 'Observation').length);
  });

  it('writes the stored JSON text unchanged', async () => {
    const [line] = await collect(source, { type: 'Organization' });
    const id = JSON.parse(line!).id;
    expect(line).toBe((await source.store.reader(EVERYTHING).read('Organization', id))!.json);
  });
});
