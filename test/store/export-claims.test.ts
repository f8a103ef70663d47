import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultStoreOptions } from '../../src/store/default-options.js';
import { openStore } from '../../src/store/open.js';
import type { ExportJob, StoreAdmin } from '../../src/store/store.js';
import { createTestSchema } from '../helpers/postgres.js';
import { storeKinds } from '../helpers/server.js';

/**
 * Bulk export jobs on several nodes (issue 13): any node may take up a queued job, and when
 * two nodes ask at the same moment exactly one of them gets it. Two stores opened on one
 * PostgreSQL database race for twenty jobs (on SQLite, one store's concurrent claims); each job must be claimed once, by one node, with one attempt.
 */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function twoNodes(kind: 'sqlite' | 'postgres'): Promise<[StoreAdmin, StoreAdmin]> {
  let location: { databaseUrl: string };
  if (kind === 'postgres') {
    const schema = await createTestSchema('ccri_claims');
    cleanups.push(schema.drop);
    location = { databaseUrl: schema.url };
  } else {
    // Several nodes on one SQLite file are not a supported deployment (docs/storage.md); what races
    // there is one process's concurrent requests, through its one store.
    const dir = mkdtempSync(join(tmpdir(), 'ccri-claims-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const one = await openStore({ ...defaultStoreOptions(), dataDir: dir });
    cleanups.push(async () => one.close());
    return [one, one];
  }
  const a = await openStore({ ...defaultStoreOptions(), ...location });
  const b = await openStore({ ...defaultStoreOptions(), ...location });
  cleanups.push(async () => {
    await a.close();
    await b.close();
  });
  return [a, b];
}

for (const kind of await storeKinds()) {
  describe(`export jobs claimed by racing nodes (${kind})`, () => {
    it('gives each queued job to exactly one node, once', async () => {
      const [a, b] = await twoNodes(kind);
      const now = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        const job: ExportJob = { id: `job-${i}`, status: 'queued', base: 'http://x/STU3', owner: '', request: 'http://x/STU3/$export', params: {}, transactionTime: now, created: now + i, updated: now, attempts: 0 };
        await a.exportJobs().create(job);
        ids.push(job.id);
      }
      // Both nodes ask again and again, at once, until nothing is left to claim.
      const claimed: Array<{ node: string; id: string }> = [];
      const worker = async (store: StoreAdmin, node: string) => {
        for (let misses = 0; misses < 3; ) {
          const job = await store.exportJobs().claim(node, now - 60_000);
          if (job) claimed.push({ node, id: job.id });
          else misses++;
        }
      };
      await Promise.all([worker(a, 'a'), worker(b, 'b'), worker(a, 'a2'), worker(b, 'b2')]);
      expect(claimed.map((c) => c.id).sort()).toEqual([...ids].sort());
      for (const id of ids) {
        const job = (await a.exportJobs().get(id))!;
        expect(job.status).toBe('running');
        expect(job.attempts).toBe(1);
        expect(job.node).toBe(claimed.find((c) => c.id === id)!.node);
      }
    });
  });
}
