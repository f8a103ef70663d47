import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';
import { runImport } from '../../src/cli/import.js';
import { BUILDING, progressBar } from '../../src/cli/progress.js';
import { loadConfig } from '../../src/config.js';

/** A stand-in terminal: what the progress line draws on it, as text. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(stream, { isTTY: true, columns: 120 });
  let out = '';
  stream.on('data', (d) => (out += String(d)));
  // The drawn frames without the terminal's control sequences.
  return { stream, text: () => out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '\n') };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('the progress line', () => {
  it('without a total: a count and a rate, never a percentage', () => {
    const t = terminal();
    const bar = progressBar('import', t.stream);
    for (const n of [1, 40, 900]) bar.update(n);
    bar.stop();
    expect(t.text()).toMatch(/import \| 1 resource \| [\d,]+\/s/);
    expect(t.text()).toMatch(/import \| 900 resources/);
    expect(t.text()).not.toContain('%');
  });

  it('with a total: a bar whose total is the one given at the start', () => {
    const t = terminal();
    const bar = progressBar('reindex', t.stream);
    bar.update(1, 1000);
    bar.update(500, 1000);
    bar.update(1000, 1000);
    bar.stop();
    const frames = t.text();
    expect(frames).not.toMatch(/100% \| 1\/1\b/);
    expect(frames).toMatch(/ 0% \| 1\/1,000 /);
    expect(frames).toMatch(/ 100% \| 1,000\/1,000 /);
    expect([...frames.matchAll(/\| [\d,]+\/([\d,]+) \|/g)].map((m) => m[1])).toSatisfy((totals: string[]) => totals.length > 0 && totals.every((x) => x === '1,000'));
  });

  it('nothing when the stream is not a terminal', () => {
    const t = terminal();
    Object.assign(t.stream, { isTTY: false });
    const bar = progressBar('seed', t.stream);
    bar.update(10);
    bar.stop(BUILDING);
    expect(t.text()).toBe('');
  });

  it('says what comes next on a line of its own, once, after the count', () => {
    const t = terminal();
    const bar = progressBar('seed', t.stream);
    bar.update(10);
    bar.stop(BUILDING);
    bar.stop();
    const text = t.text();
    expect(text.split(BUILDING)).toHaveLength(2);
    expect(text.indexOf('seed | 10 resources')).toBeLessThan(text.indexOf(BUILDING));
    expect(text).toMatch(new RegExp(`\\n${BUILDING.replace(/\./g, '\\.')}\\n$`));
  });

  it('an import of several files, a Bundle first, counts up with no percentage and no flash of 100% 1/1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-progress-'));
    dirs.push(dir);
    const tx = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:0b3e8d1c-1111-4c2a-9a7e-000000000001', resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }] };
    writeFileSync(join(dir, '0-first.json'), JSON.stringify(tx));
    writeFileSync(join(dir, 'many.ndjson'), Array.from({ length: 50 }, (_, i) => JSON.stringify({ resourceType: 'Patient', id: `n${i}` })).join('\n'));
    const ctx = await createContext(loadConfig({ dataDir: join(dir, 'store'), cursorSecret: 'x' }, {}), { logger: pino({ enabled: false }) });
    const t = terminal();
    try {
      const summary = await runImport(ctx, [dir], { report: () => undefined, progress: t.stream, batchSize: 10 });
      expect(summary.resources).toBe(51);
    } finally {
      await ctx.store.close();
    }
    expect(t.text()).toMatch(/import \| 1 resource \|/);
    expect(t.text()).toMatch(/import \| 51 resources/);
    expect(t.text()).not.toContain('%');
  });
});
