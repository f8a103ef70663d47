import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, measure, startBare, startCcri, table, tempFolder, untilCopied } from './lib.js';

/**
 * GET /STU3/Patient/{id} on SQLite with audit on (the default) and off, each against a bare
 * node:http server returning the same bytes, all in one run (10 connections); and Fastify with
 * one route returning them too, so that what the framework itself costs is told apart from what
 * ccri adds. Servers run in their own processes, each on a folder of its own; autocannon runs here.
 */
const ROUNDS = 5;

const PATIENT = {
  resourceType: 'Patient',
  identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }],
  name: [{ use: 'official', family: 'Kanfeld', given: ['Bernie'], prefix: ['Mr'] }],
  telecom: [{ system: 'phone', value: '07999123456', use: 'mobile' }, { system: 'email', value: 'bernie.kanfeld@chumhum.com' }],
  gender: 'male',
  birthDate: '1998-03-19',
  address: [{ line: ['10 Field Jardin'], city: 'Long Eaton', postalCode: 'NG10 1ZZ' }],
};

/** The URL of the one Patient created on the server at `port`. */
async function created(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/STU3/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(PATIENT) });
  const { id } = (await res.json()) as { id: string };
  return `http://127.0.0.1:${port}/STU3/Patient/${id}`;
}

export async function readById(duration = 10): Promise<string> {
  const folders = [tempFolder('ccri-bench-'), tempFolder('ccri-bench-')];
  const audited = await startCcri({ CCRI_DATA_DIR: folders[0]!.path, CCRI_DEMO_DATA: 'false' });
  const plain = await startCcri({ CCRI_DATA_DIR: folders[1]!.path, CCRI_DEMO_DATA: 'false', CCRI_AUDIT: 'off' });
  try {
    const url = await created(audited.port);
    const unaudited = await created(plain.port);
    const sample = await fetch(url);
    const body = await sample.text();
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'etag', 'last-modified']) headers[h] = sample.headers.get(h) ?? '';
    const bodyFile = join(folders[0]!.path, 'body.json');
    writeFileSync(bodyFile, JSON.stringify({ body, headers }));
    const bare = await startBare(bodyFile);
    const bareUrl = `http://127.0.0.1:${bare.port}${new URL(url).pathname}`;
    const fastify = await startBare(bodyFile, 'bench/fastify-bare.mjs');
    const fastifyUrl = `http://127.0.0.1:${fastify.port}${new URL(url).pathname}`;
    try {
      for (const u of [url, unaudited, bareUrl, fastifyUrl]) await measure('warm-up', u, { duration: 2 });
      await untilCopied(audited.port);
      // This machine's speed drifts by ±10% over a minute: alternate the targets and take the
      // median of the per-round ratios rather than one long run of each.
      const rows = [];
      const on: number[] = [];
      const off: number[] = [];
      const framework: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const a = await measure(`ccri GET Patient/{id} (SQLite, audit on), round ${round}`, url, { duration });
        // The audited server copies its events for search once it is quiet: not while the others are measured.
        await untilCopied(audited.port);
        const b = await measure(`ccri GET Patient/{id} (SQLite, audit off), round ${round}`, unaudited, { duration });
        const ceiling = await measure(`bare node:http, same bytes, round ${round}`, bareUrl, { duration });
        const plain = await measure(`Fastify, one route and nothing else, same bytes, round ${round}`, fastifyUrl, { duration });
        rows.push(a, b, ceiling, plain);
        on.push(a.requestsPerSecond / ceiling.requestsPerSecond);
        off.push(b.requestsPerSecond / ceiling.requestsPerSecond);
        framework.push(plain.requestsPerSecond / ceiling.requestsPerSecond);
      }
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
      const percent = (xs: number[]) => xs.map((r) => `${(r * 100).toFixed(0)}%`).join(', ');
      return [
        `### Read by id (${new Date().toISOString().slice(0, 10)})`,
        '',
        `Machine: ${machine()}. autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds, loopback; each server in its own process.`,
        '',
        table(rows),
        '',
        `Ratios to the bare server per round, audit on: ${percent(on)}; median **${(median(on) * 100).toFixed(0)}%**. Audit off: ${percent(off)}; median **${(median(off) * 100).toFixed(0)}%** (issue 16's target: ≥ 75%). Fastify alone: ${percent(framework)}; median **${(median(framework) * 100).toFixed(0)}%**.`,
      ].join('\n');
    } finally {
      bare.stop();
      fastify.stop();
    }
  } finally {
    await Promise.all([audited.stop(), plain.stop()]);
    for (const f of folders) f.remove();
  }
}
