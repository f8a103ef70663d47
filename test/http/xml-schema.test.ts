import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateStructure } from '../../src/validation/structure.js';
import { hasProgram, sharedPath } from '../helpers/shared.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * What the server itself writes as XML — search and history Bundles, a transaction
 * response, the generated CapabilityStatement, OperationOutcomes, the Care Connect
 * StructureDefinitions and demo resources — validates against the official STU3 schema.
 */
const xsdDir = sharedPath('fhir-stu3-examples', 'xsd');
const xmllint = hasProgram('xmllint', 'Debian package libxml2-utils');

describe('the server\'s XML validates against fhir-single.xsd', () => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    s = await startTestServer('sqlite', { demoData: true });
    dir = mkdtempSync(join(tmpdir(), 'ccri-xsd-'));
  });
  afterAll(async () => {
    await s.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!xsdDir || !xmllint)('for every kind of response', async () => {
    const xml = { accept: 'application/fhir+xml' };
    const tx = await s.request('POST', '/STU3', {
      headers: xml,
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: 'urn:uuid:6f0d7d42-6a8c-4a68-9b4c-6c7b8f0a1e01', resource: { resourceType: 'Organization', name: 'Elm Tree Surgery' }, request: { method: 'POST', url: 'Organization' } },
          { request: { method: 'GET', url: 'Patient?family=kanfeld' } },
        ],
      },
    });
    expect(tx.status).toBe(200);
    const paths = [
      '/STU3/metadata',
      '/STU3/Patient?family=kanfeld&_include=Patient:general-practitioner&_revinclude=Encounter:patient&_count=5',
      '/STU3/Observation?patient=1002&_count=3&_sort=-date',
      '/STU3/Patient?_summary=true&_count=2',
      '/STU3/Patient?nonsense=1&_count=1',
      '/STU3/Patient/1',
      '/STU3/Patient/1/_history',
      '/STU3/_history?_count=5',
      '/STU3/Patient/does-not-exist',
      '/STU3/StructureDefinition/CareConnect-Patient-1',
      '/STU3/ValueSet/CareConnect-EthnicCategory-1',
      '/STU3/Encounter?patient=4&_count=3',
      '/STU3/MedicationRequest?patient=1',
    ];
    const files: string[] = [];
    const save = (name: string, text: string) => {
      const file = join(dir, `${files.length}-${name}.xml`);
      writeFileSync(file, text);
      files.push(file);
    };
    save('transaction-response', tx.text);
    for (const p of paths) {
      const res = await s.request('GET', p, { headers: xml });
      expect(res.headers['content-type'], p).toBe('application/fhir+xml; charset=utf-8');
      save(p.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 60), res.text);
    }
    const run = spawnSync('xmllint', ['--noout', '--schema', join(xsdDir!, 'fhir-single.xsd'), ...files], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    expect(run.stderr.split('\n').filter((l) => l && !l.endsWith(' validates')).join('\n')).toBe('');
    expect(run.status).toBe(0);
  });

  it('and the same responses in JSON pass the server\'s own base checks', async () => {
    for (const p of ['/STU3/metadata', '/STU3/Patient?family=kanfeld&_include=*', '/STU3/_history?_count=5', '/STU3/StructureDefinition/CareConnect-Observation-1', '/STU3/Patient/nobody']) {
      const res = await s.request('GET', p);
      const errors = validateStructure(res.json).filter((i) => i.severity === 'error');
      expect(errors, p).toEqual([]);
    }
  });
});
