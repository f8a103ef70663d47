import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestResponse, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/**
 * Issue 11: every request on both bases leaves exactly one AuditEvent, refused ones too,
 * with the right subtype, action, outcome, agents, entities and patient entities. Each
 * request's event is found by its request id (X-Request-Id), through the secure base's
 * own search, as an auditor would.
 */

const SECURE = 'http://localhost:8080/secure/STU3';
const NHS = 'https://fhir.nhs.uk/Id/nhs-number';

interface AuditEvent {
  id: string;
  subtype: Array<{ code: string }>;
  action: string;
  outcome: string;
  outcomeDesc?: string;
  agent: Array<{ requestor: boolean; userId?: { value: string }; reference?: { reference: string }; altId?: string; network?: { address: string } }>;
  source: { site: string; identifier: { value: string } };
  entity: Array<{ reference?: { reference: string }; identifier?: { system: string; value: string }; role?: { code: string }; query?: string; lifecycle?: { code: string } }>;
}

interface Case {
  name: string;
  base: 'open' | 'secure';
  method: string;
  path: string;
  body?: unknown;
  token?: 'reader' | 'writer' | 'narrow' | 'bad';
  status: number;
  subtype: string;
  action: string;
  outcome: '0' | '4' | '8';
  /** Versioned references the event names as read (r) or written (w). */
  entities?: Array<[string, 'read' | 'written' | 'deleted']>;
  /** Patients the event names, with their NHS numbers where they have one. */
  patients?: Array<[string, string?]>;
  /** Whether the event carries the query (searches, operations, history). */
  query?: boolean;
}

const PATIENT_A = { resourceType: 'Patient', id: 'pa', identifier: [{ system: NHS, value: '9000000009' }], name: [{ family: 'Audited', given: ['Alice'] }], gender: 'female' };
const PATIENT_B = { resourceType: 'Patient', id: 'pb', name: [{ family: 'Audited', given: ['Bob'] }], gender: 'male' };
const obs = (id: string, patient: string) => ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: `Patient/${patient}` }, valueQuantity: { value: 70, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } });

