import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccri } from '../helpers/cli.js';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { startRemote, type RemoteServer } from './remote-server.js';
import { CODES, DIABETES_VS, SCT } from './sample.js';

/**
 * The remote terminology server (issue 13): a second `ccri serve` holds a small SNOMED CT-shaped
 * code system and a value set over it, and the first server, configured with its URL, validates
 * writes and answers `:in`, `:not-in`, `:below` and `:above` through it; once it is stopped, a
 * write is only warned about and such a search is a 503 saying so. On each store.
 */

const CC_OBSERVATION = 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Observation-1';
const root = mkdtempSync(join(tmpdir(), 'ccri-tx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An Observation coded in SNOMED CT, claiming the Care Connect profile (so a code error is a 422). */
function observation(code: string, display: string, claim = true): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    ...(claim ? { meta: { profile: [CC_OBSERVATION] } } : {}),
    status: 'final',
    code: { coding: [{ system: SCT, code, display }] },
  };
}

const issuesOf = (res: { json: any }) => (res.json?.issue ?? []) as Array<{ severity: string; code: string; diagnostics: string; expression?: string[] }>;
const codeIssues = (res: { json: any }) => issuesOf(res).filter((i) => i.expression?.[0]?.startsWith('Observation.code'));

for (const kind of await storeKinds()) {
  describe(`a remote terminology server (${kind})`, () => {
    let remote: RemoteServer;
    let s: TestServer;
    const post = (body: unknown) => s.request('POST', '/STU3/Observation', { body, headers: { prefer: 'return=OperationOutcome' } });
    const search = async (query: string) => {
      const res = await s.request('GET', `/STU3/Observation?${query}&_count=50`);
      return { ...res, codes: res.status === 200 ? ((res.json.entry ?? []) as Array<{ resource: any }>).map((e) => e.resource.code.coding[0].code as string).sort() : [] };
    };

    beforeAll(async () => {
      remote = await startRemote(join(root, kind));
      s = await startTestServer(kind, { terminology: { url: remote.base, timeoutMs: 5000, cacheEntries: 1000, cacheTtl: 3600, systems: [SCT] } });
    }, 90_000);
    afterAll(async () => {
      await s?.cleanup();
      await remote?.stop();
    });

    it('validates a write through it: a valid code and display pass, an unknown code and a wrong display are the errors a local code system would give', async () => {
      const valid = await post(observation(CODES.type2, 'Type 2 diabetes mellitus'));
      expect(valid.status).toBe(201);
      expect(codeIssues(valid)).toEqual([]);
      // A synonym (a designation of the concept), in another case, is a right display too.
      const synonym = await post(observation(CODES.type2, 'diabetes mellitus TYPE 2'));
      expect(synonym.status).toBe(201);
      expect(codeIssues(synonym)).toEqual([]);

      // 22298006 is a well-formed SCTID, so only the terminology server can say it is unknown.
      const unknown = await post(observation(CODES.notHeld, 'Myocardial infarction'));
      expect(unknown.status).toBe(422);
      expect(codeIssues(unknown)).toEqual([
        expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: ['Observation.code.coding[0].code'], diagnostics: expect.stringContaining(`unknown code '${CODES.notHeld}' in the code system ${SCT}, says the terminology server ${remote.base}`) }),
      ]);
      const display = await post(observation(CODES.type2, 'Diabetes'));
      expect(display.status).toBe(422);
      expect(codeIssues(display)).toEqual([
        expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['Observation.code.coding[0].display'], diagnostics: expect.stringContaining("wrong display 'Diabetes' for http://snomed.info/sct#44054006: the code system's display is 'Type 2 diabetes mellitus'") }),
      ]);
      // Not claiming the profile: the same finding is a warning, and the resource is written.
      const unclaimed = await post(observation(CODES.notHeld, 'Myocardial infarction', false));
      expect(unclaimed.status).toBe(201);
      expect(codeIssues(unclaimed)).toEqual([expect.objectContaining({ severity: 'warning', code: 'code-invalid' })]);
    });

    it('checks the entries of a transaction Bundle (asked before its store transaction begins)', async () => {
      const bundle = (...resources: Array<Record<string, unknown>>) => ({ resourceType: 'Bundle', type: 'transaction', entry: resources.map((resource) => ({ resource, request: { method: 'POST', url: 'Observation' } })) });
      const refused = await s.request('POST', '/STU3', { body: bundle(observation(CODES.type1, 'Type 1 diabetes mellitus'), observation('40733004', 'Infectious disease')) });
      expect(refused.status).toBe(422);
      expect(JSON.stringify(refused.json)).toContain("unknown code '40733004' in the code system http://snomed.info/sct");
      const accepted = await s.request('POST', '/STU3', { body: bundle(observation(CODES.type1, 'Type 1 diabetes mellitus')) });
      expect(accepted.status).toBe(200);
      // Not kept: the searches below count the Observations written one by one.
      const id = /Observation\/([^/]+)\/_history/.exec(accepted.json.entry[0].response.location)![1];
      expect((await s.request('DELETE', `/STU3/Observation/${id}`)).status).toBe(204);
    });

    it('$validate asks it too', async () => {
      const res = await s.request('POST', '/STU3/Observation/$validate', { body: observation(CODES.asthma, 'Asthmaa') });
      expect(res.status).toBe(200);
      expect(codeIssues(res)).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid', diagnostics: expect.stringContaining("the code system's display is 'Asthma'") })]);
    });

    it('answers :below, :above, :in and :not-in through it', async () => {
      for (const [code, display] of [
        [CODES.type1, 'Type 1 diabetes mellitus'],
        [CODES.hypertension, 'Hypertensive disorder'],
        [CODES.asthma, 'Asthma'],
        [CODES.disease, 'Disease'],
      ] as const) {
        expect((await post(observation(code, display))).status).toBe(201);
      }
      // Written so far: type 2 (twice), the unknown code (unclaimed), type 1, hypertension, asthma, disease.
      const below = await search(`code:below=${SCT}|${CODES.diabetes}`);
      expect(below.status).toBe(200);
      expect(below.codes).toEqual([CODES.type2, CODES.type2, CODES.type1].sort());
      const above = await search(`code:above=${SCT}|${CODES.type2}`);
      expect(above.codes).toEqual([CODES.type2, CODES.type2, CODES.disease].sort());
      const inSet = await search(`code:in=${DIABETES_VS}`);
      expect(inSet.codes).toEqual(below.codes);
      const notIn = await search(`code:not-in=${DIABETES_VS}`);
      expect(notIn.codes).toEqual([CODES.notHeld, CODES.hypertension, CODES.asthma, CODES.disease].sort());
      // A value set neither server knows: the remote server's 404, as a 400 that says so.
      const unknown = await search('code:in=http://example.org/fhir/ValueSet/nowhere');
      expect(unknown.status).toBe(400);
      expect(unknown.json.issue[0].diagnostics).toContain(`the terminology server ${remote.base} could not expand the value set http://example.org/fhir/ValueSet/nowhere`);
    });

    it('once it is stopped: a write is warned about and written, a search that needs it is a 503 saying so, and answers cached before still serve', async () => {
      await remote.stop();
      // Neither code has been asked about before, so neither answer is cached.
      const written = await post(observation('49601007', 'Disorder of cardiovascular system'));
      expect(written.status).toBe(201);
      expect(codeIssues(written)).toEqual([
        expect.objectContaining({ severity: 'warning', code: 'transient', diagnostics: expect.stringContaining(`was not checked against its code system: the terminology server ${remote.base} is unavailable`) }),
      ]);
      const below = await search(`code:below=${SCT}|${CODES.disease}`);
      expect(below.status).toBe(503);
      expect(below.headers['retry-after']).toMatch(/^\d+$/);
      expect(below.json.issue[0]).toMatchObject({ severity: 'error', code: 'transient' });
      expect(below.json.issue[0].diagnostics).toContain(`the terminology server ${remote.base} is unavailable`);
      const inSet = await search('code:in=http://example.org/fhir/ValueSet/elsewhere');
      expect(inSet.status).toBe(503);
      // Answered before the stop: from the cache.
      const cached = await search(`code:below=${SCT}|${CODES.diabetes}`);
      expect(cached.status).toBe(200);
      expect(cached.codes).toEqual([CODES.type2, CODES.type2, CODES.type1].sort());
    });
  });
}

