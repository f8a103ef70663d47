import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/** Every RESTful interaction and its error statuses, over HTTP, on each store. */
for (const kind of await storeKinds()) {
  describe(`RESTful interactions (${kind})`, () => {
    let s: TestServer;
    let now = Date.parse('2024-03-01T12:00:00Z');
    beforeAll(async () => {
      s = await startTestServer(kind, {}, () => now);
    });
    afterAll(async () => s.cleanup());

    const patient = (family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', name: [{ family }], ...extra });

    it('creates with POST: 201, Location, ETag, Last-Modified, and a server-chosen id', async () => {
      const res = await s.request('POST', '/STU3/Patient', { body: { ...patient('Create'), id: 'ignored' } });
      expect(res.status).toBe(201);
      expect(res.json.id).not.toBe('ignored');
      expect(res.headers.location).toBe(`http://localhost:8080/STU3/Patient/${res.json.id}/_history/1`);
      expect(res.headers.etag).toBe('W/"1"');
      expect(res.headers['last-modified']).toBe('Fri, 01 Mar 2024 12:00:00 GMT');
      expect(res.headers['content-type']).toBe('application/fhir+json; charset=utf-8');
      expect(res.json.meta).toEqual({ versionId: '1', lastUpdated: '2024-03-01T12:00:00.000Z' });
    });

    it('_pretty=true indents the answer in either format; _format is honoured by refusals too', async () => {
      expect((await s.request('PUT', '/STU3/Patient/pretty1', { body: { ...patient('Pretty'), id: 'pretty1' } })).status).toBe(201);
      const compact = await s.request('GET', '/STU3/Patient/pretty1');
      expect(compact.text).not.toContain('\n');
      const pretty = await s.request('GET', '/STU3/Patient/pretty1?_pretty=true');
      expect(pretty.text).toMatch(/^\{\n\s+"resourceType": "Patient",\n/);
      expect(JSON.parse(pretty.text)).toEqual(compact.json);
      expect((await s.request('GET', '/STU3/Patient/pretty1?_pretty=false')).text).toBe(compact.text);
      const xml = await s.request('GET', '/STU3/Patient/pretty1?_format=xml&_pretty=true');
      expect(xml.headers['content-type']).toBe('application/fhir+xml; charset=utf-8');
      expect(xml.text).toMatch(/<Patient xmlns="http:\/\/hl7.org\/fhir">\n\s+<id value="pretty1"\/>/);
      // The first of two _format values wins, as URLSearchParams.get reads it.
      expect((await s.request('GET', '/STU3/Patient/pretty1?_format=xml&_format=json')).headers['content-type']).toBe('application/fhir+xml; charset=utf-8');
      // Refusals are answered in the format asked for: a bad header (the request adapter's), a body in
      // another charset (the body parser's, through the error handler), a path that is not percent-encoding (Fastify's).
      const refusals: Array<[number, string, string, { body?: unknown; headers?: Record<string, string> }, RegExp]> = [
        [400, 'GET', '/STU3/Patient/pretty1?_format=xml', { headers: { 'if-none-match': 'soon' } }, /If-None-Match must be an ETag/],
        [415, 'POST', '/STU3/Patient?_format=xml', { body: patient('Latin'), headers: { 'content-type': 'application/fhir+json; charset=iso-8859-1' } }, /charset iso-8859-1/],
        [400, 'GET', '/STU3/Patient/%E0%A4%A?_format=xml', {}, /malformed percent-encoding/],
      ];
      for (const [status, method, url, options, says] of refusals) {
        const refused = await s.request(method, url, options);
        expect(refused.status, url).toBe(status);
        expect(refused.headers['content-type'], url).toBe('application/fhir+xml; charset=utf-8');
        expect(refused.text).toMatch(/<OperationOutcome xmlns="http:\/\/hl7.org\/fhir">/);
        expect(refused.text).toMatch(says);
      }
    });

    it('reads, vreads, and answers 304 to If-None-Match and If-Modified-Since', async () => {
      const created = await s.request('PUT', '/STU3/Patient/r1', { body: { ...patient('Read'), id: 'r1' } });
      expect(created.status).toBe(201);
      const read = await s.request('GET', '/STU3/Patient/r1');
      expect(read.status).toBe(200);
      expect(read.json.name[0].family).toBe('Read');
      expect(read.headers.etag).toBe('W/"1"');
      expect((await s.request('GET', '/STU3/Patient/r1/_history/1')).json.id).toBe('r1');
      expect((await s.request('GET', '/STU3/Patient/r1', { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304);
      expect((await s.request('GET', '/STU3/Patient/r1', { headers: { 'if-none-match': 'W/"2"' } })).status).toBe(200);
      expect((await s.request('GET', '/STU3/Patient/r1', { headers: { 'if-modified-since': 'Fri, 01 Mar 2024 12:00:00 GMT' } })).status).toBe(304);
      expect((await s.request('GET', '/STU3/Patient/r1', { headers: { 'if-modified-since': 'Fri, 01 Mar 2024 11:59:59 GMT' } })).status).toBe(200);
    });

    it('applies _summary and _elements to read and vread as in search, tagging the part SUBSETTED', async () => {
      const full = {
        ...patient('Subset', { id: 'sub1', gender: 'female', birthDate: '1990-01-02', active: true, maritalStatus: { text: 'married' } }),
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Subset</div>' },
        meta: { tag: [{ system: 'urn:test', code: 'keep' }] },
      };
      expect((await s.request('PUT', '/STU3/Patient/sub1', { body: full })).status).toBe(201);
      const tags = (r: any) => r.json.meta.tag.map((t: any) => t.code);
      for (const url of ['/STU3/Patient/sub1', '/STU3/Patient/sub1/_history/1']) {
        const summary = await s.request('GET', `${url}?_summary=true`);
        expect(summary.status).toBe(200);
        // Patient's summary elements stay; maritalStatus and the narrative are not among them.
        expect(Object.keys(summary.json).sort()).toEqual(['active', 'birthDate', 'gender', 'id', 'meta', 'name', 'resourceType']);
        expect(tags(summary)).toEqual(['keep', 'SUBSETTED']);
        expect(summary.json.meta.tag[1]).toEqual({ system: 'http://hl7.org/fhir/v3/ObservationValue', code: 'SUBSETTED', display: 'subsetted' });
        expect(summary.headers.etag).toBe('W/"1"');
        const text = await s.request('GET', `${url}?_summary=text`);
        expect(Object.keys(text.json).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
        const data = await s.request('GET', `${url}?_summary=data`);
        expect(data.json.text).toBeUndefined();
        expect(data.json.maritalStatus).toEqual({ text: 'married' });
        const elements = await s.request('GET', `${url}?_elements=gender,birthDate`);
        // active comes too: it is a modifier element, which _elements keeps (search.html#elements).
        expect(Object.keys(elements.json).sort()).toEqual(['active', 'birthDate', 'gender', 'id', 'meta', 'resourceType']);
        expect(tags(elements)).toContain('SUBSETTED');
        const xml = await s.request('GET', `${url}?_elements=gender&_format=xml`);
        expect(xml.text).toMatch(/<code value="SUBSETTED"\/>.*<gender value="female"\/>/s);
        expect(xml.text).not.toMatch(/birthDate/);
        // _summary=false is the whole resource, not tagged.
        const whole = await s.request('GET', `${url}?_summary=false`);
        expect(whole.json.maritalStatus).toEqual({ text: 'married' });
        expect(tags(whole)).toEqual(['keep']);
        expect((await s.request('GET', `${url}?_summary=maybe`)).status).toBe(400);
        expect((await s.request('GET', `${url}?_summary=count`)).status).toBe(400);
      }
      // The stored resource is untouched.
      expect(tags(await s.request('GET', '/STU3/Patient/sub1'))).toEqual(['keep']);
    });

    it('updates with If-Match (412 on a stale version), creates by update with a client id', async () => {
      await s.request('PUT', '/STU3/Patient/u1', { body: { ...patient('One'), id: 'u1' } });
      now += 1000;
      const ok = await s.request('PUT', '/STU3/Patient/u1', { body: { ...patient('Two'), id: 'u1' }, headers: { 'if-match': 'W/"1"' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.etag).toBe('W/"2"');
      expect(ok.headers.location).toBe('http://localhost:8080/STU3/Patient/u1/_history/2');
      const stale = await s.request('PUT', '/STU3/Patient/u1', { body: { ...patient('Three'), id: 'u1' }, headers: { 'if-match': 'W/"1"' } });
      expect(stale.status).toBe(412);
      expect(stale.json.resourceType).toBe('OperationOutcome');
      expect((await s.request('GET', '/STU3/Patient/u1')).json.name[0].family).toBe('Two');
    });

    it('deletes (204), then read is 410 Gone, and vread of the deletion is 410', async () => {
      await s.request('PUT', '/STU3/Patient/d1', { body: { ...patient('Gone'), id: 'd1' } });
      const del = await s.request('DELETE', '/STU3/Patient/d1');
      expect(del.status).toBe(204);
      expect(del.headers.etag).toBe('W/"2"');
      const read = await s.request('GET', '/STU3/Patient/d1');
      expect(read.status).toBe(410);
      expect(read.json.issue[0].code).toBe('not-found');
      expect((await s.request('GET', '/STU3/Patient/d1/_history/2')).status).toBe(410);
      expect((await s.request('GET', '/STU3/Patient/d1/_history/1')).status).toBe(200);
      expect((await s.request('DELETE', '/STU3/Patient/d1')).status).toBe(204);
    });

    it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
      const minimal = await s.request('POST', '/STU3/Patient', { body: patient('Min'), headers: { prefer: 'return=minimal' } });
      expect(minimal.status).toBe(201);
      expect(minimal.text).toBe('');
      expect(minimal.headers.location).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
      const oo = await s.request('POST', '/STU3/Patient', { body: patient('OO'), headers: { prefer: 'return=OperationOutcome' } });
      expect(oo.json.resourceType).toBe('OperationOutcome');
      expect(oo.json.issue[0].severity).toBe('information');
    });

    it('creates conditionally with If-None-Exist', async () => {
      const body = patient('Cond', { identifier: [{ system: 'urn:test', value: 'c-1' }] });
      const first = await s.request('POST', '/STU3/Patient', { body, headers: { 'if-none-exist': 'identifier=urn:test|c-1' } });
      expect(first.status).toBe(201);
      const second = await s.request('POST', '/STU3/Patient', { body, headers: { 'if-none-exist': 'identifier=urn:test|c-1' } });
      expect(second.status).toBe(200);
      expect(second.json.id).toBe(first.json.id);
      await s.request('POST', '/STU3/Patient', { body: patient('Cond2', { identifier: [{ system: 'urn:test', value: 'dup' }] }) });
      await s.request('POST', '/STU3/Patient', { body: patient('Cond3', { identifier: [{ system: 'urn:test', value: 'dup' }] }) });
      const many = await s.request('POST', '/STU3/Patient', { body, headers: { 'if-none-exist': 'identifier=urn:test|dup' } });
      expect(many.status).toBe(412);
      const unknown = await s.request('POST', '/STU3/Patient', { body, headers: { 'if-none-exist': 'nonsense=1' } });
      expect(unknown.status).toBe(400);
    });

    it('updates and deletes conditionally', async () => {
      const body = patient('CU', { identifier: [{ system: 'urn:cu', value: '1' }] });
      const created = await s.request('PUT', '/STU3/Patient?identifier=urn:cu|1', { body });
      expect(created.status).toBe(201);
      const updated = await s.request('PUT', '/STU3/Patient?identifier=urn:cu|1', { body: { ...body, gender: 'female' } });
      expect(updated.status).toBe(200);
      expect(updated.json.id).toBe(created.json.id);
      expect(updated.json.meta.versionId).toBe('2');
      const del = await s.request('DELETE', '/STU3/Patient?identifier=urn:cu|1');
      expect(del.status).toBe(204);
      expect((await s.request('GET', `/STU3/Patient/${created.json.id}`)).status).toBe(410);
      expect((await s.request('DELETE', '/STU3/Patient?identifier=urn:cu|nothing')).status).toBe(204);
    });

    it('serves instance, type and system history with _count and _since', async () => {
      now = Date.parse('2024-04-01T00:00:00Z');
      await s.request('PUT', '/STU3/Patient/h1', { body: { ...patient('H1'), id: 'h1' } });
      now += 1000;
      await s.request('PUT', '/STU3/Patient/h1', { body: { ...patient('H2'), id: 'h1' } });
      now += 1000;
      await s.request('DELETE', '/STU3/Patient/h1');
      const inst = await s.request('GET', '/STU3/Patient/h1/_history');
      expect(inst.json.type).toBe('history');
      expect(inst.json.total).toBe(3);
      expect(inst.json.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'PUT', 'POST']);
      expect(inst.json.entry[0].resource).toBeUndefined();
      expect(inst.json.entry[1].response.etag).toBe('W/"2"');
      const since = await s.request('GET', '/STU3/_history?_since=2024-04-01T00:00:01Z');
      expect(since.json.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'PUT']);
      const paged = await s.request('GET', '/STU3/Patient/_history?_count=2');
      expect(paged.json.entry).toHaveLength(2);
      const next = paged.json.link.find((l: any) => l.relation === 'next').url.replace('http://localhost:8080', '');
      const page2 = await s.request('GET', next);
      expect(page2.status).toBe(200);
      expect(page2.json.entry[0].response.etag).toBe('W/"1"');
      expect(paged.json.entry.map((e: any) => e.response.etag)).not.toContain('W/"1"');
      expect((await s.request('GET', '/STU3/Patient/nobody/_history')).status).toBe(404);
      expect((await s.request('GET', '/STU3/_history?_since=yesterday')).status).toBe(400);
    });

    it('processes a transaction: all or nothing, urn:uuid references resolved, DELETE-POST-PUT-GET order', async () => {
      await s.request('PUT', '/STU3/Patient/tx-old', { body: { ...patient('Old'), id: 'tx-old' } });
      const bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { request: { method: 'GET', url: 'Patient?family=Txnew' } },
          { fullUrl: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0', resource: patient('Txnew'), request: { method: 'POST', url: 'Patient' } },
          {
            resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0' } },
            request: { method: 'POST', url: 'Observation' },
          },
          { request: { method: 'DELETE', url: 'Patient/tx-old' } },
        ],
      };
      const res = await s.request('POST', '/STU3', { body: bundle });
      expect(res.status).toBe(200);
      expect(res.json.type).toBe('transaction-response');
      expect(res.json.entry.map((e: any) => e.response.status)).toEqual(['200 OK', '201 Created', '201 Created', '204 No Content']);
      // The GET ran last, so it sees the patient the POST created.
      expect(res.json.entry[0].resource.total).toBe(1);
      const patientId = res.json.entry[1].response.location.split('/')[5];
      const obsId = res.json.entry[2].response.location.split('/')[5];
      expect((await s.request('GET', `/STU3/Observation/${obsId}`)).json.subject.reference).toBe(`Patient/${patientId}`);
      expect((await s.request('GET', '/STU3/Patient/tx-old')).status).toBe(410);

      const failing = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: patient('Never'), request: { method: 'POST', url: 'Patient' } },
          { resource: { ...patient('Bad'), id: 'x1' }, request: { method: 'PUT', url: 'Patient/x1', ifMatch: 'W/"9"' } },
        ],
      };
      const fail = await s.request('POST', '/STU3', { body: failing });
      expect(fail.status).toBe(412);
      expect(fail.json.issue[0].diagnostics).toMatch(/Bundle.entry\[1\]/);
      expect((await s.request('GET', '/STU3/Patient?family=Never')).json.total).toBe(0);

      const malformed = await s.request('POST', '/STU3', {
        body: { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...patient('Never'), birthDate: 'soon' }, request: { method: 'POST', url: 'Patient' } }] },
      });
      expect(malformed.status).toBe(400);
      expect(malformed.json.issue[0].diagnostics).toMatch(/Bundle.entry\[0\].*birthDate/);
    });

    it('processes a batch entry by entry', async () => {
      const res = await s.request('POST', '/STU3', {
        body: {
          resourceType: 'Bundle',
          type: 'batch',
          entry: [
            { resource: patient('Batch'), request: { method: 'POST', url: 'Patient' } },
            { request: { method: 'GET', url: 'Patient/does-not-exist' } },
            { resource: { resourceType: 'Patient', birthDate: 'not a date' }, request: { method: 'POST', url: 'Patient' } },
          ],
        },
      });
      expect(res.json.type).toBe('batch-response');
      expect(res.json.entry[0].response.status).toBe('201 Created');
      expect(res.json.entry[1].response.status).toBe('404');
      expect(res.json.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
      // A malformed resource fails its own entry only: a batch's entries are independent.
      expect(res.json.entry[2].response.status).toBe('400');
      expect(res.json.entry[2].response.outcome.issue[0].expression).toEqual(['Patient.birthDate']);
    });

    it('returns a CapabilityStatement', async () => {
      const res = await s.request('GET', '/STU3/metadata');
      expect(res.json.resourceType).toBe('CapabilityStatement');
      expect(res.json.fhirVersion).toBe('3.0.2');
      const patientRes = res.json.rest[0].resource.find((r: any) => r.type === 'Patient');
      expect(patientRes.searchParam.map((p: any) => p.name)).toEqual(expect.arrayContaining(['family', 'birthdate', 'identifier', 'gender']));
      // Each parameter is documented for its own type: a parameter STU3 shares between types (`family`) by its type's line.
      expect(patientRes.searchParam.find((p: any) => p.name === 'family').documentation).toBe('A portion of the family name of the patient. Modifiers: :exact, :contains, :missing.');
      const docs = res.json.rest[0].resource.flatMap((r: any) => (r.searchParam ?? []).map((p: any) => `${r.type}.${p.name}: ${p.documentation}`));
      expect(docs.filter((d: string) => /Multiple Resources|\.\. Modifiers|[\r\n]/.test(d))).toEqual([]);
    });

    describe('errors are OperationOutcomes with the right status', () => {
      it.each([
        [404, 'GET', '/STU3/Nonsense/1', undefined, {}],
        [404, 'GET', '/STU3/Patient/never-there', undefined, {}],
        [400, 'GET', '/STU3/Patient/bad id!', undefined, {}],
        [400, 'GET', '/STU3/Patient/x/_history/abc', undefined, {}],
        [405, 'POST', '/STU3/Patient/x', {}, {}],
        [405, 'PATCH', '/STU3/Patient/x', undefined, {}],
        [400, 'POST', '/STU3/Patient', '{"resourceType": "Patient",', {}],
        [400, 'POST', '/STU3/Patient', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, {}],
        [400, 'PUT', '/STU3/Patient/a', { resourceType: 'Patient', id: 'b' }, {}],
        [400, 'PUT', '/STU3/Patient/a', { resourceType: 'Patient' }, {}],
        [400, 'POST', '/STU3/Patient', '<Patient xmlns="http://hl7.org/fhir"><bogus/></Patient>', { 'content-type': 'application/fhir+xml' }],
        [415, 'POST', '/STU3/Patient', 'name=x', { 'content-type': 'text/plain' }],
        [400, 'GET', '/STU3/Patient?birthdate=ab2020', undefined, {}],
        [400, 'GET', '/STU3/Patient?_count=-1', undefined, {}],
        [406, 'GET', '/STU3/Patient?_format=text/csv', undefined, {}],
        [404, 'GET', '/nothing-here', undefined, {}],
        [400, 'POST', '/STU3', { resourceType: 'Bundle', type: 'collection' }, {}],
      ])('%i for %s %s', async (status, method, url, body, headers) => {
        const res = await s.request(method, url, { ...(body !== undefined ? { body } : {}), headers: headers as Record<string, string> });
        expect(res.status).toBe(status);
        expect(res.json?.resourceType).toBe('OperationOutcome');
        expect(res.json.issue[0].severity).toBe('error');
      });

      it('answers in XML when XML was asked for', async () => {
        const res = await s.request('GET', '/STU3/Patient/never-there', { headers: { accept: 'application/fhir+xml' } });
        expect(res.status).toBe(404);
        expect(res.headers['content-type']).toBe('application/fhir+xml; charset=utf-8');
        expect(res.text).toContain('<OperationOutcome xmlns="http://hl7.org/fhir">');
      });

      it('refuses a body over the size limit with 413', async () => {
        const small = await startTestServer(kind, { bodyLimit: 1000 });
        try {
          const res = await small.request('POST', '/STU3/Patient', { body: patient('x'.repeat(2000)) });
          expect(res.status).toBe(413);
          expect(res.json.resourceType).toBe('OperationOutcome');
        } finally {
          await small.cleanup();
        }
      });
    });
  });
}
