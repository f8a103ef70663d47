import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startListening, type ListeningServer } from '../helpers/listen.js';

/** A real FHIR client (fhir-kit-client) against a listening server, over real HTTP. */
describe('fhir-kit-client against a listening server', () => {
  let server: ListeningServer;
  // The client's own typings are for R4-ish resources; results are checked field by field below.
  let client: any;

  beforeAll(async () => {
    server = await startListening();
    client = new Client({ baseUrl: server.baseUrl });
  });
  afterAll(async () => server.stop());

  it('reads the CapabilityStatement', async () => {
    const cs = await client.capabilityStatement();
    expect(cs.resourceType).toBe('CapabilityStatement');
    expect(cs.fhirVersion).toBe('3.0.2');
  });

  it('creates, reads, updates, vreads, lists history, searches and deletes', async () => {
    const created = (await client.create({
      resourceType: 'Patient',
      body: { resourceType: 'Patient', name: [{ family: 'Kanfeld', given: ['Bernie'] }], gender: 'male' },
    })) as { id: string; meta: { versionId: string } };
    expect(created.meta.versionId).toBe('1');

    const read = (await client.read({ resourceType: 'Patient', id: created.id }));
    expect(read.name[0]!.family).toBe('Kanfeld');

    const updated = (await client.update({
      resourceType: 'Patient',
      id: created.id,
      body: { ...read, gender: 'other' },
    })) as { meta: { versionId: string }; gender: string };
    expect(updated.meta.versionId).toBe('2');

    const v1 = (await client.vread({ resourceType: 'Patient', id: created.id, version: '1' }));
    expect(v1.gender).toBe('male');

    const history = (await client.history({ resourceType: 'Patient', id: created.id })) as { total: number; entry: unknown[] };
    expect(history.total).toBe(2);

    const found = (await client.search({ resourceType: 'Patient', searchParams: { family: 'kanf' } }));
    expect(found.total).toBe(1);

    await client.delete({ resourceType: 'Patient', id: created.id });
    await expect(client.read({ resourceType: 'Patient', id: created.id })).rejects.toMatchObject({ response: { status: 410 } });
  });

  it('sends a transaction and pages through a search', async () => {
    const entries = Array.from({ length: 12 }, (_, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: { resourceType: 'Organization', name: `Practice ${i}` },
      request: { method: 'POST', url: 'Organization' },
    }));
    const response = (await client.transaction({ body: { resourceType: 'Bundle', type: 'transaction', entry: entries } })) as {
      type: string;
      entry: Array<{ response: { status: string } }>;
    };
    expect(response.type).toBe('transaction-response');
    expect(response.entry.every((e) => e.response.status === '201 Created')).toBe(true);

    const page1 = (await client.search({ resourceType: 'Organization', searchParams: { name: 'practice', _count: 5 } })) as {
      total: number;
      entry: Array<{ resource: { name: string } }>;
    };
    expect(page1.total).toBe(12);
    const page2 = (await client.nextPage({ bundle: page1 }));
    const page3 = (await client.nextPage({ bundle: page2 }));
    const names = [...page1.entry, ...page2.entry, ...page3.entry].map((e) => e.resource.name);
    expect(new Set(names).size).toBe(12);
  });
});
