import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type ValidationSetting } from '../../src/config.js';
import type { Logger } from '../../src/interactions/types.js';
import { createServer, type Server } from '../../src/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CC_PATIENT, goodPatient } from './careconnect-source.js';

/**
 * $validate over HTTP (https://hl7.org/fhir/STU3/resource-operations.html#validate),
 * and validation on write in each setting of CCRI_VALIDATION, with the server's own
 * Care Connect definitions (src/profiles).
 */

const badNhsNumber = () => {
  const p = goodPatient() as Record<string, any>;
  delete p.id;
  p.identifier[0].value = '9876543211';
  return p;
};
const unclaimed = (p: Record<string, any>) => {
  delete p.meta;
  return p;
};
const params = (...parts: Array<Record<string, unknown>>) => ({ resourceType: 'Parameters', parameter: parts });

describe('$validate', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('sqlite');
  });
  afterAll(() => s.cleanup());

  it('type level, the resource as the body: 200 with the issues', async () => {
    const r = await s.request('POST', '/STU3/Patient/$validate', { body: badNhsNumber() });
    expect(r.status).toBe(200);
    expect(r.json.resourceType).toBe('OperationOutcome');
    expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'value', expression: ['Patient.identifier[0].value'] }));
  });

  it('an all-clear information issue when nothing is wrong', async () => {
    const r = await s.request('POST', '/STU3/Patient/$validate', { body: goodPatient() });
    expect(r.status).toBe(200);
    expect(r.json.issue).toEqual([expect.objectContaining({ severity: 'information', code: 'informational', diagnostics: expect.stringMatching(/No issues were found/) })]);
  });

  it('a Parameters body with resource and profile parts', async () => {
    const body = params({ name: 'resource', resource: unclaimed(badNhsNumber()) }, { name: 'profile', valueUri: CC_PATIENT });
    const r = await s.request('POST', '/STU3/Patient/$validate', { body });
    expect(r.status).toBe(200);
    expect(r.json.issue.some((i: any) => i.severity === 'error' && /NHS number/.test(i.diagnostics))).toBe(true);
    // Without the profile part, only the base checks (the NHS number rule is one of them).
    const plain = await s.request('POST', '/STU3/Patient/$validate', { body: params({ name: 'resource', resource: { resourceType: 'Patient', gender: 'male' } }) });
    expect(plain.json.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
  });

  it('the profile as a query parameter, in XML', async () => {
    const xml = '<Patient xmlns="http://hl7.org/fhir"><gender value="male"/></Patient>';
    const r = await s.request('POST', `/STU3/Patient/$validate?profile=${encodeURIComponent(CC_PATIENT)}`, { body: xml, headers: { 'content-type': 'application/fhir+xml', accept: 'application/fhir+json' } });
    expect(r.status).toBe(200);
    expect(r.json.issue.some((i: any) => i.severity === 'error' && /slice 'official'/.test(i.diagnostics))).toBe(true);
  });

  it('mode create checks against the type\'s Care Connect profile', async () => {
    const body = params({ name: 'resource', resource: { resourceType: 'Patient', gender: 'male' } }, { name: 'mode', valueCode: 'create' });
    const r = await s.request('POST', '/STU3/Patient/$validate', { body });
    expect(r.json.issue.some((i: any) => i.severity === 'error' && /CareConnect-Patient-1/.test(i.diagnostics))).toBe(true);
  });

  it('instance level: GET validates the stored resource; POST a new version; mode delete', async () => {
    const created = await s.request('POST', '/STU3/Patient', { body: { resourceType: 'Patient', gender: 'female' } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const get = await s.request('GET', `/STU3/Patient/${id}/$validate`);
    expect(get.status).toBe(200);
    expect(get.json.issue).toEqual([expect.objectContaining({ severity: 'information' })]);
    const post = await s.request('POST', `/STU3/Patient/${id}/$validate?mode=update`, { body: { resourceType: 'Patient', id: 'other', gender: 'x' } });
    expect(post.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['Patient.id'] }));
    expect(post.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: ['Patient.gender'] }));
    const del = await s.request('POST', `/STU3/Patient/${id}/$validate`, { body: params({ name: 'mode', valueCode: 'delete' }) });
    expect(del.json.issue).toEqual([expect.objectContaining({ severity: 'information', diagnostics: `Patient/${id} can be deleted` })]);
  });

  it('errors of the request itself', async () => {
    expect((await s.request('GET', '/STU3/Patient/nope/$validate')).status).toBe(404);
    expect((await s.request('POST', '/STU3/Patient/$validate', { body: { resourceType: 'Observation' } })).status).toBe(400);
    expect((await s.request('POST', '/STU3/Patient/$validate?mode=merge', { body: { resourceType: 'Patient' } })).status).toBe(400);
    expect((await s.request('POST', '/STU3/Patient/$validate')).status).toBe(400);
    expect((await s.request('DELETE', '/STU3/Patient/$validate')).status).toBe(405);
  });

  it('is declared in the CapabilityStatement', async () => {
    const r = await s.request('GET', '/STU3/metadata');
    expect(r.json.rest[0].operation).toContainEqual({ name: 'validate', definition: { reference: 'http://localhost:8080/STU3/OperationDefinition/Resource-validate' } });
    const def = await s.request('GET', '/STU3/OperationDefinition/Resource-validate');
    expect(def.json.base).toEqual({ reference: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' });
  });
});