const CASES: Case[] = [
  { name: 'read', base: 'open', method: 'GET', path: 'Patient/pa', status: 200, subtype: 'read', action: 'R', outcome: '0', entities: [['Patient/pa/_history/1', 'read']], patients: [['pa', '9000000009']] },
  { name: 'vread', base: 'open', method: 'GET', path: 'Observation/oa/_history/1', status: 200, subtype: 'vread', action: 'R', outcome: '0', entities: [['Observation/oa/_history/1', 'read']], patients: [['pa', '9000000009']] },
  {
    name: 'search over two patients names both',
    base: 'open',
    method: 'GET',
    path: 'Observation?code=http://loinc.org|8867-4',
    status: 200,
    subtype: 'search-type',
    action: 'E',
    outcome: '0',
    entities: [['Observation/oa/_history/1', 'read'], ['Observation/ob/_history/1', 'read']],
    patients: [['pa', '9000000009'], ['pb']],
    query: true,
  },
  { name: 'system search', base: 'open', method: 'GET', path: '?_type=Patient&family=audited', status: 200, subtype: 'search-system', action: 'E', outcome: '0', patients: [['pa', '9000000009'], ['pb']], query: true },
  { name: 'compartment search', base: 'open', method: 'GET', path: 'Patient/pb/Observation', status: 200, subtype: 'search-type', action: 'E', outcome: '0', entities: [['Observation/ob/_history/1', 'read']], patients: [['pb']], query: true },
  { name: 'history', base: 'open', method: 'GET', path: 'Patient/pb/_history', status: 200, subtype: 'history-instance', action: 'R', outcome: '0', entities: [['Patient/pb/_history/1', 'read']], patients: [['pb']], query: true },
  { name: 'capabilities', base: 'open', method: 'GET', path: 'metadata', status: 200, subtype: 'capabilities', action: 'R', outcome: '0' },
  { name: 'create', base: 'open', method: 'POST', path: 'Observation', body: { ...obs('x', 'pa'), id: undefined }, status: 201, subtype: 'create', action: 'C', outcome: '0', patients: [['pa', '9000000009']] },
  { name: 'update', base: 'open', method: 'PUT', path: 'Observation/oa', body: { ...obs('oa', 'pa'), status: 'amended' }, status: 200, subtype: 'update', action: 'U', outcome: '0', entities: [['Observation/oa/_history/2', 'written']], patients: [['pa', '9000000009']] },
  { name: 'delete', base: 'open', method: 'DELETE', path: 'Observation/od', status: 204, subtype: 'delete', action: 'D', outcome: '0', entities: [['Observation/od/_history/2', 'deleted']], patients: [['pb']] },
  {
    name: 'transaction',
    base: 'open',
    method: 'POST',
    path: '',
    body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: obs('t1', 'pb'), request: { method: 'PUT', url: 'Observation/t1' } }] },
    status: 200,
    subtype: 'transaction',
    action: 'E',
    outcome: '0',
    entities: [['Observation/t1/_history/1', 'written']],
    patients: [['pb']],
  },
  {
    name: 'batch',
    base: 'open',
    method: 'POST',
    path: '',
    body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/pa' } }, { request: { method: 'GET', url: 'Patient/nope' } }] },
    status: 200,
    subtype: 'batch',
    action: 'E',
    outcome: '0',
    entities: [['Patient/pa/_history/1', 'read']],
    patients: [['pa', '9000000009']],
  },
  { name: 'operation', base: 'open', method: 'POST', path: 'Patient/$validate', body: PATIENT_B, status: 200, subtype: 'operation', action: 'E', outcome: '0', query: true },
  // Refused and failed requests.
  { name: 'read of a missing resource (404)', base: 'open', method: 'GET', path: 'Patient/missing', status: 404, subtype: 'read', action: 'R', outcome: '4' },
  { name: 'a bad search parameter (400)', base: 'open', method: 'GET', path: 'Patient?nonsense=1', status: 400, subtype: 'search-type', action: 'E', outcome: '4', query: true },
  { name: 'a write to AuditEvent (405)', base: 'open', method: 'POST', path: 'AuditEvent', body: { resourceType: 'AuditEvent' }, status: 405, subtype: 'create', action: 'C', outcome: '4' },
  { name: 'AuditEvent on the open base (404)', base: 'open', method: 'GET', path: 'AuditEvent', status: 404, subtype: 'search-type', action: 'E', outcome: '4', query: true },
  { name: 'an invalid resource (400)', base: 'open', method: 'POST', path: 'Patient', body: { resourceType: 'Patient', gender: 'banana' }, status: 400, subtype: 'create', action: 'C', outcome: '4' },
  { name: 'secure: no token (401)', base: 'secure', method: 'GET', path: 'Patient/pa', status: 401, subtype: 'read', action: 'R', outcome: '4' },
  { name: 'secure: a bad token (401)', base: 'secure', method: 'GET', path: 'Patient/pa', token: 'bad', status: 401, subtype: 'read', action: 'R', outcome: '4' },
  { name: 'secure: a scope that does not allow it (403)', base: 'secure', method: 'GET', path: 'Patient/pa', token: 'narrow', status: 403, subtype: 'read', action: 'R', outcome: '4' },
  { name: 'secure: read', base: 'secure', method: 'GET', path: 'Patient/pa', token: 'reader', status: 200, subtype: 'read', action: 'R', outcome: '0', entities: [['Patient/pa/_history/1', 'read']], patients: [['pa', '9000000009']] },
  { name: 'secure: search', base: 'secure', method: 'GET', path: 'Patient?family=audited', token: 'reader', status: 200, subtype: 'search-type', action: 'E', outcome: '0', patients: [['pa', '9000000009'], ['pb']], query: true },
  { name: 'secure: create', base: 'secure', method: 'POST', path: 'Observation', body: { ...obs('y', 'pb'), id: undefined }, token: 'writer', status: 201, subtype: 'create', action: 'C', outcome: '0', patients: [['pb']] },
  { name: 'secure: a write with a read scope (403)', base: 'secure', method: 'POST', path: 'Observation', body: { ...obs('y', 'pb'), id: undefined }, token: 'reader', status: 403, subtype: 'create', action: 'C', outcome: '4' },
];

