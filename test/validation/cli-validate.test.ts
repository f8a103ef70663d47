import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/validate.js';
import { ccri } from '../helpers/cli.js';
import { CC_PATIENT, goodPatient } from './careconnect-source.js';

/** `ccri validate`: files, directories, standard input, Bundles, --profile; the table and the exit code. */

const badPatient = () => {
  const p = goodPatient() as Record<string, any>;
  p.identifier[0].value = '9876543211';
  return p;
};

describe('ccri validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ccri-cli-validate-'));
    mkdirSync(join(dir, 'more'));
    writeFileSync(join(dir, 'good.json'), JSON.stringify(goodPatient()));
    writeFileSync(join(dir, 'more', 'bad.json'), JSON.stringify(badPatient()));
    writeFileSync(join(dir, 'gender.xml'), '<Patient xmlns="http://hl7.org/fhir"><gender value="x"/></Patient>');
    writeFileSync(join(dir, 'broken.json'), '{"resourceType": "Patient",');
    const bundle = { resourceType: 'Bundle', type: 'collection', entry: [{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', gender: 'male' } }, { fullUrl: 'urn:uuid:2', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }] };
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (paths: string[], options: Parameters<typeof runValidate>[1] = {}) => {
    const lines: string[] = [];
    const summary = await runValidate(paths, { out: (l) => lines.push(l), ...options });
    return { summary, lines, text: lines.join('\n') };
  };

  it('a conforming resource: no rows, no errors', async () => {
    const { summary, lines } = await run([join(dir, 'good.json')]);
    expect(summary).toEqual({ files: 1, resources: 1, errors: 0, warnings: expect.any(Number) });
    expect(lines.at(-1)).toMatch(/^1 resource in 1 file: 0 errors, \d+ warnings?\.$/);
  });

  it('a directory (recursively), JSON and XML: a table of file, location, severity and message', async () => {
    const { summary, lines, text } = await run([join(dir, 'more'), join(dir, 'gender.xml')]);
    expect(summary.errors).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^file\s+location\s+severity\s+message$/);
    expect(text).toMatch(/bad\.json\s+Patient\.identifier\[0\]\.value\s+error\s+'9876543211' is not a valid NHS number/);
    expect(text).toMatch(/gender\.xml\s+Patient\.gender\s+error\s+the code 'x' is not in the value set/);
  });

  it('a file that does not parse is an error row', async () => {
    const { summary, text } = await run([join(dir, 'broken.json')]);
    expect(summary.errors).toBe(1);
    expect(text).toMatch(/broken\.json\s+error\s+The body is not valid JSON/);
  });

  it('--profile applies to the resources (and Bundle entries) of its type', async () => {
    const plain = await run([join(dir, 'bundle.json')]);
    expect(plain.summary.errors).toBe(0);
    const profiled = await run([join(dir, 'bundle.json')], { profiles: [CC_PATIENT] });
    expect(profiled.text).toMatch(/Bundle\.entry\[0\]\.resource\.name\s+error\s+.*CareConnect-Patient-1/);
    expect(profiled.text).not.toMatch(/Bundle\.entry\[1\]\.resource.*CareConnect-Patient-1/);
  });

  it('standard input', async () => {
    const { summary, text } = await run(['-'], { stdin: async () => JSON.stringify(badPatient()) });
    expect(summary.errors).toBeGreaterThan(0);
    expect(text).toMatch(/<stdin>\s+Patient\.identifier\[0\]\.value\s+error/);
  });

  it('NDJSON line by line: a bad line is an error at its line number, and the other lines are still validated', async () => {
    const lines = [JSON.stringify(goodPatient()), '{"resourceType": "Patient",', '', JSON.stringify(badPatient()), '{"resourceType":"Patient","gender":"male"}'];
    writeFileSync(join(dir, 'mixed.ndjson'), lines.join('\r\n'));
    const { summary, text } = await run([join(dir, 'mixed.ndjson')]);
    expect(summary.resources).toBe(3);
    expect(text).toMatch(/mixed\.ndjson: line 2\s+error\s+The body is not valid JSON/);
    expect(text).toMatch(/mixed\.ndjson: line 4\s+Patient\.identifier\[0\]\.value\s+error\s+'9876543211' is not a valid NHS number/);
    expect(text).not.toMatch(/mixed\.ndjson: line [135]\s+\S*\s+error/);
    // Standard input is read the same way when its first line is a whole JSON object.
    const stdin = await run(['-'], { stdin: async () => lines.join('\n') });
    expect(stdin.summary.resources).toBe(3);
    expect(stdin.text).toMatch(/<stdin>: line 2\s+error\s+The body is not valid JSON/);
  });

  it('passes over the kinds of file that import passes over, named or in a directory, and says so for named ones', async () => {
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'readme.txt'), 'not FHIR');
    writeFileSync(join(dir, 'notes', 'p.json'), JSON.stringify({ resourceType: 'Patient', gender: 'male' }));
    const named = await run([join(dir, 'notes', 'readme.txt'), join(dir, 'notes', 'p.json')]);
    expect(named.summary).toMatchObject({ files: 1, resources: 1, errors: 0 });
    expect(named.lines[0]).toBe(`${join(dir, 'notes', 'readme.txt')}: skipped: only .json, .ndjson, .jsonl and .xml files are read`);
    const found = await run([join(dir, 'notes')]);
    expect(found.summary).toMatchObject({ files: 1, resources: 1, errors: 0 });
    expect(found.text).not.toContain('readme.txt');
    const imported = ccri(['import', '--create', '--data-dir', join(dir, 'store'), join(dir, 'notes', 'readme.txt'), join(dir, 'notes')]);
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`${join(dir, 'notes', 'readme.txt')}: skipped: only .json, .ndjson, .jsonl and .xml files are read`);
    expect(imported.stderr).toMatch(/Imported 1 resource from 1 file in/);
  });

  it('the built program exits non-zero when there are errors, zero otherwise', () => {
    const ok = ccri(['validate', join(dir, 'good.json')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^1 resource in 1 file: 0 errors/m);
    const bad = ccri(['validate', join(dir, 'more', 'bad.json')]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/not a valid NHS number/);
  });
});
