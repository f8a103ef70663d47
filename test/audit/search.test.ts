import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/**
 * Issue 11: the audit trail is searchable as FHIR on the secure base by those allowed,
 * with the STU3 AuditEvent parameters, both formats and paging; the open base never
 * serves it; a `patient/` token sees only the events about its own patient.
 */

const SECURE = 'http://localhost:8080/secure/STU3';

interface Bundle {
  total?: number;
  entry?: Array<{ resource: { resourceType: string; id: string; entity?: Array<{ reference?: { reference: string } }>; agent?: Array<{ userId?: { value: string } }> } }>;
  link?: Array<{ relation: string; url: string }>;
}

for (const kind of await storeKinds()) {
  describe(`searching the audit trail (${kind})`, () => {
    let s: TestServer;
    let issuer: TestIssuer;
    let auditor: string;
    const started = new Date(Date.now() - 1000).toISOString();

    beforeAll(async () => {
      issuer = await testIssuer(SECURE);
      s = await startTestServer(kind, { nodeName: 'search-node' }, undefined, undefined, issuer);
      for (const id of ['a', 'b']) {
        await s.request('PUT', `/STU3/Patient/${id}`, { body: { resourceType: 'Patient', id, name: [{ family: `Family${id}` }] } });
        await s.request('PUT', `/STU3/Observation/o${id}`, { body: { resourceType: 'Observation', id: `o${id}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${id}` } } });
      }
      // Helen reads patient a's record on the secure base; Bob reads b's.
      const helen = await issuer.token({ scope: 'user/*.read', sub: 'helen', client_id: 'ward-app', fhirUser: 'Practitioner/helen' });
      const bob = await issuer.token({ scope: 'user/*.read', sub: 'bob', client_id: 'ward-app' });
      expect((await s.request('GET', '/secure/STU3/Observation?subject=Patient/a', { headers: { authorization: `Bearer ${helen}` } })).status).toBe(200);
      expect((await s.request('GET', '/secure/STU3/Patient/b', { headers: { authorization: `Bearer ${bob}` } })).status).toBe(200);
      auditor = await issuer.token({ scope: 'user/AuditEvent.read', sub: 'auditor' });
    });
    afterAll(async () => s?.cleanup());

    const asAuditor = async (query: string, token = auditor, accept?: string): Promise<{ status: number; bundle: Bundle; text: string }> => {
      const res = await s.request('GET', `/secure/STU3/AuditEvent${query}`, { headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
      return { status: res.status, bundle: res.json as Bundle, text: res.text };
    };
    const users = (b: Bundle) => new Set((b.entry ?? []).flatMap((e) => (e.resource.agent ?? []).map((a) => a.userId?.value).filter(Boolean)));

    it('is never served on the open base', async () => {
      for (const url of ['/STU3/AuditEvent', '/STU3/AuditEvent?patient=Patient/a', '/STU3/Patient/a/AuditEvent', '/STU3/AuditEvent/x']) {
        const res = await s.request('GET', url);
        expect(res.status, url).toBe(404);
        expect(res.json.resourceType).toBe('OperationOutcome');
      }
      // Nor by the side doors: a system search naming it, a _revinclude, a compartment wildcard.
      for (const url of ['/STU3?_type=AuditEvent', '/STU3/Patient?_id=a&_revinclude=AuditEvent:patient', '/STU3/Patient/a/*', '/STU3/_history']) {
        const res = await s.request('GET', url);
        const types = ((res.json as Bundle).entry ?? []).map((e) => e.resource.resourceType);
        expect(types, url).not.toContain('AuditEvent');
      }
      const cs = (await s.request('GET', '/STU3/metadata')).json as { rest: Array<{ resource: Array<{ type: string }> }> };
      expect(cs.rest[0]!.resource.map((r) => r.type)).not.toContain('AuditEvent');
      const secureCs = (await s.request('GET', '/secure/STU3/metadata')).json as { rest: Array<{ resource: Array<{ type: string; interaction: Array<{ code: string }> }> }> };
      expect(secureCs.rest[0]!.resource.find((r) => r.type === 'AuditEvent')!.interaction.map((i) => i.code).sort()).toEqual(['history-instance', 'history-type', 'read', 'search-type', 'vread']);
    });

    it('needs a token that names AuditEvent: a wildcard scope is not enough', async () => {
      expect((await s.request('GET', '/secure/STU3/AuditEvent')).status).toBe(401);
      for (const scope of ['user/*.read', 'user/*.*', 'system/*.read', 'user/Patient.read']) {
        const token = await issuer.token({ scope, sub: 'someone' });
        const res = await asAuditor('', token);
        expect(res.status, scope).toBe(403);
        // And a wildcard reads nothing of it sideways.
        const side = await s.request('GET', '/secure/STU3/Patient?_id=a&_revinclude=AuditEvent:patient', { headers: { authorization: `Bearer ${token}` } });
        expect(((side.json as Bundle).entry ?? []).map((e) => e.resource.resourceType), scope).not.toContain('AuditEvent');
      }
      const system = await issuer.token({ scope: 'system/AuditEvent.read', sub: 'siem', client_id: 'siem' });
      expect((await asAuditor('', system)).status).toBe(200);
    });

    it('answers who accessed a patient, with the STU3 parameters', async () => {
      const ofA = await asAuditor('?patient=Patient/a&_count=100');
      expect(ofA.status).toBe(200);
      // Helen read a's record; Bob never did (the others of this suite did, by searches that returned a).
      expect(users(ofA.bundle).has('helen')).toBe(true);
      expect(users(ofA.bundle).has('bob')).toBe(false);
      const ofB = await asAuditor('?entity=Patient/b&_count=100');
      expect(users(ofB.bundle).has('bob')).toBe(true);
      expect((await asAuditor('?user=helen')).bundle.entry!.length).toBeGreaterThan(0);
      expect((await asAuditor('?agent=Practitioner/helen')).bundle.entry!.length).toBeGreaterThan(0);
      expect((await asAuditor('?address=127.0.0.1&_summary=count')).bundle.total).toBeGreaterThan(4);
      expect((await asAuditor('?subtype=create&_summary=count')).bundle.total).toBe(0);
      expect((await asAuditor('?subtype=update&action=U&_summary=count')).bundle.total).toBe(4);
      expect((await asAuditor('?type=rest&outcome=0&_summary=count')).bundle.total).toBeGreaterThan(5);
      expect((await asAuditor(`?date=ge${started}&source=${encodeURIComponent(SECURE)}&_summary=count`)).bundle.total).toBeGreaterThanOrEqual(2);
      expect((await asAuditor('?entity-type=1&_summary=count')).bundle.total).toBeGreaterThan(0);
      expect((await asAuditor('?date=lt2000-01-01&_summary=count')).bundle.total).toBe(0);
    });

    it('pages, and answers in XML too', async () => {
      const first = await asAuditor('?_count=2&_sort=-date');
      expect(first.bundle.entry).toHaveLength(2);
      const next = first.bundle.link!.find((l) => l.relation === 'next')!.url;
      const second = await s.request('GET', next.replace('http://localhost:8080', ''), { headers: { authorization: `Bearer ${auditor}` } });
      expect(second.status).toBe(200);
      expect((second.json as Bundle).entry!.length).toBeGreaterThan(0);
      const xml = await asAuditor('?_count=1', auditor, 'application/fhir+xml');
      expect(xml.text, xml.text.slice(0, 600)).toMatch(/<resource><AuditEvent>.*<subtype>/);
    });

    it('shows a patient/ token the events about its own patient only', async () => {
      const token = await issuer.token({ scope: 'patient/AuditEvent.read patient/Patient.read', patient: 'a', sub: 'patient-a' });
      const mine = await asAuditor('?_count=100', token);
      expect(mine.status).toBe(200);
      expect(mine.bundle.entry!.length).toBeGreaterThan(0);
      for (const e of mine.bundle.entry!) expect(e.resource.entity!.map((x) => x.reference?.reference)).toContain('Patient/a');
      expect(users(mine.bundle).has('bob')).toBe(false);
      // Asking for b's events gets only those that are about a as well (a search that returned both).
      const theirs = await asAuditor('?patient=Patient/b&_count=100', token);
      for (const e of theirs.bundle.entry ?? []) expect(e.resource.entity!.map((x) => x.reference?.reference)).toContain('Patient/a');
      expect(users(theirs.bundle).has('bob')).toBe(false);
    });

    it('refuses every write to an AuditEvent (405), on both bases', async () => {
      const writer = await issuer.token({ scope: 'user/*.* user/AuditEvent.write user/AuditEvent.read', sub: 'w' });
      const [first] = (await asAuditor('?_count=1')).bundle.entry!;
      const id = first!.resource.id;
      for (const [method, url, body] of [
        ['POST', 'AuditEvent', { resourceType: 'AuditEvent' }],
        ['PUT', `AuditEvent/${id}`, { ...first!.resource, outcome: '4' }],
        ['DELETE', `AuditEvent/${id}`, undefined],
        ['DELETE', 'AuditEvent?outcome=0', undefined],
      ] as const) {
        for (const base of ['/STU3', '/secure/STU3']) {
          const res = await s.request(method, `${base}/${url}`, { headers: { authorization: `Bearer ${writer}` }, ...(body ? { body } : {}) });
          expect(res.status, `${method} ${base}/${url}`).toBe(405);
        }
      }
      const tx = await s.request('POST', '/secure/STU3', { headers: { authorization: `Bearer ${writer}` }, body: { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: `AuditEvent/${id}` } }] } });
      expect(tx.status).toBe(405);
      expect((await s.request('GET', `/secure/STU3/AuditEvent/${id}`, { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(200);
      expect(await s.store.audit().verify()).toEqual([]);
    });
  });
}
