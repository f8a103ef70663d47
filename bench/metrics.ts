import { machine, measure, startCcri, table, tempFolder } from './lib.js';

/**
 * What counting costs: GET Patient/{id} (served from the read cache: no statement) and a
 * search (statements timed) on SQLite, with CCRI_METRICS on and off (audit off in both), two
 * servers in their own processes, alternating rounds; then one scrape of /metrics after the runs.
 */
const ROUNDS = 3;

export async function metricsBench(duration = 10): Promise<string> {
  const folders = [tempFolder('ccri-bench-metrics-on-'), tempFolder('ccri-bench-metrics-off-')];
  // Audit off on both: it costs far more than counting (benchmarks.md, "Audit"), and would hide it.
  const on = await startCcri({ CCRI_DATA_DIR: folders[0]!.path, CCRI_DEMO_DATA: 'true', CCRI_AUDIT: 'off', CCRI_METRICS: 'on' });
  const off = await startCcri({ CCRI_DATA_DIR: folders[1]!.path, CCRI_DEMO_DATA: 'true', CCRI_AUDIT: 'off', CCRI_METRICS: 'off' });
  try {
    const target = async (port: number) => {
      const page = (await (await fetch(`http://127.0.0.1:${port}/STU3/Patient?_count=1`)).json()) as { entry: Array<{ resource: { id: string } }> };
      return { read: `http://127.0.0.1:${port}/STU3/Patient/${page.entry[0]!.resource.id}`, search: `http://127.0.0.1:${port}/STU3/Observation?_count=10&_sort=-date` };
    };
    const urls = { on: await target(on.port), off: await target(off.port) };
    for (const u of [urls.on, urls.off]) {
      await measure('warm-up', u.read, { duration: 2 });
      await measure('warm-up', u.search, { duration: 2 });
    }
    const rows = [];
    const ratios: Record<'read' | 'search', number[]> = { read: [], search: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of ['read', 'search'] as const) {
        const a = await measure(`${kind}, metrics on, round ${round}`, urls.on[kind], { duration });
        const b = await measure(`${kind}, metrics off, round ${round}`, urls.off[kind], { duration });
        rows.push(a, b);
        ratios[kind].push(a.requestsPerSecond / b.requestsPerSecond);
      }
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const scrapeStarted = performance.now();
    const scrape = await (await fetch(`http://127.0.0.1:${on.port}/metrics`)).text();
    const scrapeMs = performance.now() - scrapeStarted;
    return [
      `### Metrics (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds; SQLite, the demo data, audit off; each server in its own process.`,
      '',
      table(rows),
      '',
      `Requests per second with metrics on, as a share of off (median of the rounds): read by id **${(median(ratios.read) * 100).toFixed(0)}%**, search **${(median(ratios.search) * 100).toFixed(0)}%**.`,
      `One scrape of /metrics after the runs: ${scrape.length} bytes, ${scrape.split('\n').filter((l) => l && !l.startsWith('#')).length} samples, ${scrapeMs.toFixed(1)} ms.`,
    ].join('\n');
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    for (const f of folders) f.remove();
  }
}
