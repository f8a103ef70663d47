import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storeKinds, type TestServer } from '../helpers/server.js';

/** Search over HTTP, on each store: https://hl7.org/fhir/STU3/search.html */
for (const kind of await storeKinds()) {
  describe(`search (${kind})`, () => {
    let s: TestServer;
    const ids = async (url: string) => {
      const res = await s.request('GET', url);
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      return (res.json.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id);
    };
    const put = (resource: Record<string, unknown>) => s.request('PUT', `/STU3/${resource.resourceType}/${resource.id}`, { body: resource });

    beforeAll(async () => {
      s = await startTestServer(kind, {}, () => Date.parse('2026-01-01T00:00:00Z'));
      const sct = 'http://snomed.info/sct';
      const ucum = 'http://unitsofmeasure.org';
      await put({ resourceType: 'Organization', id: 'gp1', name: 'Elm Tree Surgery', identifier: [{ system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'B82617' }] });
      await put({ resourceType: 'Practitioner', id: 'dr1', name: [{ family: 'Swift', given: ['Amanda'] }] });
      await put({
        resourceType: 'Patient',
        id: 'bk',
        meta: { tag: [{ system: 'urn:tags', code: 'demo' }], profile: ['https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1'] },
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Bernie Kanfeld, seen in clinic</div>' },
        identifier: [
          {
            extension: [
              {
                url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
                valueCodeableConcept: { coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1', code: '01', display: 'Number present and verified' }] },
              },
            ],
            system: 'https://fhir.nhs.uk/Id/nhs-number',
            value: '9876543210',
          },
        ],
        name: [{ use: 'official', family: 'Kanfeld', given: ['Bernie'] }],
        telecom: [{ system: 'phone', value: '07999123456' }, { system: 'email', value: 'bernie.kanfeld@chumhum.com' }],
        gender: 'male',
        birthDate: '1998-03-19',
        address: [{ line: ['10 Field Jardin'], city: 'Long Eaton', postalCode: 'NG10 1ZZ' }],
        generalPractitioner: [{ reference: 'Organization/gp1' }],
        managingOrganization: { reference: 'Organization/gp1' },
      });
      await put({ resourceType: 'Patient', id: 'jk', name: [{ family: 'Kanfeldt', given: ['Jo'] }], gender: 'female', birthDate: '1980-06', generalPractitioner: [{ reference: 'Practitioner/dr1' }] });
      await put({ resourceType: 'Patient', id: 'ze', name: [{ family: 'Zoë', given: ['Ana'] }], gender: 'female', birthDate: '2001' });
      await put({ resourceType: 'Encounter', id: 'e1', status: 'finished', subject: { reference: 'Patient/bk' }, period: { start: '2020-02-03T09:00:00Z', end: '2020-02-03T10:00:00Z' }, diagnosis: [{ condition: { reference: 'Condition/c1' } }] });
      await put({ resourceType: 'Encounter', id: 'e2', status: 'finished', class: { system: 'http://hl7.org/fhir/v3/ActCode', code: 'IMP' }, subject: { reference: 'Patient/jk' } });
      await put({ resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/bk' }, code: { coding: [{ system: sct, code: '44054006', display: 'Diabetes mellitus type 2' }] }, clinicalStatus: 'active', verificationStatus: 'confirmed' });
      const bp = (id: string, sys: number, dia: number, date: string) => ({
        resourceType: 'Observation',
        id,
        status: 'final',
        category: [{ coding: [{ system: 'http://hl7.org/fhir/observation-category', code: 'vital-signs' }] }],
        code: { coding: [{ system: sct, code: '75367002', display: 'Blood pressure' }] },
        subject: { reference: 'Patient/bk' },
        context: { reference: 'Encounter/e1' },
        effectiveDateTime: date,
        component: [
          { code: { coding: [{ system: sct, code: '72313002', display: 'Systolic arterial pressure' }] }, valueQuantity: { value: sys, unit: 'mmHg', system: ucum, code: 'mm[Hg]' } },
          { code: { coding: [{ system: sct, code: '1091811000000102', display: 'Diastolic arterial pressure' }] }, valueQuantity: { value: dia, unit: 'mmHg', system: ucum, code: 'mm[Hg]' } },
        ],
      });
      await put(bp('o1', 120, 80, '2020-02-03T09:30:00Z'));
      await put(bp('o2', 150, 95, '2021-05-01T10:00:00+01:00'));
      await put({ resourceType: 'Observation', id: 'o3', status: 'final', code: { coding: [{ system: sct, code: '27113001', display: 'Body weight' }] }, subject: { reference: 'Patient/jk' }, valueQuantity: { value: 72500, system: ucum, code: 'g' }, effectiveDateTime: '2019' });
      await put({ resourceType: 'Observation', id: 'o4', status: 'final', code: { coding: [{ system: sct, code: '27113001' }] }, subject: { reference: 'Patient/bk' }, valueQuantity: { value: 80, system: ucum, code: 'kg' }, effectiveDateTime: '2019-07-01' });
    });
    afterAll(async () => s.cleanup());

    describe('the bugs users reported against the original', () => {
      it('family=KanFelD matches Kanfeld (case- and accent-insensitive prefix)', async () => {
        expect(await ids('/STU3/Patient?family=KanFelD')).toEqual(['bk', 'jk']);
        expect(await ids('/STU3/Patient?family=zoe')).toEqual(['ze']);
        expect(await ids('/STU3/Patient?family:exact=Kanfeld')).toEqual(['bk']);
      });
      it('gender=male returns the male patients', async () => {
        expect(await ids('/STU3/Patient?gender=male')).toEqual(['bk']);
        // A code carries the system its binding implies, so `|male` (a code with no system) finds none.
        expect(await ids('/STU3/Patient?gender=http://hl7.org/fhir/administrative-gender|female&_sort=_id')).toEqual(['jk', 'ze']);
        expect(await ids('/STU3/Patient?gender=|male')).toEqual([]);
        expect(await ids('/STU3/Patient?gender=http://example.org/other|male')).toEqual([]);
        expect(await ids('/STU3/Patient?gender=female,male&_sort=_id')).toEqual(['bk', 'jk', 'ze']);
      });
      it('date prefixes ne, sa and ap work', async () => {
        expect(await ids('/STU3/Patient?birthdate=ne1998-03-19&_sort=_id')).toEqual(['jk', 'ze']);
        expect(await ids('/STU3/Patient?birthdate=sa1999&_sort=_id')).toEqual(['ze']);
        expect(await ids('/STU3/Patient?birthdate=ap1998-03-15')).toEqual(['bk']);
        expect(await ids('/STU3/Patient?birthdate=ap1960')).toEqual([]);
        expect(await ids('/STU3/Patient?birthdate=eb1990&_sort=_id')).toEqual(['jk']);
      });
    });

    it('answers the Care Connect API documentation examples', async () => {
      expect(await ids('/STU3/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9876543210')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?given=bernie')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?email=bernie.kanfeld@chumhum.com')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?address-postalcode=NG10%201ZZ')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?phone=07999123456')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?birthdate=1998-03-19')).toEqual(['bk']);
      expect(await ids('/STU3/Organization?identifier=B82617')).toEqual(['gp1']);
    });

    it('searches composites: code-value-quantity and component-code-value-quantity', async () => {
      expect(await ids('/STU3/Observation?component-code-value-quantity=http://snomed.info/sct|72313002$gt140')).toEqual(['o2']);
      expect(await ids('/STU3/Observation?combo-code-value-quantity=72313002$le120&_sort=_id')).toEqual(['o1']);
      expect(await ids('/STU3/Observation?code-value-quantity=27113001$72.5|http://unitsofmeasure.org|kg&_sort=_id')).toEqual(['o3']);
      expect(await ids('/STU3/Observation?code-value-quantity=27113001$gt75|http://unitsofmeasure.org|kg&_sort=_id')).toEqual(['o4']);
      expect(await ids('/STU3/Observation?component-code-value-quantity:missing=true&_sort=_id')).toEqual(['o3', 'o4']);
      expect(await ids('/STU3/Observation?_sort=-code-value-quantity,_id')).toEqual(['o3', 'o4', 'o1', 'o2']);
    });

    it('compares quantities in canonical units (72500 g is 72.5 kg)', async () => {
      expect(await ids('/STU3/Observation?value-quantity=72.5|http://unitsofmeasure.org|kg')).toEqual(['o3']);
      expect(await ids('/STU3/Observation?value-quantity=ge70000|http://unitsofmeasure.org|g&_sort=_id')).toEqual(['o3', 'o4']);
    });

    it('follows chains and reverse chains, and the patient compartment', async () => {
      expect(await ids('/STU3/Observation?subject:Patient.name=kanfeldt')).toEqual(['o3']);
      expect(await ids('/STU3/Observation?patient.general-practitioner.name=elm&_sort=_id')).toEqual(['o1', 'o2', 'o4']);
      expect(await ids('/STU3/Patient?_has:Observation:patient:code=27113001&_sort=_id')).toEqual(['bk', 'jk']);
      expect(await ids('/STU3/Patient?_has:Encounter:patient:_has:Observation:context:code=75367002')).toEqual(['bk']);
      expect(await ids('/STU3/Patient/bk/Observation?_sort=_id')).toEqual(['o1', 'o2', 'o4']);
      expect(await ids('/STU3/Patient/bk/Observation?category=vital-signs&_sort=-date')).toEqual(['o2', 'o1']);
      const all = await s.request('GET', '/STU3/Patient/bk/*?_count=50');
      expect(all.json.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort()).toEqual(
        ['Condition/c1', 'Encounter/e1', 'Observation/o1', 'Observation/o2', 'Observation/o4', 'Patient/bk'].sort(),
      );
    });

    it('includes and revincludes, with :iterate', async () => {
      const res = await s.request('GET', '/STU3/Encounter?patient=bk&_include=Encounter:diagnosis&_include=Encounter:patient');
      const entries = res.json.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}/${e.resource.id}`);
      expect(entries).toEqual(['match:Encounter/e1', 'include:Condition/c1', 'include:Patient/bk']);
      const rev = await s.request('GET', '/STU3/Patient?_id=bk&_revinclude=Encounter:patient&_revinclude:iterate=Observation:context');
      expect(rev.json.entry.map((e: any) => `${e.search.mode}:${e.resource.id}`)).toEqual(['match:bk', 'include:e1', 'include:o1', 'include:o2']);
      const iter = await s.request('GET', '/STU3/Observation?_id=o1&_include=Observation:context&_include:iterate=Encounter:diagnosis');
      expect(iter.json.entry.map((e: any) => e.resource.id)).toEqual(['o1', 'e1', 'c1']);
      const star = await s.request('GET', '/STU3/Patient?_id=bk&_include=*');
      expect(star.json.entry.map((e: any) => e.resource.id)).toEqual(['bk', 'gp1']);
      const revStar = await s.request('GET', '/STU3/Patient?_id=bk&_revinclude=*');
      expect(revStar.json.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort()).toEqual(
        ['Condition/c1', 'Encounter/e1', 'Observation/o1', 'Observation/o2', 'Observation/o4', 'Patient/bk'].sort(),
      );
    });

    it('sorts on several keys and pages with stable links', async () => {
      expect(await ids('/STU3/Patient?_sort=-birthdate')).toEqual(['ze', 'bk', 'jk']);
      expect(await ids('/STU3/Patient?_sort=gender,-family')).toEqual(['ze', 'jk', 'bk']);
      expect(await ids('/STU3/Observation?_sort=date,_id')).toEqual(['o3', 'o4', 'o1', 'o2']);
      const seen: string[] = [];
      let url: string | undefined = '/STU3/Observation?_sort=-date&_count=1';
      let pages = 0;
      let last: any;
      while (url) {
        const res = await s.request('GET', url);
        expect(res.json.total).toBe(4);
        seen.push(...res.json.entry.map((e: any) => e.resource.id));
        const next = res.json.link.find((l: any) => l.relation === 'next');
        expect(res.json.link.some((l: any) => l.relation === 'previous')).toBe(pages > 0);
        url = next?.url.replace('http://localhost:8080', '');
        pages++;
        last = res;
      }
      // Descending dates sort by the end of each range: all of 2019 ends after 2019-07-01.
      expect(seen).toEqual(['o2', 'o1', 'o3', 'o4']);
      // And back by the `previous` links, to the first page, which has none.
      const back: string[] = [];
      for (let res = last; res; ) {
        back.unshift(...res.json.entry.map((e: any) => e.resource.id));
        const previous = res.json.link.find((l: any) => l.relation === 'previous');
        res = previous ? await s.request('GET', previous.url.replace('http://localhost:8080', '')) : undefined;
      }
      expect(back).toEqual(seen);
    });

    it('pages in the default order by keyset: a deletion between pages skips nothing', async () => {
      for (let i = 1; i <= 5; i++) await put({ resourceType: 'Location', id: `loc${i}`, name: `Ward ${i}` });
      const page1 = await s.request('GET', '/STU3/Location?_count=2');
      expect(page1.json.entry.map((e: any) => e.resource.id)).toEqual(['loc1', 'loc2']);
      await s.request('DELETE', '/STU3/Location/loc1');
      const next = page1.json.link.find((l: any) => l.relation === 'next').url.replace('http://localhost:8080', '');
      const page2 = await s.request('GET', next);
      expect(page2.json.entry.map((e: any) => e.resource.id)).toEqual(['loc3', 'loc4']);
      const previous = page2.json.link.find((l: any) => l.relation === 'previous').url.replace('http://localhost:8080', '');
      expect((await s.request('GET', previous)).json.entry.map((e: any) => e.resource.id)).toEqual(['loc2', 'loc3']);
    });

    it('pages a sorted search by keyset: rows written between pages repeat nothing and skip nothing', async () => {
      const flag = (id: string, date?: string) =>
        put({ resourceType: 'Flag', id, status: 'active', code: { text: 'Alert' }, subject: { reference: 'Patient/bk' }, ...(date ? { period: { start: date, end: date } } : {}) });
      const dates = ['2024-05-01', '2024-03-01', '2024-03-01', undefined, '2024-01-01', '2024-04-01', '2024-03-01', undefined, '2024-02-01'];
      for (const [i, d] of dates.entries()) await flag(`f${i}`, d);
      const first = await s.request('GET', '/STU3/Flag?_sort=-date&_count=2');
      const before = (await s.request('GET', '/STU3/Flag?_sort=-date&_count=100')).json.entry.map((e: any) => e.resource.id);
      expect(before).toEqual(['f0', 'f5', 'f1', 'f2', 'f6', 'f8', 'f4', 'f3', 'f7']);
      const seen: string[] = first.json.entry.map((e: any) => e.resource.id);
      let res = first;
      let n = 0;
      for (; ; n++) {
        const next = res.json.link.find((l: any) => l.relation === 'next');
        if (!next) break;
        // The cursor holds the last row's sort value and row id.
        const state = JSON.parse(Buffer.from(new URL(next.url).searchParams.get('_cursor')!.split('.')[0]!, 'base64url').toString());
        expect(state.k).toHaveLength(1);
        expect(state.a).toEqual(expect.any(Number));
        // New rows ahead of the position, behind it, tied with it and without a date, between the first pages.
        if (n < 4) for (const d of ['2025-01-01', '2024-03-01', '2023-01-01', undefined]) await flag(`new${n}-${d ?? 'none'}`, d);
        res = await s.request('GET', next.url.replace('http://localhost:8080', ''));
        expect(res.status).toBe(200);
        expect(res.json.total).toBeGreaterThan(before.length);
        expect(res.json.link.some((l: any) => l.relation === 'previous')).toBe(true);
        seen.push(...(res.json.entry ?? []).map((e: any) => e.resource.id));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.filter((id) => before.includes(id))).toEqual(before);
      // Written behind the position (a later date, sorting first), so not seen; written ahead of it, so seen: the rows without a date, last.
      expect(n).toBeGreaterThan(4);
      expect(seen.filter((id) => id.endsWith('-2025-01-01'))).toEqual([]);
      expect(seen.filter((id) => id.endsWith('-2023-01-01'))).toEqual(['new0-2023-01-01', 'new1-2023-01-01', 'new2-2023-01-01', 'new3-2023-01-01']);
      expect(seen.slice(-4)).toEqual(['new0-none', 'new1-none', 'new2-none', 'new3-none']);
    });

    it('_total=estimate: the pages after the first carry its count; accurate, the default, counts each page', async () => {
      await put({ resourceType: 'Practitioner', id: 'est' });
      const flag = (id: string) => put({ resourceType: 'Flag', id, status: 'active', code: { text: 'Alert' }, subject: { reference: 'Patient/bk' }, author: { reference: 'Practitioner/est' } });
      for (let i = 0; i < 5; i++) await flag(`est${i}`);
      const next = (res: { json: any }) => res.json.link.find((l: any) => l.relation === 'next').url.replace('http://localhost:8080', '');
      const estimate = await s.request('GET', '/STU3/Flag?author=Practitioner/est&_count=2&_total=estimate');
      const accurate = await s.request('GET', '/STU3/Flag?author=Practitioner/est&_count=2');
      expect([estimate.json.total, accurate.json.total]).toEqual([5, 5]);
      // Two more written between the pages.
      for (let i = 5; i < 7; i++) await flag(`est${i}`);
      const estimated = await s.request('GET', next(estimate));
      expect(next(estimate)).toContain('_total=estimate');
      expect(estimated.json.total).toBe(5);
      expect(next(estimated)).toContain('_cursor=');
      expect((await s.request('GET', next(estimated))).json.total).toBe(5);
      expect((await s.request('GET', next(accurate))).json.total).toBe(7);
      // The carried count is signed with the rest of the cursor: changed, the cursor is refused.
      const url = new URL(next(estimate), 'http://x');
      const [payload, mac] = url.searchParams.get('_cursor')!.split('.');
      const state = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      expect(state.t).toBe(5);
      url.searchParams.set('_cursor', `${Buffer.from(JSON.stringify({ ...state, t: 1 })).toString('base64url')}.${mac}`);
      expect((await s.request('GET', `${url.pathname}${url.search}`)).status).toBe(400);
      // The first page, asked again, counts again.
      expect((await s.request('GET', '/STU3/Flag?author=Practitioner/est&_count=2&_total=estimate')).json.total).toBe(7);
    });

    it('handles _summary, _elements and _total', async () => {
      const count = await s.request('GET', '/STU3/Observation?_summary=count');
      expect(count.json.total).toBe(4);
      expect(count.json.entry).toBeUndefined();
      expect(count.json.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'first']);
      const summary = await s.request('GET', '/STU3/Patient?_id=bk&_summary=true');
      const p = summary.json.entry[0].resource;
      expect(p.text).toBeUndefined();
      expect(p.meta.tag).toContainEqual(expect.objectContaining({ code: 'SUBSETTED' }));
      expect(p.name).toBeDefined();
      const text = await s.request('GET', '/STU3/Patient?_id=bk&_summary=text');
      expect(Object.keys(text.json.entry[0].resource).sort()).toEqual(['id', 'meta', 'resourceType', 'text']);
      const elements = await s.request('GET', '/STU3/Patient?_id=bk&_elements=gender,birthDate');
      expect(Object.keys(elements.json.entry[0].resource).sort()).toEqual(['birthDate', 'gender', 'id', 'meta', 'resourceType']);
      const none = await s.request('GET', '/STU3/Patient?_total=none');
      expect(none.json.total).toBeUndefined();
    });

    it('searches _tag, _profile, _text, _content, _lastUpdated and :missing', async () => {
      expect(await ids('/STU3/Patient?_tag=urn:tags|demo')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?_profile=https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1')).toEqual(['bk']);
      expect(await ids('/STU3/Patient?_text=clinic')).toEqual(['bk']);
      expect(await ids('/STU3/Condition?_content=diabetes')).toEqual(['c1']);
      expect(await ids('/STU3/Condition?_content=44054006')).toEqual(['c1']);
      // References and dates are not text: they have parameters of their own.
      expect(await ids('/STU3/Condition?_content=bk')).toEqual([]);
      expect(await ids('/STU3/Encounter?_content=finished')).toContain('e1');
      expect(await ids('/STU3/Encounter?_content=2020')).toEqual([]);
      expect(await ids('/STU3/Patient?_lastUpdated=gt2000-01-01&_sort=_id')).toEqual(['bk', 'jk', 'ze']);
      expect(await ids('/STU3/Patient?_lastUpdated=lt2000-01-01')).toEqual([]);
      expect(await ids('/STU3/Patient?general-practitioner:missing=true')).toEqual(['ze']);
      expect(await ids('/STU3/Patient?general-practitioner:missing=false&_sort=_id')).toEqual(['bk', 'jk']);
      expect(await ids('/STU3/Patient?general-practitioner:Practitioner=dr1')).toEqual(['jk']);
      expect(await ids('/STU3/Condition?code:text=diabetes')).toEqual(['c1']);
      expect(await ids('/STU3/Observation?code:not=27113001&_sort=_id')).toEqual(['o1', 'o2']);
    });

    it('expands :in, :not-in, :below and :above with the value sets and code systems the server holds', async () => {
      expect(await ids('/STU3/Patient?gender:in=http://hl7.org/fhir/ValueSet/administrative-gender&_sort=_id')).toEqual(['bk', 'jk', 'ze']);
      expect(await ids('/STU3/Observation?status:not-in=http://hl7.org/fhir/ValueSet/observation-status')).toEqual([]);
      expect(await ids('/STU3/Encounter?class:below=http://hl7.org/fhir/v3/ActCode|_ActEncounterCode')).toEqual(['e2']);
      expect(await ids('/STU3/Encounter?class:above=http://hl7.org/fhir/v3/ActCode|IMP')).toEqual(['e2']);
      expect(await ids('/STU3/Encounter?class:below=http://hl7.org/fhir/v3/ActCode|_ActAccountCode')).toEqual([]);
      // SNOMED CT hierarchies and value sets defined by SNOMED CT filters cannot be expanded without SNOMED CT: a 400 saying so.
      const snomed = await s.request('GET', '/STU3/Condition?code:below=http://snomed.info/sct|73211009');
      expect(snomed.status).toBe(400);
      expect(snomed.json.issue[0].diagnostics).toMatch(/not held by this server/);
      const filtered = await s.request('GET', '/STU3/Condition?code:in=https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-ConditionCode-1');
      expect(filtered.status).toBe(400);
      expect((await s.request('GET', '/STU3/Condition?code:in=http://example.org/no-such-value-set')).status).toBe(400);
    });

    it('searches by POST _search with a form body, and across types', async () => {
      const res = await s.request('POST', '/STU3/Patient/_search', { body: 'family=kanfeld&gender=male', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.json.entry.map((e: any) => e.resource.id)).toEqual(['bk']);
      const system = await s.request('GET', '/STU3?_type=Patient,Organization&_id=gp1,bk&_sort=_id');
      expect(system.json.entry.map((e: any) => e.resource.id)).toEqual(['bk', 'gp1']);
    });

    it('warns about unknown parameters under Prefer: handling=lenient, or refuses them under Prefer: handling=strict', async () => {
      const lenient = await s.request('GET', '/STU3/Patient?nonsense=1&family=kanfeld', { headers: { prefer: 'handling=lenient' } });
      expect(lenient.status).toBe(200);
      const outcome = lenient.json.entry.find((e: any) => e.search.mode === 'outcome');
      expect(outcome.resource.issue[0].severity).toBe('warning');
      const strict = await s.request('GET', '/STU3/Patient?nonsense=1', { headers: { prefer: 'handling=strict' } });
      expect(strict.status).toBe(400);
      // A handling the server does not know leaves the default (strict) in force.
      expect((await s.request('GET', '/STU3/Patient?nonsense=1', { headers: { prefer: 'handling=whatever' } })).status).toBe(400);
      const tooMany = await s.request('GET', '/STU3/Patient?_count=1000');
      expect(tooMany.json.entry.find((e: any) => e.search.mode === 'outcome').resource.issue[0].code).toBe('too-costly');
    });

    it('refuses unknown and unsupported parameters by default, listing the valid ones', async () => {
      const r = await s.request('GET', '/STU3/Location?address-postcode=NG10%201RY');
      expect(r.status).toBe(400);
      expect(r.json.resourceType).toBe('OperationOutcome');
      expect(r.json.issue[0]).toEqual(expect.objectContaining({ severity: 'error', code: 'not-supported', expression: ['address-postcode'], diagnostics: "Unknown search parameter 'address-postcode' for Location" }));
      const list = r.json.issue.find((i: any) => i.severity === 'information').diagnostics as string;
      expect(list).toMatch(/^The search parameters of Location are .*\baddress-postalcode\b.*; and the result parameters _count, /);
      // Every problem is named at once: an unsupported modifier, an unknown include, an unsortable key, a bad chain.
      const many = await s.request('GET', '/STU3/Patient?family:sounds=x&_include=Patient:nope&_sort=nope&organization.nope=1&_contained=true&_has:Observation:subject:nope=1');
      expect(many.status).toBe(400);
      expect(many.json.issue.filter((i: any) => i.severity === 'error').map((i: any) => i.expression[0])).toEqual(['family:sounds', '_include', '_sort', 'organization.nope', '_contained', 'nope']);
      expect(many.json.issue.at(-2).diagnostics).toBe("Unknown search parameter 'nope' for Observation");
      // The compartment and POST _search alike.
      expect((await s.request('GET', '/STU3/Patient/bk/Observation?nope=1')).status).toBe(400);
      const form = await s.request('POST', '/STU3/Patient/_search', { body: 'nope=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(form.status).toBe(400);
    });

    it('with _type, a parameter must be defined for every type listed', async () => {
      const r = await s.request('GET', '/STU3?_type=Patient,Organization&family=kanfeld');
      expect(r.status).toBe(400);
      expect(r.json.issue[0].diagnostics).toBe("Unknown search parameter 'family' for Patient, Organization");
      const list = r.json.issue.find((i: any) => i.severity === 'information').diagnostics as string;
      expect(list).toMatch(/^The search parameters of every one of Patient, Organization are /);
      expect(list).toMatch(/\bname\b/);
      expect(list).not.toMatch(/\bfamily\b/);
      // name is: it finds the patients and the organisation.
      expect(await ids('/STU3?_type=Patient,Organization&name=kanfeld,elm&_sort=_id')).toEqual(['bk', 'gp1', 'jk']);
      // Without _type, only what every type has.
      expect((await s.request('GET', '/STU3?name=kanfeld')).status).toBe(400);
      expect(await ids('/STU3?_id=bk')).toEqual(['bk']);
    });

    it('a batch entry\'s search follows the same default, and the Bundle\'s Prefer: handling', async () => {
      const bundle = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient?nonsense=1' } }] };
      const strict = await s.request('POST', '/STU3', { body: bundle });
      expect(strict.json.entry[0].response.status).toBe('400');
      const lenient = await s.request('POST', '/STU3', { body: bundle, headers: { prefer: 'handling=lenient' } });
      expect(lenient.json.entry[0].response.status).toBe('200 OK');
    });

    it('declares in the CapabilityStatement what it supports', async () => {
      const cs = (await s.request('GET', '/STU3/metadata')).json;
      const obs = cs.rest[0].resource.find((r: any) => r.type === 'Observation');
      const names = obs.searchParam.map((p: any) => p.name);
      expect(names).toEqual(expect.arrayContaining(['code', 'patient', 'date', 'category', 'code-value-quantity', 'component-code-value-quantity']));
      expect(obs.searchInclude).toContain('Observation:context');
      const patient = cs.rest[0].resource.find((r: any) => r.type === 'Patient');
      expect(patient.searchRevInclude).toContain('Observation:subject');
      const seq = cs.rest[0].resource.find((r: any) => r.type === 'Sequence');
      expect(seq.searchParam.map((p: any) => p.name)).not.toContain('coordinate');
    });
  });

  describe(`search with CCRI_SEARCH_HANDLING=lenient (${kind})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(kind, { searchHandling: 'lenient' });
      await s.request('PUT', '/STU3/Location/l1', { body: { resourceType: 'Location', id: 'l1', name: 'Ward 1', address: { postalCode: 'NG10 1RY' } } });
      await s.request('PUT', '/STU3/Location/l2', { body: { resourceType: 'Location', id: 'l2', name: 'Ward 2', address: { postalCode: 'LS1 1AA' } } });
    });
    afterAll(async () => s.cleanup());

    it('ignores unknown parameters with a warning, as before', async () => {
      const r = await s.request('GET', '/STU3/Location?address-postcode=NG10%201RY');
      expect(r.status).toBe(200);
      expect(r.json.entry.filter((e: any) => e.search.mode === 'match')).toHaveLength(2);
      const outcome = r.json.entry.find((e: any) => e.search.mode === 'outcome').resource;
      expect(outcome.issue).toEqual([expect.objectContaining({ severity: 'warning', code: 'not-supported', diagnostics: expect.stringMatching(/address-postcode.*ignored/) })]);
    });

    it('Prefer: handling=strict overrides it per request', async () => {
      const r = await s.request('GET', '/STU3/Location?address-postcode=NG10%201RY', { headers: { prefer: 'handling=strict' } });
      expect(r.status).toBe(400);
      const right = await s.request('GET', '/STU3/Location?address-postalcode=NG10%201RY', { headers: { prefer: 'handling=strict' } });
      expect(right.json.entry.map((e: any) => e.resource.id)).toEqual(['l1']);
    });
  });
}
