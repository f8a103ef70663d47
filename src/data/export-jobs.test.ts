import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../interactions/types.js';
import { EVERYTHING } from '../search/access.js';
import { defaultStoreOptions } from '../store/default-options.js';
import { openStore } from '../store/open.js';
import type { SqlStore } from '../store/sql/sql-store.js';
import type { StoreAdmin, StoreReader } from '../store/store.js';
import { ExportJobs } from './export-jobs.js';

/**
 * A job whose files fail under it (its folder removed, as a cancel racing the job's start
 * does, or a full disk) ends, and a node stopping does not wait for it forever: a failed
 * file stream takes no more writes and never drains. Three Patients, two a page: the first
 * page's file fails while the second page is read, and the job then writes its last rows.
 */
describe('bulk export jobs whose files fail', () => {
  let dir: string;
  let store: SqlStore;
  const caller = { base: 'http://localhost/STU3', owner: '', access: EVERYTHING, request: 'http://localhost/STU3/$export', requiresAccessToken: false };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ccri-export-jobs-'));
    store = await openStore({ ...defaultStoreOptions(), sqliteFile: ':memory:' });
    await store.transaction(EVERYTHING, async (tx) => {
      for (const id of ['p1', 'p2', 'p3']) await tx.write({ type: 'Patient', id, resource: { resourceType: 'Patient', name: [{ family: id }] } });
    });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The store, whose reader runs `meddle` after each page it reads, then lets the event loop
   * turn (so that a file the job opened after the page before has failed by the next page).
   */
  const meddling = (meddle: () => Promise<void>): StoreAdmin =>
    new Proxy(store, {
      get(target, key) {
        if (key !== 'reader') return Reflect.get(target, key, target);
        return (access: typeof EVERYTHING): StoreReader => {
          const reader = target.reader(access);
          return new Proxy(reader, {
            get(r, k) {
              const value = Reflect.get(r, k, r) as unknown;
              if (k !== 'search') return typeof value === 'function' ? value.bind(r) : value;
              return async (...args: Parameters<StoreReader['search']>) => {
                const page = await reader.search(...args);
                await meddle();
                await new Promise((r) => setTimeout(r, 50));
                return page;
              };
            },
          });
        };
      },
    }) as unknown as StoreAdmin;

  const logged = () => {
    const errors: unknown[] = [];
    const log: Logger = { info: () => undefined, warn: () => undefined, error: (obj) => void errors.push(obj), child: () => log };
    return { log, errors };
  };

  /** Polls the job until it leaves the running state (or 5 s pass). */
  const settled = async (jobs: ExportJobs, id: string) => {
    for (let i = 0; i < 200; i++) {
      const state = await jobs.status(id, caller);
      if (state?.state !== 'running') return state;
      await new Promise((r) => setTimeout(r, 25));
    }
    return jobs.status(id, caller);
  };

  /** Stops the node, or says that it did not stop. */
  const stopped = (jobs: ExportJobs) => Promise.race([jobs.stop().then(() => 'stopped'), new Promise((r) => setTimeout(() => r('still waiting for its job'), 5_000))]);

  it('a file that cannot be written fails the job, says so, and lets the node stop', async () => {
    const { log, errors } = logged();
    let id = '';
    const jobs: ExportJobs = new ExportJobs({ store: meddling(async () => rmSync(join(dir, 'exports', id), { recursive: true, force: true })), dataDir: dir, ttlMs: 60_000, log, pollMs: 20, pageSize: 2 });
    id = await jobs.start({ level: 'system', types: ['Patient'] }, caller);
    jobs.run();
    const state = await settled(jobs, id);
    expect(await stopped(jobs)).toBe('stopped');
    expect(state).toEqual({ state: 'failed', error: 'The export failed on the server; the error has been logged' });
    expect(errors).toHaveLength(1);
  });

  it('a job cancelled as it started, its folder removed under it, ends quietly and is gone', async () => {
    const { log, errors } = logged();
    let id = '';
    let pages = 0;
    let lastPage: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (lastPage = resolve));
    const cancelThenRemove = async () => {
      if (++pages === 1) {
        await store.exportJobs().cancel(id, Date.now() + 60_000);
        rmSync(join(dir, 'exports', id), { recursive: true, force: true });
      } else lastPage();
    };
    const jobs: ExportJobs = new ExportJobs({ store: meddling(cancelThenRemove), dataDir: dir, ttlMs: 60_000, log, pollMs: 20, pageSize: 2 });
    id = await jobs.start({ level: 'system', types: ['Patient'] }, caller);
    jobs.run();
    // Stopped once the job has read its last page: it asks no more whether the node is stopping, and writes its files.
    await read;
    expect(await stopped(jobs)).toBe('stopped');
    expect(await jobs.status(id, caller)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
