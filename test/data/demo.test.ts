import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { EVERYTHING } from '../../src/search/access.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createServer } from '../../src/server.js';
import { DEMO_PATIENT_IDS } from '../../src/data/demo.js';
import { projectRoot } from '../../src/fhir/definitions/cache.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The examples of docs/search.md written as whole requests (`Patient?family=kanf`,
 * `GET /STU3/Patient/1/*`), relative to the base. Bare parameters (`gender=|male`) are
 * syntax or counter-examples, tested against fixtures of their own in test/http.
 */
function searchDocExamples(): string[] {
  const text = readFileSync(join(projectRoot(), 'docs', 'search.md'), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    // An ellipsis marks a shape, not a request (`Location?address-postcode=…`).
    if (m[1]!.includes('…')) continue;
    const span = m[1]!.replace(/\\\|/g, '|');
    const get = span.startsWith('GET ');
    const r = span.replace(/^GET\s+/, '').replace(/^\/STU3/, '').replace(/^\//, '');
    if (/^([A-Z][A-Za-z]+(\/[^\s?]*)?)?\?[\w:.-]+=\S*$/.test(r) || (get && /^[\w$]/.test(r))) out.push(r);
  }
  return [...new Set(out)];
}

/**
 * The demo data set answers the Care Connect API documentation's example requests
 * as the documentation describes (explore/api_entity_*.md, build/build_patient_search.md),
 * and the examples of docs/search.md.
 */
describe('demo data set', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite', { demoData: true });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  const ids = async (url: string) => {
    const res = await server.request('GET', `/STU3/${url}`);
    expect(res.status, `${url}: ${res.text.slice(0, 300)}`).toBe(200);
    return (res.json.entry ?? []).map((e: { resource: { resourceType: string; id: string } }) => `${e.resource.resourceType}/${e.resource.id}`);
  };

  it('loads about 100 patients on the first start of an empty store', async () => {
    const counts = await server.store.counts();
    expect(counts.get('Patient')).toBe(DEMO_PATIENT_IDS.length + 1);
    expect(counts.get('Observation')).toBeGreaterThan(1000);
    expect(counts.get('Encounter')).toBeGreaterThan(200);
  });

  it.each([
    'Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210',
    'Patient?family=kanfeld',
    'Patient?family=KanFelD',
    'Patient?given=bernie',
    'Patient?name=bernie%20kanfeld',
    'Patient?email=bernie.kanfeld@chumhum.com',
    'Patient?address-postalcode=NG10%201ZZ',
    'Patient?phone=07999123456',
    'Patient?birthdate=1998-03-19&name=bernie',
    'Patient?gender=female&family=kanfeld',
  ])('%s finds Bernie Kanfeld', async (url) => {
    expect(await ids(url)).toEqual(['Patient/1']);
  });

  it('finds patients by gender (the original answered gender=male with nothing)', async () => {
    const male = await server.request('GET', '/STU3/Patient?gender=male&_count=100');
    expect(male.json.entry.length).toBeGreaterThan(20);
    expect(male.json.entry.every((e: { resource: { gender: string } }) => e.resource.gender === 'male')).toBe(true);
  });

  it('serves Bernie\'s discharge letter of 2011 as the Binary the documentation reads', async () => {
    const res = await server.request('GET', '/STU3/Binary/5b1e91f0ccf84d0001fffe6d');
    expect(res.status).toBe(200);
    expect(res.json.contentType).toBe('application/pdf');
    expect(Buffer.from(res.json.content, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('gives Bernie the documented details', async () => {
    const res = await server.request('GET', '/STU3/Patient/1');
    const p = res.json;
    expect(p.name[0]).toMatchObject({ use: 'official', family: 'Kanfeld', given: ['Bernie'] });
    expect(p.gender).toBe('female');
    expect(p.birthDate).toBe('1998-03-19');
    expect(p.managingOrganization).toEqual({ reference: 'Organization/1', display: 'Moir Medical Centre' });
    expect(p.identifier[0].extension[0].valueCodeableConcept.coding[0].code).toBe('01');
  });

  it.each([
    ['Organization/1', 'Organization'],
    ['Practitioner?identifier=https://fhir.nhs.uk/Id/sds-user-id|123456', 'Practitioner/1'],
    ['Practitioner?identifier=G8133438', 'Practitioner/1'],
    ['Practitioner?address-postalcode=NG10%201QQ', 'Practitioner/1'],
    ['PractitionerRole?practitioner=1', 'PractitionerRole/1'],
    ['PractitionerRole?organization=1', 'PractitionerRole/1'],
    ['PractitionerRole?identifier=https://fhir.nhs.uk/Id/sds-user-id|123456', 'PractitionerRole/1'],
    ['Organization?identifier=https://fhir.nhs.uk/Id/ods-organization-code|RTG', 'Organization/2'],
    ['Organization?identifier=C81010', 'Organization/1'],
    ['Organization?name=Derby%20Teaching%20Hospitals%20NHS%20Trust', 'Organization/2'],
    ['Location?identifier=https://fhir.nhs.uk/Id/ods-site-code|RTG08', 'Location/1'],
    ['Location?identifier=RTG08', 'Location/1'],
    ['Location?address-postalcode=NG10%201RY', 'Location/1'],
    ['Medication?code=320141001', 'Medication/1'],
  ])('%s answers as documented', async (url, expected) => {
    if (!url.includes('?')) {
      const res = await server.request('GET', `/STU3/${url}`);
      expect(res.status).toBe(200);
      expect(res.json.resourceType).toBe(expected);
      return;
    }
    expect(await ids(url)).toContain(expected);
  });

  it.each([
    'AllergyIntolerance?patient=1', 'Condition?patient=1', 'Procedure?patient=1', 'Immunization?patient=1',
    'MedicationRequest?patient=1', 'MedicationStatement?patient=1', 'MedicationRequest?medication=1',
    'Encounter?patient=4', 'Observation?patient=1002',
    'Condition?patient.identifier=https://fhir.nhs.uk/Id/nhs-number%7C9876543210',
    'DocumentReference?patient=1173', 'DocumentReference?type=http://snomed.info/sct|373942005',
    'DocumentReference?setting=http://snomed.info/sct|893061000000109', 'Flag?patient=1', 'DiagnosticReport?patient=1',
    'Composition?patient=1', 'FamilyMemberHistory?patient=1', 'Patient?family=Delgado&birthdate=1942-01-30',
    'DocumentReference?patient=1&period=ge2010-01-01&period=le2011-12-31', 'Observation?patient=1&date=ge2010-01-01&date=le2011-12-31',
  ])('%s returns records', async (url) => {
    expect((await ids(url)).length).toBeGreaterThan(0);
  });

  const examples = searchDocExamples();

  it('finds the examples of docs/search.md', () => {
    expect(examples.length).toBeGreaterThan(25);
    expect(examples).toContain('Observation?patient.general-practitioner.name=bhatia');
  });

  it.each(examples)('docs/search.md: %s finds something', async (request) => {
    const url = `/STU3${request.startsWith('?') ? '' : '/'}${request}`.replace(/[^\x21-\x7e]/g, encodeURIComponent);
    const res = await server.request('GET', url, { headers: { prefer: 'handling=strict' } });
    expect(res.status, `${request}: ${res.text.slice(0, 300)}`).toBe(200);
    if (res.json.resourceType === 'Bundle') {
      expect(res.json.entry?.filter((e: { search?: { mode?: string } }) => e.search?.mode !== 'outcome').length ?? 0, request).toBeGreaterThan(0);
    }
  });

  it('makes a clinician and a patient user (Bernie Kanfeld) whose generated passwords sign in', async () => {
    const { authenticate } = await import('../../src/auth/server/users.js');
    expect(server.demoUsers.map((u) => u.username)).toEqual(['clinician', 'bernie']);
    for (const u of server.demoUsers) expect(u.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const [clinician, bernie] = server.demoUsers;
    expect(await authenticate(server.store.auth(), 'clinician', clinician!.password)).toMatchObject({ practitioner: '3' });
    expect(await authenticate(server.store.auth(), 'bernie', bernie!.password)).toMatchObject({ patient: '1' });
    expect(await authenticate(server.store.auth(), 'bernie', clinician!.password)).toBeUndefined();
    expect((await server.store.reader(EVERYTHING).read('Practitioner', '3'))?.json).toContain('Marsden');
  });

  it('does not load the demo data again into a store that holds resources', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccri-demo-'));
    try {
      const config = loadConfig({ dataDir: dir, demoData: true, cursorSecret: 'x' }, {});
      const first = await createServer(config, { logger: false });
      const counts = await first.store.counts();
      expect(first.demoUsers.map((u) => u.username)).toEqual(['clinician', 'bernie']);
      await first.close();
      const second = await createServer(config, { logger: false });
      expect(await second.store.counts()).toEqual(counts);
      expect(second.demoUsers).toEqual([]);
      expect((await second.store.reader(EVERYTHING).read('Patient', '1'))?.version).toBe(1);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
