import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, measure, startBare, startCcri, table, tempFolder } from './lib.js';

/**
 * GET /STU3/Patient/{id} on SQLite, against a bare node:http server returning the
 * same bytes, both in one run (10 connections, 10 s each). Servers run in their own
 * processes; autocannon runs here.
 */
const ROUNDS = 5;

export async function readById(duration = 10): Promise<string> {
  const folder = tempFolder('ccri-bench-');
  const dir = folder.path;
  const ccri = await startCcri({ CCRI_DATA_DIR: dir, CCRI_DEMO_DATA: 'false' });
  const port = ccri.port;
  try {
    const created = await fetch(`http://127.0.0.1:${port}/STU3/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Patient',
        identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }],
        name: [{ use: 'official', family: 'Kanfeld', given: ['Bernie'], prefix: ['Mr'] }],
        telecom: [{ system: 'phone', value: '07999123456', use: 'mobile' }, { system: 'email', value: 'bernie.kanfeld@chumhum.com' }],
        gender: 'male',
        birthDate: '1998-03-19',
        address: [{ line: ['10 Field Jardin'], city: 'Long Eaton', postalCode: 'NG10 1ZZ' }],
      }),
    });
    const { id } = (await created.json()) as { id: string };
    const url = `http://127.0.0.1:${port}/STU3/Patient/${id}`;
    const sample = await fetch(url);
    const body = await sample.text();
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'etag', 'last-modified']) headers[h] = sample.headers.get(h) ?? '';
    const bodyFile = join(dir, 'body.json');
    writeFileSync(bodyFile, JSON.stringify({ body, headers }));
    const bare = await startBare(bodyFile);
    const bareUrl = `http://127.0.0.1:${bare.port}/STU3/Patient/${id}`;
    try {
      await measure('warm-up', url, { duration: 2 });
      await measure('warm-up', bareUrl, { duration: 2 });
      // This machine's speed drifts by ±10% over a minute: alternate the two targets and
      // take the median of the per-round ratios rather than one long run of each.
      const rows = [];
      const ratios: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const server = await measure(`ccri GET Patient/{id} (SQLite), round ${round}`, url, { duration });
        const ceiling = await measure(`bare node:http, same bytes, round ${round}`, bareUrl, { duration });
        rows.push(server, ceiling);
        ratios.push(server.requestsPerSecond / ceiling.requestsPerSecond);
      }
      const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
      return [
        `### Read by id (${new Date().toISOString().slice(0, 10)})`,
        '',
        `Machine: ${machine()}. autocannon, 10 connections, ${duration} s per target, ${ROUNDS} alternating rounds, loopback; each server in its own process.`,
        '',
        table(rows),
        '',
        `Ratios per round: ${ratios.map((r) => `${(r * 100).toFixed(0)}%`).join(', ')}. Median: **${(median * 100).toFixed(0)}%** of the bare server's requests per second (target ≥ 60%).`,
      ].join('\n');
    } finally {
      bare.stop();
    }
  } finally {
    ccri.stop();
    folder.remove();
  }
}
