import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { machine, startCcri, tempFolder } from './lib.js';

/**
 * Issue 15's soak: `ccri serve` on SQLite with the demo data (audit on, as by default), a
 * mix of reads, searches and writes at its peak for 10 s, then at 80% of that peak for
 * SOAK_SECONDS (600 by default), the server's resident memory read every 30 s. Target:
 * memory flat within ±10% after the first minute, and no errors.
 */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const EVERY_S = 30;
const WARM_UP_S = 60;

/** The server's resident memory, in MB, from /proc (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

interface Request {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Six reads, three searches and one create in every ten requests, over the demo data's patients. */
async function mix(base: string, path: string): Promise<Request[]> {
  const bundle = (await (await fetch(`${base}/Patient?_count=20&_elements=id`)).json()) as { entry?: Array<{ resource: { id: string } }> };
  const ids = (bundle.entry ?? []).map((e) => e.resource.id);
  if (ids.length < 10) throw new Error(`the demo data has ${ids.length} patients: too few to soak`);
  const out: Request[] = [];
  ids.forEach((id, i) => {
    for (let r = 0; r < 6; r++) out.push({ method: 'GET', path: `${path}/Patient/${ids[(i + r) % ids.length]}` });
    out.push({ method: 'GET', path: `${path}/Observation?subject=Patient/${id}&_count=10` });
    out.push({ method: 'GET', path: `${path}/Encounter?patient=${id}&_sort=-date&_count=5` });
    out.push({ method: 'GET', path: `${path}/Patient?gender=female&_count=10` });
    out.push({
      method: 'POST',
      path: `${path}/Observation`,
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] }, subject: { reference: `Patient/${id}` }, valueQuantity: { value: 70 + i, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' } }),
    });
  });
  return out;
}

/** Requests the server has answered so far (its /metrics), and the audit events not yet copied for search. */
async function served(origin: string): Promise<{ requests: number; lag: string }> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let requests = 0;
  for (const m of text.matchAll(/^ccri_http_requests_total\{[^}]*\} (\S+)$/gm)) requests += Number(m[1]);
  return { requests, lag: /^ccri_audit_search_lag_events (\S+)$/m.exec(text)?.[1] ?? 'unknown' };
}

function run(url: string, requests: Request[], seconds: number, rate?: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: 10, duration: seconds, requests, ...(rate ? { overallRate: rate } : {}) });
}

export async function soakBench(): Promise<string> {
  const dir = tempFolder('ccri-soak-');
  const server = await startCcri({ CCRI_DATA_DIR: dir.path, CCRI_DEMO_DATA: 'true' });
  try {
    const origin = `http://127.0.0.1:${server.port}`;
    const requests = await mix(`${origin}/STU3`, '/STU3');
    const peak = await run(origin, requests, 10);
    const rate = Math.round(peak.requests.average * 0.8);
    // Each sample: memory, and the requests served a second since the last one (the server's count).
    const samples: Array<{ at: number; rss: number; rate?: number; lag: string }> = [];
    const started = Date.now();
    let last = { at: started, requests: (await served(origin)).requests };
    const sample = async () => {
      const now = Date.now();
      const { requests: total, lag } = await served(origin);
      samples.push({ at: Math.round((now - started) / 1000), rss: rssMb(server.child.pid!), ...(now > last.at ? { rate: Math.round(((total - last.requests) * 1000) / (now - last.at)) } : {}), lag });
      last = { at: now, requests: total };
    };
    await sample();
    const timer = setInterval(() => void sample(), EVERY_S * 1000);
    const soak = await run(origin, requests, SECONDS, rate);
    clearInterval(timer);
    await sample();
    const lag = samples[samples.length - 1]!.lag;

    const after = samples.filter((s) => s.at >= WARM_UP_S).map((s) => s.rss);
    const mean = after.reduce((a, b) => a + b, 0) / Math.max(1, after.length);
    const spread = after.length ? Math.max(...after.map((r) => Math.abs(r - mean) / mean)) : Number.NaN;
    const errors = soak.errors + soak.timeouts + soak.non2xx;
    return [
      `### Soak (${new Date().toISOString().slice(0, 10)})`,
      '',
      `Machine: ${machine()}. \`ccri serve\` on SQLite with the demo data, audit on; 10 connections, each cycling through six reads by id, three searches and one create; the peak over 10 s, then ${SECONDS} s at 80% of it (autocannon's overall rate). Target: resident memory within ±10% of its mean after the first ${WARM_UP_S} s, and no errors.`,
      '',
      `Peak: ${Math.round(peak.requests.average)} requests/s. Soak: ${rate} requests/s asked, ${Math.round(soak.requests.average)} served, p99 ${soak.latency.p99} ms, ${soak.requests.total} requests; errors ${soak.errors}, timeouts ${soak.timeouts}, non-2xx ${soak.non2xx}. Audit events not yet copied for search at the end: ${lag}.`,
      '',
      '| seconds | resident memory, MB | requests served a second, since the row before | audit events not yet copied |',
      '|---:|---:|---:|---:|',
      ...samples.map((s) => `| ${s.at} | ${s.rss} | ${s.rate ?? ''} | ${s.lag} |`),
      '',
      `After the first ${WARM_UP_S} s: mean ${Math.round(mean)} MB, furthest sample ${(spread * 100).toFixed(1)}% from it (target ±10%): **${spread <= 0.1 ? 'flat' : 'not flat'}**; errors: **${errors}** (target 0).`,
    ].join('\n');
  } finally {
    await server.stop();
    dir.remove();
  }
}