describe('ccri validate --tx', () => {
  let remote: RemoteServer;
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'cli');
    remote = await startRemote(dir);
    // A profile binding Observation.code to the value set only the remote server holds, and one
    // binding it to a local value set defined by an is-a filter on SNOMED CT (asked as an inline value set).
    const profile = (id: string, valueSet: string) => ({
      resourceType: 'StructureDefinition',
      url: `http://example.org/fhir/StructureDefinition/${id}`,
      name: id,
      status: 'draft',
      kind: 'resource',
      abstract: false,
      type: 'Observation',
      baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation',
      derivation: 'constraint',
      differential: { element: [{ id: 'Observation.code', path: 'Observation.code', binding: { strength: 'required', valueSetReference: { reference: valueSet } } }] },
    });
    const local = { resourceType: 'ValueSet', url: 'http://example.org/fhir/ValueSet/local-diseases', status: 'draft', compose: { include: [{ system: SCT, filter: [{ property: 'concept', op: 'is-a', value: CODES.disease }] }] } };
    writeFileSync(join(dir, 'profiles.json'), JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: profile('remote-diabetes', DIABETES_VS) }, { resource: profile('local-diseases', local.url) }, { resource: local }] }));
    for (const [name, code, display] of [
      ['type2', CODES.type2, 'Type 2 diabetes mellitus'],
      ['asthma', CODES.asthma, 'Asthma'],
      ['finding', CODES.clinicalFinding, 'Clinical finding'],
      ['unknown', CODES.notHeld, 'Myocardial infarction'],
    ] as const) {
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(observation(code, display, false)));
    }
  }, 90_000);
  afterAll(() => remote?.stop());

  const validate = (file: string, ...args: string[]) => ccri(['validate', join(dir, file), '--definitions', join(dir, 'profiles.json'), ...args]);

  it('checks codes and bindings with the remote server: valid ones pass, an unknown code and a code outside the value set are errors', () => {
    const tx = ['--tx', remote.base];
    const remoteProfile = ['--profile', 'http://example.org/fhir/StructureDefinition/remote-diabetes'];
    const localProfile = ['--profile', 'http://example.org/fhir/StructureDefinition/local-diseases'];
    const ok = validate('type2.json', ...tx, ...remoteProfile);
    expect(ok.stdout).toContain('1 resource in 1 file: 0 errors');
    expect(ok.status).toBe(0);
    const outside = validate('asthma.json', ...tx, ...remoteProfile);
    expect(outside.status).toBe(1);
    expect(outside.stdout).toMatch(new RegExp(`the code http://snomed.info/sct#${CODES.asthma} is not in the value set ${DIABETES_VS.replace(/[./]/g, '\\$&')}.*says the terminology server`));
    expect(validate('asthma.json', ...tx, ...localProfile).status).toBe(0);
    const above = validate('finding.json', ...tx, ...localProfile);
    expect(above.status).toBe(1);
    expect(above.stdout).toContain(`the code http://snomed.info/sct#${CODES.clinicalFinding} is not in the value set`);
    const unknown = validate('unknown.json', ...tx);
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toContain(`unknown code '${CODES.notHeld}' in the code system ${SCT}`);
    // Without a terminology server none of this can be told: the command passes them all.
    for (const [file, profile] of [['asthma.json', remoteProfile], ['finding.json', localProfile], ['unknown.json', []]] as const) {
      expect(validate(file, '--tx', 'off', ...profile).stdout).toContain('0 errors');
    }
  }, 120_000);

  it('with the server stopped: warnings that say so, and no errors', async () => {
    await remote.stop();
    const res = validate('unknown.json', '--tx', remote.base);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain(`the terminology server ${remote.base} is unavailable`);
    expect(res.stdout).toContain('0 errors, 1 warning');
  }, 60_000);
});
