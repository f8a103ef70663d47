import { spawnSync } from 'node:child_process';
import { machine, startCcri, tempFolder } from './lib.js';

/**
 * Bulk export: `ccri seed --patients N` into a fresh SQLite store, then `ccri serve` on it,
 * and a client that kicks off `$export`, `Patient/$export` and `Group/{id}/$export` (the
 * largest practice), polls each to the end and downloads every file, as a Bulk Data client
 * would. Timed from the kick-off to the last byte downloaded.
 */
const PATIENTS = Number(process.env.BENCH_EXPORT_PATIENTS ?? 10_000);

interface Run {
  label: string;
  resources: number;
  files: number;
  seconds: number;
}

async function exportOnce(base: string, path: string, label: string): Promise<Run> {
  const started = Date.now();
  const kick = await fetch(`${base}/${path}`, { headers: { prefer: 'respond-async', accept: 'application/fhir+json' } });
  if (kick.status !== 202) throw new Error(`${path}: ${kick.status} ${await kick.text()}`);
  const status = kick.headers.get('content-location')!;
  let res: Response;
  for (;;) {
    res = await fetch(status);
    if (res.status !== 202) break;
    // Polled more often than the Retry-After the server asks for, so the time is the export's, not the wait's.
    await new Promise((r) => setTimeout(r, 100));
  }
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  const manifest = (await res.json()) as { output: Array<{ url: string; count: number }> };
  let resources = 0;
  for (const o of manifest.output) {
    const file = await fetch(o.url);
    const text = await file.text();
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    if (lines !== o.count) throw new Error(`${o.url}: ${lines} lines, the manifest says ${o.count}`);
    resources += lines;
  }
  return { label, resources, files: manifest.output.length, seconds: (Date.now() - started) / 1000 };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-GB');

export async function exportBench(): Promise<string> {
  const dir = tempFolder('ccri-export-bench-');
  const rows: string[] = [];
  try {
    const seeded = spawnSync(process.execPath, ['dist/cli/main.js', 'seed', '--patients', String(PATIENTS), '--data-dir', dir.path], { encoding: 'utf8' });
    if (seeded.status !== 0) throw new Error(`seed failed: ${seeded.stderr}`);
    const server = await startCcri({ CCRI_DATA_DIR: dir.path, CCRI_DEMO_DATA: 'false' });
    try {
      const base = `http://127.0.0.1:${server.port}/STU3`;
      // The largest practice's Group.
      const groups = (await (await fetch(`${base}/Group?_count=100&_elements=quantity`)).json()) as { entry?: Array<{ resource: { id: string; quantity?: number } }> };
      const largest = (groups.entry ?? []).map((e) => e.resource).sort((a, b) => (b.quantity ?? 0) - (a.quantity ?? 0))[0];
      const runs: Run[] = [];
      // Each level twice: first as the server just started (its store not yet in memory), then again.
      for (const round of ['first run', 'again']) {
        runs.push(await exportOnce(base, 'Patient/$export', `Patient/$export (${fmt(PATIENTS)} patients), ${round}`));
        runs.push(await exportOnce(base, '$export', `$export (everything), ${round}`));
        if (largest) runs.push(await exportOnce(base, `Group/${largest.id}/$export`, `Group/{id}/$export (${fmt(largest.quantity ?? 0)} patients), ${round}`));
      }
      for (const r of runs) rows.push(`| ${r.label} | ${fmt(r.resources)} | ${r.files} | ${r.seconds.toFixed(1)} | **${fmt(r.resources / r.seconds)}** |`);
    } finally {
      await server.stop();
    }
  } finally {
    dir.remove();
  }
  return [
    `### Bulk export (${new Date().toISOString().slice(0, 10)})`,
    '',
    `Machine: ${machine()}. SQLite, \`ccri seed --patients ${fmt(PATIENTS)}\`, then \`ccri serve\`; a client kicks off each export, polls it to the end and downloads every file (timed from the kick-off to the last file read); each level twice, the first time from a server just started. Target: 50,000 resources/s.`,
    '',
    '| export | resources | files | seconds | resources/s |',
    '|---|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
