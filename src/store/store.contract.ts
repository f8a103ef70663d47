import { EVERYTHING } from '../search/access.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FhirError } from '../fhir/outcome.js';
import type { Access } from '../search/access.js';
import type { Condition, SearchPlan } from '../search/plan.js';
import type { StoreAdmin as Store } from './store.js';
import { runAuthStoreContract } from './auth.contract.js';

/**
 * The contract every store keeps. Each store's test file calls this with a factory;
 * the same assertions then hold for SQLite and PostgreSQL alike.
 */
export function runStoreContract(name: string, open: (clock: () => number) => Promise<{ store: Store; cleanup: () => Promise<void> }>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let now = Date.parse('2024-01-01T00:00:00Z');

    beforeAll(async () => {
      ({ store, cleanup } = await open(() => now));
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });
    beforeEach(async () => {
      await store.clear();
      now = Date.parse('2024-01-01T00:00:00Z');
    });

    runAuthStoreContract(() => store, (ms) => (now = ms));

    const patient = (family: string, extra: Record<string, unknown> = {}) => ({
      resourceType: 'Patient',
      name: [{ family, given: ['Ann'] }],
      ...extra,
    });
    const put = (type: string, id: string, resource: Record<string, unknown> | null, more: { ifMatch?: number; mustNotExist?: boolean; newId?: boolean } = {}) =>
      store.transaction(EVERYTHING, (tx) => tx.write({ type, id, resource, ...more }));
    const plan = (type: string, where: Condition[], more: Partial<SearchPlan> = {}): SearchPlan => ({
      types: [type], where, sort: [], count: 50, offset: 0, total: true, ...more,
    });
    const ids = async (p: SearchPlan) => (await store.reader(EVERYTHING).search(p)).rows.map((r) => r.id);

    it('creates, then reads the JSON exactly as stored, with meta set by the store', async () => {
      const result = await put('Patient', 'p1', patient('Smith'));
      expect(result.kind).toBe('created');
      const read = await store.reader(EVERYTHING).read('Patient', 'p1');
      expect(read?.version).toBe(1);
      expect(read?.deleted).toBe(false);
      expect(read?.json).toBe(result.version.json);
      const json = JSON.parse(read!.json!);
      expect(json.id).toBe('p1');
      expect(json.meta).toEqual({ versionId: '1', lastUpdated: '2024-01-01T00:00:00.000Z' });
      expect((await store.counts()).get('Patient')).toBe(1);
    });

    it('keeps every version for vread and history, newest first', async () => {
      await put('Patient', 'p1', patient('Smith'));
      now += 1000;
      await put('Patient', 'p1', patient('Jones'));
      expect((await store.reader(EVERYTHING).read('Patient', 'p1'))?.version).toBe(2);
      expect(JSON.parse((await store.reader(EVERYTHING).vread('Patient', 'p1', 1))!.json!).name[0].family).toBe('Smith');
      expect(JSON.parse((await store.reader(EVERYTHING).vread('Patient', 'p1', 2))!.json!).name[0].family).toBe('Jones');
      expect(await store.reader(EVERYTHING).vread('Patient', 'p1', 3)).toBeUndefined();
      const h = await store.reader(EVERYTHING).history({ type: 'Patient', id: 'p1', count: 10 });
      expect(h.total).toBe(2);
      expect(h.versions.map((v) => v.version)).toEqual([2, 1]);
      expect(h.versions.map((v) => v.method)).toEqual(['PUT', 'POST']);
    });

    it('deletes as a new version; deleting again changes nothing; a later update revives it', async () => {
      await put('Patient', 'p1', patient('Smith'));
      const del = await put('Patient', 'p1', null);
      expect(del.kind).toBe('deleted');
      const read = await store.reader(EVERYTHING).read('Patient', 'p1');
      expect(read?.deleted).toBe(true);
      expect(read?.json).toBeNull();
      expect((await store.counts()).get('Patient') ?? 0).toBe(0);
      expect((await put('Patient', 'p1', null)).kind).toBe('noop');
      expect((await put('Patient', 'nobody', null)).kind).toBe('noop');
      expect(await ids(plan('Patient', []))).toEqual([]);
      const revived = await put('Patient', 'p1', patient('Smith'));
      expect(revived.kind).toBe('created');
      expect(revived.version.version).toBe(3);
      expect((await store.reader(EVERYTHING).history({ type: 'Patient', id: 'p1', count: 10 })).versions.map((v) => v.method)).toEqual(['PUT', 'DELETE', 'POST']);
    });

    it('enforces If-Match with a 412 and mustNotExist with a 409', async () => {
      await put('Patient', 'p1', patient('Smith'));
      await expect(put('Patient', 'p1', patient('X'), { ifMatch: 2 })).rejects.toMatchObject({ status: 412 });
      expect((await put('Patient', 'p1', patient('X'), { ifMatch: 1 })).version.version).toBe(2);
      await expect(put('Patient', 'nobody', patient('X'), { ifMatch: 1 })).rejects.toMatchObject({ status: 412 });
      await expect(put('Patient', 'p1', patient('Y'), { mustNotExist: true })).rejects.toMatchObject({ status: 409 });
    });

    it('writes a server-made id without looking it up, and should it exist after all, leaves that resource be (409)', async () => {
      expect((await put('Patient', 'made-1', patient('New'), { mustNotExist: true, newId: true })).kind).toBe('created');
      await expect(put('Patient', 'made-1', patient('Clash'), { mustNotExist: true, newId: true })).rejects.toMatchObject({ status: 409 });
      const kept = await store.reader(EVERYTHING).read('Patient', 'made-1');
      expect(kept?.version).toBe(1);
      expect(JSON.parse(kept!.json!).name[0].family).toBe('New');
      expect((await store.reader(EVERYTHING).search(plan('Patient', []))).total).toBe(1);
    });

    it('of two concurrent updates with the same If-Match, exactly one succeeds', async () => {
      await put('Patient', 'p1', patient('Smith'));
      for (let round = 1; round <= 5; round++) {
        const results = await Promise.allSettled([
          put('Patient', 'p1', patient(`A${round}`), { ifMatch: round }),
          put('Patient', 'p1', patient(`B${round}`), { ifMatch: round }),
        ]);
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(ok).toHaveLength(1);
        expect(failed).toHaveLength(1);
        expect(failed[0]!.reason).toBeInstanceOf(FhirError);
        expect((failed[0]!.reason as FhirError).status).toBe(412);
        expect((await store.reader(EVERYTHING).read('Patient', 'p1'))?.version).toBe(round + 1);
      }
    });

    it('never loses a write among concurrent creates', async () => {
      await Promise.all(Array.from({ length: 60 }, (_, i) => put('Patient', `c${i}`, patient(`F${i}`))));
      expect((await store.counts()).get('Patient')).toBe(60);
      expect((await store.reader(EVERYTHING).search(plan('Patient', [], { count: 100 }))).rows).toHaveLength(60);
    });

    it('leaves nothing behind when a transaction fails', async () => {
      await put('Patient', 'keep', patient('Keep'));
      await expect(
        store.transaction(EVERYTHING, async (tx) => {
          await tx.write({ type: 'Patient', id: 'p1', resource: patient('Smith') });
          await tx.write({ type: 'Patient', id: 'keep', resource: patient('Changed') });
          expect((await tx.read('Patient', 'p1'))?.version).toBe(1);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.reader(EVERYTHING).read('Patient', 'p1')).toBeUndefined();
      expect((await store.reader(EVERYTHING).read('Patient', 'keep'))?.version).toBe(1);
      expect((await store.counts()).get('Patient')).toBe(1);
      expect((await store.reader(EVERYTHING).history({ count: 10 })).total).toBe(1);
      expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['smith'], mode: 'prefix' }]))).toEqual([]);
      // The store still works after the rollback.
      expect((await put('Patient', 'p1', patient('Smith'))).kind).toBe('created');
    });

    it('pages type and system history with _since', async () => {
      for (let i = 0; i < 5; i++) {
        now += 1000;
        await put(i % 2 ? 'Observation' : 'Patient', `h${i}`, i % 2 ? { resourceType: 'Observation', status: 'final', code: { text: 'x' } } : patient(`H${i}`));
      }
      const all = await store.reader(EVERYTHING).history({ count: 2 });
      expect(all.total).toBe(5);
      expect(all.versions.map((v) => v.id)).toEqual(['h4', 'h3']);
      const next = await store.reader(EVERYTHING).history({ count: 2, beforeSeq: all.versions[1]!.seq });
      expect(next.versions.map((v) => v.id)).toEqual(['h2', 'h1']);
      const type = await store.reader(EVERYTHING).history({ type: 'Patient', count: 10 });
      expect(type.versions.map((v) => v.id)).toEqual(['h4', 'h2', 'h0']);
      const since = await store.reader(EVERYTHING).history({ since: Date.parse('2024-01-01T00:00:03Z'), count: 10 });
      expect(since.versions.map((v) => v.id)).toEqual(['h4', 'h3', 'h2']);
    });

    describe('search', () => {
      beforeEach(async () => {
        await put('Patient', 'a', patient('Kanfeld', { gender: 'male', birthDate: '1970-05-03', identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9876543210' }] }));
        await put('Patient', 'b', patient('Känfeld-Smith', { gender: 'female', birthDate: '1980', active: true }));
        await put('Patient', 'c', patient('Jones', { gender: 'male', birthDate: '1990-01-01' }));
        await put('Observation', 'o1', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://snomed.info/sct', code: '271649006' }] }, subject: { reference: 'Patient/a' }, valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }, effectiveDateTime: '2020-02-03T10:00:00Z' });
        await put('Observation', 'o2', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: 'Patient/c' }, valueQuantity: { value: 1, system: 'http://unitsofmeasure.org', code: 'g' }, effectiveDateTime: '2021-02-03' });
        await put('Observation', 'o3', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/a' }, valueQuantity: { value: 1000, system: 'http://unitsofmeasure.org', code: 'mg' } });
      });

      it('matches strings by accent- and case-folded prefix, :exact and :contains', async () => {
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['kanfeld'], mode: 'prefix' }]))).toEqual(['a', 'b']);
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['Kanfeld'], mode: 'exact' }]))).toEqual(['a']);
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['smith'], mode: 'contains' }]))).toEqual(['b']);
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'name', values: ['ann'], mode: 'prefix' }]))).toEqual(['a', 'b', 'c']);
      });

      it('matches tokens by code, system|code, |code and system|, and :not', async () => {
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'gender', values: [{ code: 'male' }] }]))).toEqual(['a', 'c']);
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', code: '9876543210' }] }]))).toEqual(['a']);
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: 'https://fhir.nhs.uk/Id/nhs-number' }] }]))).toEqual(['a']);
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'identifier', values: [{ system: null, code: '9876543210' }] }]))).toEqual([]);
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'active', values: [{ code: 'true' }] }]))).toEqual(['b']);
        expect(await ids(plan('Patient', [{ kind: 'token', param: 'gender', values: [{ code: 'male' }], not: true }]))).toEqual(['b']);
      });

      it('matches dates as ranges with prefixes', async () => {
        const y1980 = { low: Date.parse('1980-01-01T00:00:00Z'), high: Date.parse('1981-01-01T00:00:00Z') - 1 };
        expect(await ids(plan('Patient', [{ kind: 'date', param: 'birthdate', values: [{ prefix: 'eq', ...y1980 }] }]))).toEqual(['b']);
        expect(await ids(plan('Patient', [{ kind: 'date', param: 'birthdate', values: [{ prefix: 'ne', ...y1980 }] }]))).toEqual(['a', 'c']);
        expect(await ids(plan('Patient', [{ kind: 'date', param: 'birthdate', values: [{ prefix: 'sa', ...y1980 }] }]))).toEqual(['c']);
        expect(await ids(plan('Patient', [{ kind: 'date', param: 'birthdate', values: [{ prefix: 'eb', ...y1980 }] }]))).toEqual(['a']);
        expect(await ids(plan('Patient', [{ kind: 'date', param: 'birthdate', values: [{ prefix: 'ge', ...y1980 }] }]))).toEqual(['b', 'c']);
      });

      it('compares quantities in UCUM canonical units', async () => {
        const q = { prefix: 'eq' as const, value: 1, low: 0.5, high: 1.5, canon: { value: 1, low: 0.5, high: 1.5, unit: 'g' } };
        expect(await ids(plan('Observation', [{ kind: 'quantity', param: 'value-quantity', values: [q] }]))).toEqual(['o2', 'o3']);
      });

      it('follows references, chains, reverse chains and the patient compartment', async () => {
        expect(await ids(plan('Observation', [{ kind: 'reference', param: 'subject', values: [{ type: 'Patient', id: 'a' }] }]))).toEqual(['o1', 'o3']);
        expect(await ids(plan('Observation', [{ kind: 'reference', param: 'patient', values: [{ id: 'c' }] }]))).toEqual(['o2']);
        expect(
          await ids(plan('Observation', [{ kind: 'chain', param: 'subject', targetTypes: ['Patient'], where: { kind: 'token', param: 'gender', values: [{ code: 'male' }] } }])),
        ).toEqual(['o1', 'o2', 'o3']);
        expect(
          await ids(plan('Patient', [{ kind: 'has', type: 'Observation', param: 'subject', where: { kind: 'token', param: 'code', values: [{ code: '8867-4' }] } }])),
        ).toEqual(['c']);
        expect(await ids(plan('Observation', [{ kind: 'compartment', patient: 'a' }]))).toEqual(['o1', 'o3']);
        expect(await ids({ ...plan('Patient', [{ kind: 'compartment', patient: 'a' }]), types: ['Patient', 'Observation'] })).toEqual(['a', 'o1', 'o3']);
      });

      it('finds resources missing a value, and sorts, pages and counts', async () => {
        expect(await ids(plan('Observation', [{ kind: 'missing', param: 'date', table: 'date', missing: true }]))).toEqual(['o3']);
        expect(await ids(plan('Patient', [], { sort: [{ param: 'birthdate', table: 'date', descending: true }] }))).toEqual(['c', 'b', 'a']);
        expect(await ids(plan('Patient', [], { sort: [{ param: 'family', table: 'string', descending: false }] }))).toEqual(['c', 'a', 'b']);
        const page = await store.reader(EVERYTHING).search(plan('Patient', [], { count: 2, offset: 1 }));
        expect(page.rows.map((r) => r.id)).toEqual(['b', 'c']);
        expect(page.total).toBe(3);
        expect(page.more).toBe(false);
        const first = await store.reader(EVERYTHING).search(plan('Patient', [{ kind: 'token', param: 'gender', values: [{ code: 'male' }] }], { count: 1 }));
        expect(first.more).toBe(true);
        expect(first.total).toBe(2);
      });

      it('narrows every read to the access it was made for', async () => {
        await put('Organization', 'org', { resourceType: 'Organization', name: 'Practice' });
        const onlyA: Access = { default: 'compartment', patients: ['a'] };
        const a = store.reader(onlyA);
        expect((await a.read('Patient', 'a'))?.id).toBe('a');
        expect(await a.read('Patient', 'c')).toBeUndefined();
        expect(await a.read('Observation', 'o2')).toBeUndefined();
        expect(await a.vread('Observation', 'o2', 1)).toBeUndefined();
        expect((await a.vread('Observation', 'o1', 1))?.id).toBe('o1');
        // A type with no patient compartment is seen only where the access says so.
        expect(await a.read('Organization', 'org')).toBeUndefined();
        expect((await store.reader({ ...onlyA, types: { Organization: 'all' } }).read('Organization', 'org'))?.id).toBe('org');
        expect(await store.reader({ default: 'all', types: { Organization: 'none' }, patients: [] }).read('Organization', 'org')).toBeUndefined();
        const page = await a.search({ ...plan('Patient', []), types: ['Patient', 'Observation', 'Organization'] });
        expect(page.rows.map((r) => r.id)).toEqual(['a', 'o1', 'o3']);
        expect(page.total).toBe(3);
        // Inner queries are narrowed too: a chain cannot test a patient the caller cannot see.
        const chain = plan('Observation', [{ kind: 'chain', param: 'subject', targetTypes: ['Patient'], where: { kind: 'token', param: 'gender', values: [{ code: 'male' }] } }]);
        expect((await store.reader({ default: 'compartment', types: { Observation: 'all' }, patients: ['a'] }).search(chain)).rows.map((r) => r.id)).toEqual(['o1', 'o3']);
        // A deleted resource keeps its compartment: its deletion and history are still its patient's.
        await put('Observation', 'o1', null);
        expect((await a.read('Observation', 'o1'))?.deleted).toBe(true);
        expect((await store.reader({ default: 'compartment', patients: ['c'] }).read('Observation', 'o1'))).toBeUndefined();
        const history = await a.history({ type: 'Observation', count: 10 });
        expect(history.versions.map((v) => `${v.id}/${v.version}`)).toEqual(['o1/2', 'o3/1', 'o1/1']);
        expect((await a.history({ count: 10 })).total).toBe(4);
        // A revival takes its compartment rows afresh (none twice).
        await put('Observation', 'o1', { resourceType: 'Observation', status: 'final', code: { text: 'y' }, subject: { reference: 'Patient/c' } });
        expect(await a.read('Observation', 'o1')).toBeUndefined();
        expect((await store.reader({ default: 'compartment', patients: ['c'] }).search(plan('Observation', []))).total).toBe(2);
      });

      it('narrows reads inside a transaction, and lets writes touch and leave resources only inside the compartments', async () => {
        const onlyA: Access = { default: 'compartment', patients: ['a'] };
        await store.transaction(onlyA, async (tx) => {
          expect(await tx.read('Observation', 'o2')).toBeUndefined();
          expect((await tx.search(plan('Observation', []))).rows.map((r) => r.id)).toEqual(['o1', 'o3']);
        });
        const write = (type: string, id: string, resource: Record<string, unknown> | null, access: Access = onlyA) => store.transaction(access, (tx) => tx.write({ type, id, resource }));
        const obs = (subject: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient/${subject}` } });
        expect((await write('Patient', 'a', patient('Kanfeld', { gender: 'male' }))).kind).toBe('updated');
        expect((await write('Observation', 'new-a', obs('a'))).kind).toBe('created');
        // Another patient's resource cannot be changed, and a new one cannot be put in another's compartment.
        await expect(write('Observation', 'o2', obs('a'))).rejects.toMatchObject({ status: 403 });
        await expect(write('Observation', 'new-c', obs('c'))).rejects.toMatchObject({ status: 403 });
        await expect(write('Observation', 'o1', obs('c'))).rejects.toMatchObject({ status: 403 });
        await expect(write('Patient', 'c', patient('Jones'))).rejects.toMatchObject({ status: 403 });
        // Deleting what the writer cannot see changes nothing, as if it were absent.
        expect((await write('Observation', 'o2', null)).kind).toBe('noop');
        expect((await store.reader(EVERYTHING).read('Observation', 'o2'))?.deleted).toBe(false);
        expect((await write('Observation', 'o1', null)).kind).toBe('deleted');
        // Reading in full does not let a caller write beyond what it may write.
        const readAllWriteA: Access = { default: 'all', patients: ['a'], write: { default: 'compartment' } };
        await expect(write('Observation', 'o2', obs('c'), readAllWriteA)).rejects.toMatchObject({ status: 403 });
        await expect(write('Organization', 'org1', { resourceType: 'Organization' }, { ...readAllWriteA, write: { default: 'none' } })).rejects.toMatchObject({ status: 403 });
        expect(await store.reader(EVERYTHING).read('Observation', 'new-c')).toBeUndefined();
      });

      it('replaces index rows on update and drops them on delete', async () => {
        await put('Patient', 'a', patient('Changed'));
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['kanfeld'], mode: 'prefix' }]))).toEqual(['b']);
        await put('Patient', 'b', null);
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['kanfeld'], mode: 'prefix' }]))).toEqual([]);
        expect(await store.reindex()).toBe(5);
        expect(await ids(plan('Patient', [{ kind: 'string', param: 'family', values: ['changed'], mode: 'prefix' }]))).toEqual(['a']);
      });
    });
  });
}
