import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS } from '../../src/data/export-jobs.js';
import { type ListeningServer, startListening } from '../helpers/listen.js';
import { createTestSchema } from '../helpers/postgres.js';
import { storeKinds } from '../helpers/server.js';
import { type TestIssuer, testIssuer } from '../helpers/tokens.js';

/**
 * Bulk Data export (https://hl7.org/fhir/uv/bulkdata/STU1/export/index.html) against a
 * listening server, with a real HTTP client (fetch), polling each job to its end; on
 * each store, with two nodes on one store, a job whose node died, and the secure base.
 */

const FAST = { pollMs: 50, staleMs: 1_000, pageSize: 3 };

for (const kind of await storeKinds()) {
  describe(`$export (${kind})`, () => {
    let a: ListeningServer;
    let b: ListeningServer;
    let dir: string;
    let drop: (() => Promise<void>) | undefined;
    let issuer: TestIssuer;

    const send = (url: string, init: RequestInit & { token?: string } = {}) => {
      const headers: Record<string, string> = { accept: 'application/fhir+json', ...(init.headers as Record<string, string>) };
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      // Bounded, so that a request left unanswered fails naming itself rather than as the hook's timeout.
      return fetch(url, { signal: AbortSignal.timeout(30_000), ...init, headers }).catch((err: unknown) => {
        throw new Error(`${init.method ?? 'GET'} ${url}: ${err instanceof Error ? err.message : String(err)}`);
      });
    };
    const put = async (resource: Record<string, unknown>) => {
      const res = await send(`${a.baseUrl}/${resource.resourceType}/${resource.id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(resource) });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    };
    const kickOff = async (url: string, token?: string) => {
      const res = await send(url, { headers: { prefer: 'respond-async' }, ...(token ? { token } : {}) });
      expect(res.status, await res.clone().text()).toBe(202);
      const location = res.headers.get('content-location');
      expect(location).toMatch(/\$export-poll-status\?_jobId=[0-9a-f-]{36}$/);
      return location!;
    };
    /** Polls to the end, as a client would (honouring Retry-After, within a bound); the last response. */
    const poll = async (url: string, token?: string): Promise<Response> => {
      for (let i = 0; i < 600; i++) {
        const res = await send(url, token ? { token } : {});
        if (res.status !== 202) return res;
        expect(res.headers.get('x-progress')).toBeTruthy();
        expect(res.headers.get('retry-after')).toBe('2');
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${url} was still running`);
    };
    const download = async (manifest: any, token?: string) => {
      const out: Record<string, any[]> = {};
      for (const o of manifest.output) {
        const res = await send(o.url, { headers: { accept: 'application/fhir+ndjson' }, ...(token ? { token } : {}) });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('application/fhir+ndjson');
        const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
        expect(lines.length).toBe(o.count);
        for (const r of lines) expect(r.resourceType).toBe(o.type);
        out[o.type] = lines;
      }
      return out;
    };
    const ids = (rs: any[] | undefined) => (rs ?? []).map((r) => r.id).sort();

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ccri-export-'));
      const overrides: Record<string, unknown> = { dataDir: dir };
      if (kind === 'postgres') {
        const schema = await createTestSchema('ccri_export');
        overrides.databaseUrl = schema.url;
        drop = schema.drop;
      }
      // Tokens name the secure base's URL in aud (the port is known only once it listens).
      issuer = await testIssuer('unused');
      a = await startListening(overrides, { exports: FAST, issuer });
      // A second node on the same store and data directory, behind the same public URL.
      b = await startListening({ ...overrides, baseUrl: a.baseUrl }, { exports: FAST });
      await put({ resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Swift' }] });
      for (const p of ['p1', 'p2', 'p3']) {
        await put({ resourceType: 'Patient', id: p, name: [{ family: p }] });
        for (let i = 0; i < 4; i++) await put({ resourceType: 'Observation', id: `${p}-o${i}`, status: 'final', code: { text: 'bp' }, subject: { reference: `Patient/${p}` } });
        await put({ resourceType: 'Encounter', id: `${p}-e`, status: 'finished', subject: { reference: `Patient/${p}` } });
      }
      await put({ resourceType: 'Group', id: 'practice', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p3' } }, { entity: { reference: 'Patient/p2' }, inactive: true }] });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    it('system level: every resource, one file per type, polled on the other node', async () => {
      const status = await kickOff(`${a.baseUrl}/$export`);
      // Any node answers the status URL: the job is in the store.
      expect(b.baseUrl).not.toBe(a.baseUrl);
      const res = await poll(status.replace(a.baseUrl, b.baseUrl));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.headers.get('expires')).toBeTruthy();
      const manifest = (await res.json()) as any;
      expect(manifest.request).toBe(`${a.baseUrl}/$export`);
      expect(manifest.requiresAccessToken).toBe(false);
      expect(Date.parse(manifest.transactionTime)).toBeGreaterThan(0);
      expect(manifest.error).toEqual([]);
      expect(manifest.output.map((o: any) => `${o.type}:${o.count}`).sort()).toEqual(['Encounter:3', 'Group:1', 'Observation:12', 'Patient:3', 'Practitioner:1']);
      const files = await download(manifest);
      expect(ids(files.Patient)).toEqual(['p1', 'p2', 'p3']);
      // The conformance resources are the server's own, not exported.
      expect(files.StructureDefinition).toBeUndefined();
    });

    it('Patient level with _type and _since; application/ndjson accepted', async () => {
      const since = new Date(Date.now() - 3_600_000).toISOString();
      const status = await kickOff(`${a.baseUrl}/Patient/$export?_type=Patient,Encounter&_since=${encodeURIComponent(since)}&_outputFormat=application/ndjson`);
      const manifest = (await (await poll(status)).json()) as any;
      expect(manifest.output.map((o: any) => o.type).sort()).toEqual(['Encounter', 'Patient']);
      const later = await kickOff(`${a.baseUrl}/Patient/$export?_since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
      expect(((await (await poll(later)).json()) as any).output).toEqual([]);
    });

    it("Group level: only the active members' compartments", async () => {
      const status = await kickOff(`${a.baseUrl}/Group/practice/$export`);
      const files = await download((await (await poll(status)).json()) as any);
      expect(ids(files.Patient)).toEqual(['p1', 'p3']);
      expect(ids(files.Observation)).toEqual(['p1-o0', 'p1-o1', 'p1-o2', 'p1-o3', 'p3-o0', 'p3-o1', 'p3-o2', 'p3-o3']);
      expect(files.Practitioner).toBeUndefined();
    });

    it('DELETE on the status URL cancels the job; then it is gone', async () => {
      const status = await kickOff(`${a.baseUrl}/$export`);
      const del = await send(status, { method: 'DELETE' });
      expect(del.status).toBe(202);
      expect((await send(status)).status).toBe(404);
      expect((await send(status, { method: 'DELETE' })).status).toBe(404);
      const id = new URL(status).searchParams.get('_jobId')!;
      // Its files go too, wherever it had got to.
      for (let i = 0; i < 100 && readdirSync(join(dir, 'exports')).includes(id); i++) await new Promise((r) => setTimeout(r, 50));
      expect(readdirSync(join(dir, 'exports'))).not.toContain(id);
    });

    it('refuses bad requests with a 4xx OperationOutcome', async () => {
      const cases: Array<[string, Record<string, string>, number]> = [
        [`${a.baseUrl}/$export`, {}, 400],
        [`${a.baseUrl}/$export?_outputFormat=text/csv`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/$export?_type=Nonsense`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/$export?_type=StructureDefinition`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/Patient/$export?_type=Practitioner`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/$export?_since=yesterday`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/$export?_typeFilter=Patient%3Fname%3Dx`, { prefer: 'respond-async' }, 400],
        [`${a.baseUrl}/Group/nobody/$export`, { prefer: 'respond-async' }, 404],
        [`${a.baseUrl}/Observation/$export`, { prefer: 'respond-async' }, 404],
        [`${a.baseUrl}/$export-poll-status?_jobId=00000000-0000-0000-0000-000000000000`, {}, 404],
        [`${a.baseUrl}/$export-poll-status?_jobId=../../etc`, {}, 400],
        [`${a.baseUrl}/$export-file?_jobId=00000000-0000-0000-0000-000000000000&_file=Patient.ndjson`, {}, 404],
      ];
      for (const [url, headers, status] of cases) {
        const res = await send(url, { headers });
        expect(res.status, url).toBe(status);
        expect(((await res.json()) as any).resourceType).toBe('OperationOutcome');
      }
      // A file name that tries to leave the job's folder.
      const status = await kickOff(`${a.baseUrl}/$export?_type=Patient`);
      const manifest = (await (await poll(status)).json()) as any;
      const jobId = new URL(status).searchParams.get('_jobId');
      expect((await send(`${a.baseUrl}/$export-file?_jobId=${jobId}&_file=..%2F..%2Fccri.db`)).status).toBe(404);
      expect(manifest.output.length).toBe(1);
    });

    it('a job whose node died is taken up again; one interrupted too often fails and says so', async () => {
      const jobs = a.store.exportJobs();
      const now = Date.now();
      const base = { base: a.baseUrl, owner: '', request: `${a.baseUrl}/Patient/$export`, transactionTime: now, created: now, updated: now, attempts: 0, status: 'queued' as const };
      const params = { spec: { level: 'patient', types: ['Patient'] }, access: { default: 'all', patients: [] }, requiresAccessToken: false };
      // Jobs a node was running when it died (its heartbeat stopped): after staleMs a live node takes each up.
      const dead = { status: 'running' as const, node: 'dead-node', heartbeat: now - 10_000 };
      await jobs.create({ ...base, ...dead, id: '11111111-1111-4111-8111-111111111111', params, attempts: MAX_ATTEMPTS });
      await jobs.create({ ...base, ...dead, id: '22222222-2222-4222-8222-222222222222', params, attempts: 1 });
      // One started MAX_ATTEMPTS times already has been interrupted too often: it fails, and says so.
      const gaveUp = await poll(`${a.baseUrl}/$export-poll-status?_jobId=11111111-1111-4111-8111-111111111111`);
      expect(gaveUp.status).toBe(500);
      expect(((await gaveUp.json()) as any).issue[0].diagnostics).toMatch(`interrupted ${MAX_ATTEMPTS} times`);
      // The other is run again, to the end.
      const done = await poll(`${a.baseUrl}/$export-poll-status?_jobId=22222222-2222-4222-8222-222222222222`);
      expect(done.status).toBe(200);
      expect(((await done.json()) as any).output[0].count).toBe(3);
      expect((await jobs.get('22222222-2222-4222-8222-222222222222'))?.attempts).toBe(2);
    });

    it('on the secure base: system/ or user/ scopes, and the same caller to poll and download', async () => {
      const secure = a.baseUrl.replace(/\/STU3$/, '/secure/STU3');
      const token = await issuer.token({ aud: secure, scope: 'system/*.read', sub: 'backend-1', client_id: 'backend-1' });
      const other = await issuer.token({ aud: secure, scope: 'system/*.read', sub: 'backend-2', client_id: 'backend-2' });
      const patient = await issuer.token({ aud: secure, scope: 'patient/*.read', patient: 'p1', sub: 'p1' });
      expect((await send(`${secure}/$export`, { headers: { prefer: 'respond-async' } })).status).toBe(401);
      expect((await send(`${secure}/$export`, { headers: { prefer: 'respond-async' }, token: patient })).status).toBe(403);
      const status = await kickOff(`${secure}/Patient/$export`, token);
      expect((await send(status)).status).toBe(401);
      expect((await send(status, { token: other })).status).toBe(404);
      // Not on the open base either.
      expect((await send(status.replace(secure, a.baseUrl))).status).toBe(404);
      const res = await poll(status, token);
      const manifest = (await res.json()) as any;
      expect(manifest.requiresAccessToken).toBe(true);
      const file = manifest.output.find((o: any) => o.type === 'Patient').url;
      expect((await send(file)).status).toBe(401);
      expect((await send(file, { token: other })).status).toBe(404);
      expect(ids((await download(manifest, token)).Patient)).toEqual(['p1', 'p2', 'p3']);
    });

    it('is declared in the CapabilityStatement at all three levels', async () => {
      const cs = (await (await send(`${a.baseUrl}/metadata`)).json()) as any;
      const refs = cs.rest[0].operation.filter((o: any) => o.name === 'export').map((o: any) => o.definition.reference.split('/').pop());
      expect(refs.sort()).toEqual(['Group-export', 'Patient-export', 'export']);
      expect(cs.rest[0].operation.some((o: any) => o.name.startsWith('export-'))).toBe(false);
      const def = (await (await send(`${a.baseUrl}/OperationDefinition/Group-export`)).json()) as any;
      expect(def.instance).toBe(true);
    });
  });
}

describe('$export files expire (CCRI_EXPORT_TTL)', () => {
  it('removes the job and its files after the time set', async () => {
    const s = await startListening({ exportTtl: 1 }, { exports: FAST });
    try {
      await fetch(`${s.baseUrl}/Patient/x`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Patient', id: 'x' }) });
      const kick = await fetch(`${s.baseUrl}/$export`, { headers: { prefer: 'respond-async' } });
      const status = kick.headers.get('content-location')!;
      let res: Response | undefined;
      for (let i = 0; i < 200; i++) {
        res = await fetch(status);
        if (res.status !== 202) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(res!.status).toBe(200);
      const file = ((await res!.json()) as any).output[0].url;
      expect((await fetch(file)).status).toBe(200);
      let gone = 0;
      for (let i = 0; i < 100 && gone !== 404; i++) {
        await new Promise((r) => setTimeout(r, 100));
        gone = (await fetch(status)).status;
      }
      expect(gone).toBe(404);
      expect((await fetch(file)).status).toBe(404);
    } finally {
      await s.stop();
    }
  });
});