for (const kind of await storeKinds()) {
  describe(`every request leaves one AuditEvent (${kind})`, () => {
    let s: TestServer;
    let issuer: TestIssuer;
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      issuer = await testIssuer(SECURE);
      s = await startTestServer(kind, { nodeName: 'node-a' }, undefined, undefined, issuer);
      const put = async (r: { resourceType: string; id: string }) => expect((await s.request('PUT', `/STU3/${r.resourceType}/${r.id}`, { body: r })).status).toBe(201);
      for (const r of [PATIENT_A, PATIENT_B, obs('oa', 'pa'), obs('ob', 'pb'), obs('od', 'pb')]) await put(r);
      tokens.reader = await issuer.token({ scope: 'user/*.read', sub: 'helen', client_id: 'app-1', fhirUser: 'Practitioner/p3' });
      tokens.writer = await issuer.token({ scope: 'user/*.*', sub: 'helen', client_id: 'app-1', fhirUser: 'Practitioner/p3' });
      tokens.narrow = await issuer.token({ scope: 'user/Observation.read', sub: 'helen', client_id: 'app-1' });
      tokens.bad = `${tokens.reader.slice(0, -4)}AAAA`;
      tokens.auditor = await issuer.token({ scope: 'user/AuditEvent.read', sub: 'auditor', client_id: 'audit-app' });
    });
    afterAll(async () => s?.cleanup());

    /** The AuditEvents of a request, by its id, asked of the secure base by an auditor. */
    const eventsOf = async (requestId: string): Promise<AuditEvent[]> => {
      const res = await s.request('GET', `/secure/STU3/AuditEvent?entity-id=${encodeURIComponent(`urn:ccri:request-id|${requestId}`)}`, { headers: { authorization: `Bearer ${tokens.auditor}` } });
      expect(res.status, res.text).toBe(200);
      return ((res.json.entry ?? []) as Array<{ resource: AuditEvent }>).map((e) => e.resource);
    };

    for (const c of CASES) {
      it(c.name, async () => {
        const headers: Record<string, string> = {};
        if (c.token) headers.authorization = `Bearer ${tokens[c.token]}`;
        const url = `${c.base === 'open' ? '/STU3' : '/secure/STU3'}${c.path ? `/${c.path}` : ''}`.replace(/\/\?/, '?');
        const res: TestResponse = await s.request(c.method, url, { ...(c.body !== undefined ? { body: c.body } : {}), headers });
        expect(res.status, res.text).toBe(c.status);
        const requestId = String(res.headers['x-request-id']);
        const events = await eventsOf(requestId);
        expect(events).toHaveLength(1);
        const e = events[0]!;
        expect(e.subtype[0]!.code).toBe(c.subtype);
        expect(e.action).toBe(c.action);
        expect(e.outcome).toBe(c.outcome);
        if (c.outcome !== '0') expect(e.outcomeDesc).toMatch(new RegExp(`^${c.status}`));
        // Who: the requestor, with the token's user and fhirUser; the app; the address.
        const requestor = e.agent.find((a) => a.requestor)!;
        expect(requestor.network?.address).toBe('127.0.0.1');
        if (c.token && c.token !== 'bad') {
          expect(requestor.userId?.value).toBe('helen');
          expect(e.agent.find((a) => !a.requestor)?.altId).toBe('app-1');
        } else {
          expect(requestor.userId).toBeUndefined();
        }
        if (c.token === 'reader' || c.token === 'writer') expect(requestor.reference?.reference).toBe('Practitioner/p3');
        expect(e.source.identifier.value).toBe(c.base === 'open' ? 'http://localhost:8080/STU3' : SECURE);
        expect(e.source.site).toBe('node-a');
        // What: the resources read or written, the query, whose data it was.
        const touched = e.entity.filter((x) => x.role?.code === '4');
        for (const [ref, how] of c.entities ?? []) {
          const found = touched.find((x) => x.reference?.reference === ref);
          expect(found, `${ref} in ${JSON.stringify(touched.map((t) => t.reference?.reference))}`).toBeDefined();
          expect(found!.lifecycle?.code).toBe(how === 'read' ? '6' : how === 'deleted' ? '14' : '1');
        }
        if (c.outcome !== '0') expect(touched).toEqual([]);
        if (c.subtype === 'create' && c.outcome === '0') expect(touched.map((t) => t.lifecycle?.code)).toEqual(['1']);
        const patients = e.entity.filter((x) => x.role?.code === '1');
        expect(patients.map((p) => [p.reference?.reference.replace('Patient/', ''), p.identifier?.value]).sort()).toEqual((c.patients ?? []).map(([id, nhs]) => [id, nhs]).sort());
        const query = e.entity.find((x) => x.role?.code === '24');
        if (c.query) {
          const asked = Buffer.from(query!.query!, 'base64').toString('utf8');
          expect(asked.startsWith(`${c.method} `)).toBe(true);
          expect(decodeURIComponent(asked)).toContain(c.path.split('?')[0]!.split('/')[0]);
        } else {
          expect(query).toBeUndefined();
        }
        // Never a token, a password or a body.
        const text = JSON.stringify(e);
        for (const t of Object.values(tokens)) expect(text).not.toContain(t.slice(-40));
        if (c.body) expect(text).not.toContain('"valueQuantity"');
      });
    }

    it('names every patient of a search (30 patients, 30 patient entities)', async () => {
      const entry = Array.from({ length: 30 }, (_, i) => ({ resource: { resourceType: 'Patient', id: `many-${i}`, name: [{ family: 'Manyfold' }] }, request: { method: 'PUT', url: `Patient/many-${i}` } }));
      expect((await s.request('POST', '/STU3', { body: { resourceType: 'Bundle', type: 'transaction', entry } })).status).toBe(200);
      const res = await s.request('GET', '/STU3/Patient?family=manyfold&_count=50');
      expect(res.json.entry).toHaveLength(30);
      const [e] = await eventsOf(String(res.headers['x-request-id']));
      expect(e!.entity.filter((x) => x.role?.code === '1')).toHaveLength(30);
    });

    it('carries the request id sent, when it is well-formed, and makes one otherwise', async () => {
      const mine = await s.request('GET', '/STU3/Patient/pa', { headers: { 'x-request-id': 'client-chosen-id-42' } });
      expect(mine.headers['x-request-id']).toBe('client-chosen-id-42');
      expect(await eventsOf('client-chosen-id-42')).toHaveLength(1);
      const bad = await s.request('GET', '/STU3/Patient/pa', { headers: { 'x-request-id': 'no spaces or <tags> allowed' } });
      expect(bad.headers['x-request-id']).not.toBe('no spaces or <tags> allowed');
      expect(await eventsOf(String(bad.headers['x-request-id']))).toHaveLength(1);
    });

    it('gives events ids that sort in the order they were recorded (UUID version 7, src/fhir/ids.ts)', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await s.request('GET', '/STU3/Patient/pa');
        const [e] = await eventsOf(String(res.headers['x-request-id']));
        ids.push(e!.id!);
      }
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect([...ids].sort()).toEqual(ids);
    });

    it('keeps the chain verifiable after all of it', async () => {
      expect(await s.store.audit().verify()).toEqual([]);
      const [head] = await s.store.audit().heads();
      expect(head!.n).toBeGreaterThan(CASES.length);
    });
  });
}