/** A server with the given validation setting, whose warnings are captured. */
async function serverWith(validation: ValidationSetting): Promise<{ server: Server; warnings: string[]; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ccri-validate-'));
  const warnings: string[] = [];
  const logger: Logger = { info: () => undefined, error: () => undefined, warn: (obj, msg) => void warnings.push(typeof obj === 'string' ? obj : (msg ?? JSON.stringify(obj))), child: () => logger };
  const server = await createServer(loadConfig({ demoData: false, cursorSecret: 'test', dataDir: dir, validation }, {}), { logger });
  return { server, warnings, cleanup: async () => (await server.close(), rmSync(dir, { recursive: true, force: true })) };
}

async function post(server: Server, url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await server.app.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/fhir+json', ...headers } });
  return { status: res.statusCode, json: JSON.parse(res.body) as any };
}

describe('validation on write (CCRI_VALIDATION)', () => {
  const settings: ValidationSetting[] = ['off', 'warn', 'enforce', 'claimed'];
  const servers = new Map<ValidationSetting, Awaited<ReturnType<typeof serverWith>>>();
  beforeAll(async () => {
    for (const v of settings) servers.set(v, await serverWith(v));
  });
  afterAll(async () => {
    for (const s of servers.values()) await s.cleanup();
  });

  // [setting, claims CareConnect-Patient-1, expected status]
  it.each([
    ['off', true, 201],
    ['warn', true, 201],
    ['enforce', true, 422],
    ['claimed', true, 422],
    ['off', false, 201],
    ['warn', false, 201],
    ['enforce', false, 422],
    ['claimed', false, 201],
  ] as const)('%s, claiming the profile %s: %i', async (setting, claims, status) => {
    const { server, warnings } = servers.get(setting)!;
    const before = warnings.length;
    const body = claims ? badNhsNumber() : unclaimed(badNhsNumber());
    const r = await post(server, '/STU3/Patient', body);
    expect(r.status).toBe(status);
    if (status === 422) {
      expect(r.json.resourceType).toBe('OperationOutcome');
      expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'error', code: 'value', expression: ['Patient.identifier[0].value'] }));
    }
    if (status === 201 && setting !== 'off') expect(warnings.length).toBe(before + 1);
    if (setting === 'off') expect(warnings.length).toBe(before);
  });

  it('warn: the problems come back with Prefer: return=OperationOutcome', async () => {
    const { server, warnings } = servers.get('warn')!;
    const r = await post(server, '/STU3/Patient', badNhsNumber(), { prefer: 'return=OperationOutcome' });
    expect(r.status).toBe(201);
    expect(r.json.issue[0]).toEqual(expect.objectContaining({ severity: 'information', diagnostics: expect.stringMatching(/^Created Patient\//) }));
    // The write succeeded, so what was wrong with it is a warning (an error would say it failed).
    expect(r.json.issue).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'value', expression: ['Patient.identifier[0].value'] }));
    expect(r.json.issue.filter((i: any) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    expect(warnings.at(-1)).toMatch(/Patient does not conform to .*CareConnect-Patient-1/);
  });

  it('enforce: a conforming resource is written', async () => {
    const r = await post(servers.get('enforce')!.server, '/STU3/Patient', goodPatient());
    expect(r.status).toBe(201);
  });

  it('update and transaction entries are validated in the same place', async () => {
    const { server } = servers.get('enforce')!;
    const put = await server.app.inject({ method: 'PUT', url: '/STU3/Patient/p1', payload: JSON.stringify({ ...badNhsNumber(), id: 'p1' }), headers: { 'content-type': 'application/fhir+json' } });
    expect(put.statusCode).toBe(422);
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: 'urn:uuid:3f1c7a52-9e4b-4d0a-8c61-2b7e5d9a0f14', resource: badNhsNumber(), request: { method: 'POST', url: 'Patient' } }] };
    const tx = await post(server, '/STU3', bundle);
    expect(tx.status).toBe(422);
    expect(tx.json.issue[0].diagnostics).toMatch(/Transaction failed on Bundle.entry\[0\]/);
  });
});
