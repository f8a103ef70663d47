import { describe, expect, it } from 'vitest';
import { auditRow, auditSearch, filtersFrom, filtersQuery, typeAndId, type AuditEventResource } from './audit-query.js';

const NOW = new Date('2026-12-05T10:26:10.123Z');
const search = (q: string) => auditSearch(filtersFrom(new URLSearchParams(q)), 20, NOW);

describe('audit view filters as an AuditEvent search', () => {
  it('by default asks for events about a patient until now, newest first, with the users included', () => {
    const tail = [['date', 'lt2026-12-05T10:26:10.123Z'], ['_sort', '-date'], ['_count', '20'], ['_include', 'AuditEvent:agent']];
    expect(search('')).toEqual({ params: [['patient:missing', 'false'], ...tail] });
    expect(search('events=all')).toEqual({ params: tail });
  });

  it('finds a patient by id or by NHS number (the events name both)', () => {
    expect(search('patient=1')).toMatchObject({ params: expect.arrayContaining([['patient', 'Patient/1']]) });
    expect(search('patient=Patient/1001')).toMatchObject({ params: expect.arrayContaining([['patient', 'Patient/1001']]) });
    expect(search('patient=987 654 3210')).toMatchObject({ params: expect.arrayContaining([['entity-id', 'https://fhir.nhs.uk/Id/nhs-number|9876543210']]) });
    expect(search('patient=987 654 3211')).toEqual({ error: expect.stringContaining('not a valid NHS number') });
    expect(search('patient=a b')).toEqual({ error: expect.stringContaining('neither a patient id') });
  });

  it('narrows by user, days (both included) and outcome', () => {
    const r = search('user=clinician&from=2026-12-01&to=2026-12-05&outcome=failure');
    expect(r).toMatchObject({ params: expect.arrayContaining([['user', 'clinician'], ['date', 'ge2026-12-01'], ['date', 'le2026-12-05'], ['outcome', '4,8,12']]) });
    expect(search('outcome=success')).toMatchObject({ params: expect.arrayContaining([['outcome', '0']]) });
    expect(search('outcome=nonsense')).toEqual(search(''));
    expect(search('from=2026-13-45')).toEqual({ error: expect.stringContaining('not a date') });
    expect(search('from=2026-12-05&to=2026-12-01')).toEqual({ error: 'The first date is after the last.' });
  });

  it('writes the filters back into the explorer’s address, defaults left out', () => {
    expect(filtersQuery(filtersFrom(new URLSearchParams('patient=1&user=&events=patients&outcome=success'))).toString()).toBe('patient=1&outcome=success');
    expect(filtersQuery(filtersFrom(new URLSearchParams('events=all'))).toString()).toBe('events=all');
  });
});

describe('an AuditEvent as a row', () => {
  const event: AuditEventResource = {
    resourceType: 'AuditEvent',
    id: 'e1',
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }],
    recorded: '2026-12-05T10:10:34.348Z',
    outcome: '4',
    outcomeDesc: 'Not allowed',
    agent: [
      { requestor: true, userId: { value: 'clinician' }, reference: { reference: 'http://localhost:8080/secure/STU3/Practitioner/3' }, network: { address: '10.0.0.7' } },
      { requestor: false, altId: 'ccri-explorer' },
    ],
    source: { identifier: { value: 'http://localhost:8080/secure/STU3' } },
    entity: [
      { identifier: { system: 'urn:ccri:request-id', value: 'r1' }, role: { code: '20' } },
      { role: { code: '24' }, query: btoa('GET Patient?_id=1&name=K%C3%B6nig&_include=Patient%3Aorganization') },
      { reference: { reference: 'Patient/1/_history/2' }, role: { code: '4' } },
      { reference: { reference: 'Observation/9/_history/1' }, role: { code: '4' } },
      { reference: { reference: 'Patient/1' }, identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }, role: { code: '1' } },
    ],
  };

  it('says who, what, whose records and how it ended', () => {
    expect(auditRow(event)).toEqual({
      id: 'e1',
      recorded: '2026-12-05T10:10:34.348Z',
      user: 'clinician',
      userReference: 'http://localhost:8080/secure/STU3/Practitioner/3',
      client: 'ccri-explorer',
      address: '10.0.0.7',
      interaction: 'search-type',
      query: 'GET Patient?_id=1&name=König&_include=Patient:organization',
      resources: ['Patient/1', 'Observation/9'],
      patients: [{ id: '1', nhsNumber: '9876543210' }],
      outcome: 'refused',
      outcomeText: 'Not allowed',
      source: 'http://localhost:8080/secure/STU3',
    });
  });

  it('leaves out what an anonymous request on the open base does not have', () => {
    const row = auditRow({ resourceType: 'AuditEvent', id: 'e2', subtype: [{ code: 'read' }], outcome: '0', agent: [{ requestor: true, name: 'anonymous' }], entity: [] });
    expect(row.user).toBeUndefined();
    expect(row.outcome).toBe('success');
    expect(auditRow({ ...event, outcome: '8' }).outcome).toBe('failed');
  });

  it('matches an agent’s reference, relative or absolute, to an included resource', () => {
    expect(typeAndId('http://localhost:8080/secure/STU3/Practitioner/3')).toBe('Practitioner/3');
    expect(typeAndId('Patient/1')).toBe('Patient/1');
    expect(typeAndId('urn:uuid:x')).toBeUndefined();
  });
});
