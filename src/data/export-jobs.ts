import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { BulkExports, ExportCaller, ExportSpec, ExportState, Logger } from '../interactions/types.js';
import type { Access } from '../search/access.js';
import type { Condition } from '../search/plan.js';
import type { ExportJob, StoreAdmin, StoreReader } from '../store/store.js';

/**
 * Bulk data export jobs (FHIR Bulk Data Access 1.0 on STU3,
 * https://hl7.org/fhir/uv/bulkdata/STU1/export/index.html): kept in the store, so any
 * node answers for a job and none is lost when a node stops; run one at a time per node,
 * each reading through the requester's access (what they would see) and writing one
 * NDJSON file per type under `<data dir>/exports/<job id>/`. Files and jobs are removed
 * `ttlMs` after the job ends.
 *
 * A node that stops mid-job stops beating its heart: after `staleMs` any node (this one,
 * started again) takes the job up and runs it afresh; after MAX_ATTEMPTS starts the job
 * fails, and says why.
 */

export interface ExportJobsOptions {
  store: StoreAdmin;
  /** The data directory: files go under `exports/` in it. */
  dataDir: string;
  /** How long a finished job and its files are kept, in ms. */
  ttlMs: number;
  log: Logger;
  clock?: () => number;
  /** How often a node looks for queued jobs and expired ones, in ms. */
  pollMs?: number;
  /** A running job whose node has been silent this long is taken up again, in ms. */
  staleMs?: number;
  /** Rows read per query. */
  pageSize?: number;
}

export const MAX_ATTEMPTS = 3;
const HEARTBEAT_MS = 2_000;
const FLUSH_CHARS = 1 << 20;
const MEMBERS_PER_QUERY = 500;

interface Params {
  spec: ExportSpec;
  access: Access;
  requiresAccessToken: boolean;
}

interface OutputFile {
  type: string;
  file: string;
  count: number;
}

class Stopped extends Error {}

/** Resolves once `stream` takes writes again, or has closed (after an error: the caller then sees it failed). */
function drained(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done);
      resolve();
    };
    stream.on('drain', done).on('close', done);
  });
}

export class ExportJobs implements BulkExports {
  private readonly node = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly clock: () => number;
  private readonly dir: string;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private stopping = false;
  private ticking = false;

  constructor(private readonly options: ExportJobsOptions) {
    this.clock = options.clock ?? Date.now;
    this.dir = join(options.dataDir, 'exports');
  }

  /** Starts looking for work: now, and every `pollMs`. */
  run(): void {
    this.stopping = false;
    this.timer = setInterval(() => void this.tick(), this.options.pollMs ?? 1_000);
    this.timer.unref();
    void this.tick();
  }

