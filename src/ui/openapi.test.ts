import { describe, expect, it } from 'vitest';
import { openApiFromCapabilityStatement } from './openapi.js';

const cs = {
  resourceType: 'CapabilityStatement',
  title: 'Test server',
  description: 'A server for the test.',
  fhirVersion: '3.0.2',
  software: { name: 'test', version: '1.2.3' },
  rest: [
    {
      mode: 'server',
      interaction: [{ code: 'transaction' }, { code: 'history-system' }],
      searchParam: [
        { name: '_id', type: 'token', documentation: 'Logical id' },
        { name: '_count', type: 'number', documentation: 'Page size' },
      ],
      operation: [{ name: 'validate', definition: { reference: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' } }],
      resource: [
        {
          type: 'StructureDefinition',
          interaction: [{ code: 'read' }, { code: 'search-type' }],
          searchParam: [{ name: 'url', type: 'uri', documentation: 'The canonical URL' }],
        },
        {
          type: 'Patient',
          profile: { reference: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1' },
          interaction: ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'].map((code) => ({ code })),
          searchParam: [
            { name: 'family', type: 'string', documentation: 'A portion of the family name' },
            { name: 'birthdate', type: 'date', documentation: 'Date of birth' },
          ],
          searchInclude: ['*', 'Patient:general-practitioner'],
          searchRevInclude: ['*', 'Observation:patient'],
        },
      ],
    },
  ],
};

const doc = openApiFromCapabilityStatement(cs, {
  servers: [
    { url: 'http://localhost:8080/STU3', description: 'open' },
    { url: 'https://localhost:8443/secure/STU3', description: 'secure' },
  ],
  bearer: true,
}) as any;

describe('openApiFromCapabilityStatement', () => {
  it('is an OpenAPI 3 document naming the server and both bases', () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.info).toMatchObject({ title: 'Test server', version: '1.2.3' });
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(['http://localhost:8080/STU3', 'https://localhost:8443/secure/STU3']);
  });

  it('has a tag and paths for every resource type, profiled types first', () => {
    expect(doc.tags.map((t: { name: string }) => t.name)).toEqual(['System', 'Patient', 'StructureDefinition']);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/metadata', '/', '/_history', '/Patient', '/Patient/{id}', '/Patient/_history', '/Patient/{id}/_history', '/Patient/{id}/_history/{vid}', '/Patient/$validate', '/StructureDefinition', '/StructureDefinition/{id}']),
    );
  });

  it('offers only the interactions the statement declares', () => {
    expect(Object.keys(doc.paths['/Patient'])).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/Patient/{id}'])).toEqual(['get', 'put', 'delete']);
    expect(Object.keys(doc.paths['/StructureDefinition'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/StructureDefinition/{id}'])).toEqual(['get']);
    expect(doc.paths['/StructureDefinition/_history']).toBeUndefined();
  });

  it('turns search parameters, common ones and includes into query parameters', () => {
    const params = doc.paths['/Patient'].get.parameters as Array<{ name?: string; $ref?: string; schema?: { items?: { enum?: string[] } }; description?: string }>;
    const names = params.map((p) => p.name ?? p.$ref!.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['family', 'birthdate', '_id', '_count', '_format', '_include', '_revinclude']));
    expect(names.filter((n) => n === '_count')).toHaveLength(1);
    expect(params.find((p) => p.name === 'family')!.description).toBe('(string) A portion of the family name');
    expect(params.find((p) => p.name === '_include')!.schema!.items!.enum).toEqual(['Patient:general-practitioner']);
    expect(params.find((p) => p.name === '_revinclude')!.description).toContain('Observation:patient');
  });

  it('resolves every $ref it writes', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(10);
    for (const r of new Set(refs)) {
      const target = r.split('/').reduce((node: any, key) => node?.[key], doc);
      expect(target, r).toBeDefined();
    }
  });

  it('declares a bearer scheme, optional, only when asked', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{}, { bearer: [] }]);
    const open = openApiFromCapabilityStatement(cs, { servers: [{ url: 'http://x/STU3', description: 'open' }] }) as any;
    expect(open.components.securitySchemes).toBeUndefined();
    expect(open.security).toBeUndefined();
  });

  it('survives a statement with no rest section', () => {
    const empty = openApiFromCapabilityStatement({ resourceType: 'CapabilityStatement' }, { servers: [] }) as any;
    expect(Object.keys(empty.paths)).toEqual(['/metadata']);
  });
});
