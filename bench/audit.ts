import { machine, measure, type Measured, startCcri, table, tempFolder, untilCopied } from './lib.js';

/**
 * Issue 11: what audit of use costs. Two servers on SQLite with the same data, one with
 * CCRI_AUDIT=on (every request's AuditEvent committed before its answer leaves) and one
 * with it off, measured in alternating rounds: read by id (target: on ≥ 85% of off) and a
 * search (target: p99 on ≤ p99 off + 1 ms).
 */
/** Alternating rounds (BENCH_ROUNDS to change: more, shorter rounds give a steadier median on a noisy machine). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PATIENTS = 300;

async function prepare(port: number): Promise<string> {
  const entry = Array.from({ length: PATIENTS }, (_, i) => ({
    resource: {
      resourceType: 'Patient',
      id: `b${i}`,
      identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: String(9000000000 + i) }],
      name: [{ family: `Family${i % 20}`, given: ['Bench'] }],
      gender: i % 2 ? 'male' : 'female',
      birthDate: '1970-01-01',
    },
    request: { method: 'PUT', url: `Patient/b${i}` },
  }));
  const res = await fetch(`http://127.0.0.1:${port}/STU3`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }) });
  if (res.status !== 200) throw new Error(`loading the bench data failed: ${res.status} ${await res.text()}`);
  return `http://127.0.0.1:${port}/STU3`;
}

export async function auditBench(duration = 10): Promise<string> {
  const onDir = tempFolder('ccri-bench-audit-on-');
  const offDir = tempFolder('ccri-bench-audit-off-');
  const on = await startCcri({ CCRI_DATA_DIR: onDir.path, CCRI_DEMO_DATA: 'false', CCRI_AUDIT: 'on' });
  const off = await startCcri({ CCRI_DATA_DIR: offDir.path, CCRI_DEMO_DATA: 'false', CCRI_AUDIT: 'off' });
  try {
    const bases = { on: await prepare(on.port), off: await prepare(off.port) };
    const read = (b: string) => `${b}/Patient/b7`;
    const search = (b: string) => `${b}/Patient?family=Family3&gender=male&_count=10`;
    for (const b of [bases.on, bases.off]) {
      await measure('warm-up', read(b), { duration: 2 });
      await measure('warm-up', search(b), { duration: 2 });
    }
    const rows: Measured[] = [];
    const readRatios: number[] = [];
    const searchDeltas: number[] = [];
    const settled: string[] = [];
    // The audited server copies its events for search once it is quiet: that work is done
    // before the next target is measured, or it would run beside it (on the same cores) and
    // slow the other server, not this one.
    const settle = async (what: string) => settled.push(`${what}: ${await untilCopied(on.port)}`);
    await settle('warm-up');
    for (let round = 1; round <= ROUNDS; round++) {
      const rOn = await measure(`read by id, audit on, round ${round}`, read(bases.on), { duration });
      await settle(`reads, round ${round}`);
      const rOff = await measure(`read by id, audit off, round ${round}`, read(bases.off), { duration });
      const sOn = await measure(`search, audit on, round ${round}`, search(bases.on), { duration });
      await settle(`searches, round ${round}`);
      const sOff = await measure(`search, audit off, round ${round}`, search(bases.off), { duration });
      rows.push(rOn, rOff, sOn, sOff);
      readRatios.push(rOn.requestsPerSecond / rOff.requestsPerSecond);
      searchDeltas.push(sOn.p99 - sOff.p99);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return [
      `### Audit of use (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. Two servers on SQLite with the same ${PATIENTS} patients, CCRI_AUDIT=on and off; autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds. Read: \`GET Patient/{id}\`; search: \`GET Patient?family=…&gender=male&_count=10\` (10 of 15 matches, 10 patients named in each event).`,
      '',
      table(rows),
      '',
      `Read by id, audit on ÷ off, per round: ${readRatios.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')}; median **${(median(readRatios) * 100).toFixed(0)}%** (target ≥ 85%).`,
      `Search p99, audit on − off, per round: ${searchDeltas.map((d) => `${d >= 0 ? '+' : ''}${d} ms`).join(', ')}; median **${median(searchDeltas) >= 0 ? '+' : ''}${median(searchDeltas)} ms** (target ≤ +1 ms).`,
      '',
      `After each audited target, before the next one, the audited server copied its events for search (the work it leaves for quiet times; events, and how long it took): ${settled.join('; ')}.`,
    ].join('\n');
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    onDir.remove();
    offDir.remove();
  }
}