  /** Stops: a job running here is left to be taken up again (by another node, or this one restarted). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.current?.catch(() => undefined);
  }

  async start(spec: ExportSpec, caller: ExportCaller): Promise<string> {
    const id = randomUUID();
    const now = this.clock();
    const params: Params = { spec, access: caller.access, requiresAccessToken: caller.requiresAccessToken };
    await this.options.store.exportJobs().create({
      id,
      status: 'queued',
      base: caller.base,
      owner: caller.owner,
      request: caller.request,
      params: params as unknown as Record<string, unknown>,
      transactionTime: now,
      created: now,
      updated: now,
      attempts: 0,
    });
    if (this.timer) void this.tick();
    return id;
  }

  async status(id: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<ExportState | undefined> {
    const job = await this.mine(id, caller);
    if (!job || job.status === 'cancelled') return undefined;
    if (job.status === 'failed') return { state: 'failed', error: job.error ?? 'The export failed' };
    if (job.status === 'done') return { state: 'done', manifest: this.manifest(job), expires: job.expires ?? this.clock() };
    return { state: 'running', progress: job.status === 'queued' ? 'queued' : (job.progress ?? 'started') };
  }

  async cancel(id: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<boolean> {
    const job = await this.mine(id, caller);
    if (!job || job.status === 'cancelled') return false;
    await this.options.store.exportJobs().cancel(id, this.clock());
    // The node running it notices at its next page; finished jobs' files go now.
    if (job.status !== 'running') await this.discard(id);
    return true;
  }

  async file(id: string, name: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<string | undefined> {
    if (!/^[A-Za-z]+\.ndjson$/.test(name)) return undefined;
    const job = await this.mine(id, caller);
    if (!job || job.status !== 'done') return undefined;
    const outputs = (job.output as OutputFile[] | undefined) ?? [];
    if (!outputs.some((o) => o.file === name)) return undefined;
    const path = join(this.dir, id, name);
    return existsSync(path) ? path : undefined;
  }

  private async mine(id: string, caller: Pick<ExportCaller, 'base' | 'owner'>): Promise<ExportJob | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const job = await this.options.store.exportJobs().get(id);
    if (!job || job.base !== caller.base || job.owner !== caller.owner) return undefined;
    if (job.expires !== undefined && job.expires <= this.clock()) return undefined;
    return job;
  }

  private manifest(job: ExportJob): Record<string, unknown> {
    const params = job.params as unknown as Params;
    return {
      transactionTime: new Date(job.transactionTime).toISOString(),
      request: job.request,
      requiresAccessToken: params.requiresAccessToken,
      output: ((job.output as OutputFile[] | undefined) ?? []).map((o) => ({ type: o.type, url: `${job.base}/$export-file?_jobId=${job.id}&_file=${o.file}`, count: o.count })),
      error: [],
    };
  }

  /** One round: expired jobs removed, then a job claimed and run if none runs here. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      await this.sweep();
      if (this.current) return;
      const staleBefore = this.clock() - (this.options.staleMs ?? 30_000);
      const job = await this.options.store.exportJobs().claim(this.node, staleBefore);
      if (!job) return;
      this.current = this.execute(job).finally(() => {
        this.current = undefined;
        if (!this.stopping) setImmediate(() => void this.tick());
      });
    } catch (err) {
      this.options.log.error({ err }, 'bulk export: could not look for jobs');
    } finally {
      this.ticking = false;
    }
  }

  private async sweep(): Promise<void> {
    const jobs = this.options.store.exportJobs();
    for (const job of await jobs.expired(this.clock())) {
      await this.discard(job.id);
      await jobs.remove(job.id);
    }
  }

  private async discard(id: string): Promise<void> {
    rmSync(join(this.dir, id), { recursive: true, force: true });
  }

  private async execute(job: ExportJob): Promise<void> {
    const jobs = this.options.store.exportJobs();
    const ttl = this.options.ttlMs;
    if (job.attempts > MAX_ATTEMPTS) {
      await jobs.update(job.id, this.node, { status: 'failed', error: `The export was interrupted ${job.attempts - 1} times (its node stopped) and was given up`, expires: this.clock() + ttl });
      return;
    }
    const params = job.params as unknown as Params;
    const dir = join(this.dir, job.id);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = new Map<string, { stream: WriteStream; buffer: string; count: number }>();
    let written = 0;
    let beat = this.clock();
    let type = '';
    let failure: Error | undefined;
    // Often enough that no other node takes the job for a dead one's.
    const every = Math.min(HEARTBEAT_MS, (this.options.staleMs ?? 30_000) / 4);
    const alive = async () => {
      if (this.stopping) throw new Stopped('stopping');
      if (failure) throw failure;
      if (this.clock() - beat < every) return;
      beat = this.clock();
      const still = await jobs.update(job.id, this.node, { heartbeat: beat, progress: `${written} resources written${type ? ` (now ${type})` : ''}` });
      if (!still) throw new Stopped('lost');
    };
    const flush = async (f: { stream: WriteStream; buffer: string }) => {
      if (!f.buffer) return;
      // A stream that failed (its folder removed by a cancel, a full disk) takes no more writes and never drains.
      if (f.stream.destroyed) throw failure ?? new Error('an export file was closed before the job ended');
      const chunk = f.buffer;
      f.buffer = '';
      if (!f.stream.write(chunk)) await drained(f.stream);
    };
    /** Adds a page's rows to their files' buffers; a buffer grown large is written out. */
    const add = async (rows: Array<{ type: string; json: string }>) => {
      for (const { type: t, json } of rows) {
        let f = files.get(t);
        if (!f) {
          f = { stream: createWriteStream(join(dir, `${t}.ndjson`)), buffer: '', count: 0 };
          // A write that fails (a full disk, the folder removed by a cancel) fails the job, never the process.
          f.stream.on('error', (err) => (failure ??= err));
          files.set(t, f);
        }
        f.buffer += json;
        f.buffer += '\n';
        f.count++;
      }
      written += rows.length;
      for (const f of files.values()) if (f.buffer.length >= FLUSH_CHARS) await flush(f);
    };
    try {
      const reader = this.options.store.reader(params.access);
      for await (const rows of this.pages(reader, params.spec, job.transactionTime, (t) => (type = t), alive)) await add(rows);
      for (const f of files.values()) await flush(f);
      if (failure) throw failure;
      await Promise.all([...files.values()].map((f) => new Promise<void>((resolve, reject) => f.stream.end((err?: Error | null) => (err ? reject(err) : resolve())))));
      const output: OutputFile[] = [...files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, f]) => ({ type: t, file: `${t}.ndjson`, count: f.count }));
      const done = await jobs.update(job.id, this.node, { status: 'done', output, progress: `${written} resources written`, expires: this.clock() + ttl });
      if (!done) throw new Stopped('lost');
      this.options.log.info({ job: job.id, resources: written }, 'bulk export done');
    } catch (err) {
      await Promise.all([...files.values()].map((f) => new Promise<void>((resolve) => (f.stream.closed || f.stream.destroyed ? resolve() : f.stream.destroy().once('close', () => resolve())))));
      if (err instanceof Stopped && err.message === 'stopping') return;
      // A job cancelled while it ran (whose folder the cancel may have removed under it) just ends: its files go.
      if ((await jobs.get(job.id).catch(() => undefined))?.status === 'cancelled') {
        rmSync(dir, { recursive: true, force: true });
        return;
      }
      // No longer this node's: taken up by another node after a stall (the files are the other's now).
      if (err instanceof Stopped) return;
      this.options.log.error({ err, job: job.id }, 'bulk export failed');
      rmSync(dir, { recursive: true, force: true });
      await jobs.update(job.id, this.node, { status: 'failed', error: 'The export failed on the server; the error has been logged', expires: this.clock() + ttl }).catch(() => undefined);
    }
  }

  /** Every resource the export covers, as the requester may see it, changed by the transaction time (and since `_since`), a page at a time. */
  private async *pages(reader: StoreReader, spec: ExportSpec, transactionTime: number, onType: (type: string) => void, alive: () => Promise<void>): AsyncGenerator<Array<{ type: string; id: string; json: string }>> {
    const pageSize = this.options.pageSize ?? 5_000;
    const when: Condition[] = [{ kind: 'lastUpdated', values: [{ prefix: 'le', low: transactionTime, high: transactionTime }] }];
    if (spec.since !== undefined) when.push({ kind: 'lastUpdated', values: [{ prefix: 'ge', low: spec.since, high: spec.since }] });
    const counts = await this.options.store.counts();
    const page = async function* (types: string[], where: Condition[]) {
      let after: number | undefined;
      for (;;) {
        await alive();
        const p = await reader.search({ types, where, sort: [], count: pageSize, offset: 0, total: false, ...(after !== undefined ? { after } : {}) });
        yield p.rows.filter((v): v is typeof v & { json: string } => v.json !== null);
        if (!p.more || p.lastRid === undefined) return;
        after = p.lastRid;
      }
    };
    if (spec.level !== 'group') {
      for (const type of spec.types) {
        if (!counts.get(type)) continue;
        onType(type);
        yield* page([type], when);
      }
      return;
    }
    // A group: its members' compartments, some members at a time; a resource in two members' compartments once.
    const members = spec.members ?? [];
    const seen = new Set<string>();
    const types = spec.types.filter((t) => counts.get(t));
    if (!types.length) return;
    for (let i = 0; i < members.length; i += MEMBERS_PER_QUERY) {
      onType(`members ${i + 1}-${Math.min(members.length, i + MEMBERS_PER_QUERY)} of ${members.length}`);
      for await (const rows of page(types, [{ kind: 'compartments', patients: members.slice(i, i + MEMBERS_PER_QUERY) }, ...when])) {
        if (members.length <= MEMBERS_PER_QUERY) {
          yield rows;
          continue;
        }
        yield rows.filter((row) => {
          const key = `${row.type}/${row.id}`;
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
      }
    }
  }
}
