import { parseJson } from '../../fhir/json.js';
import type { FhirResponse, Incoming, Resource } from '../../interactions/types.js';
import { EVERYTHING } from '../../search/access.js';
import { type PreparedBatch, preparedOps } from '../../store/prepared.js';
import type { StoreAdmin } from '../../store/store.js';
import { PreparingWorker } from '../bulk/load.js';
import { messageOf } from './parse.js';
import { type Located, type ReadEvent, readSources } from './reader.js';
import { repairCardinality } from './repair.js';
import type { Source } from './sources.js';
import { validateForImport } from './validate.js';

/** What an import writes with: the store (with bulk loading), and the request pipeline for Bundles. */
export interface ImportContext {
  store: StoreAdmin;
  /** This server's base URL (absolute references under it index as local ones). */
  baseUrl: string;
  dispatch(incoming: Incoming): Promise<FhirResponse>;
}

/** A resource (or bundle) that could not be loaded, and where it was. */
export interface ImportError {
  file: string;
  position: string;
  message: string;
}

export interface ImportOptions {
  /** Check each resource against the Care Connect profile of its type too, not only the STU3 definitions. */
  validate?: boolean;
  /** Do not repair the JSON shape of elements (see repair.ts); report such resources as bad instead. */
  strict?: boolean;
  /** Resources per store transaction for resources written directly (default 500). */
  batchSize?: number;
  /** Called with each bad resource as it is found. */
  onError?: (error: ImportError) => void;
  /** Called as resources are loaded: resources so far and bytes of input consumed so far. */
  onProgress?: (loaded: number, bytes: number) => void;
}

export interface ImportSummary {
  files: number;
  resources: number;
  errors: number;
  /** Resources whose element shapes were repaired on the way in. */
  repaired: number;
  ms: number;
}

/**
 * Loads FHIR resources into the store: transaction and batch Bundles through the
 * request pipeline, as any request (the server's own transaction processing, (so `urn:uuid:` fullUrls and the references to
 * them resolve, and conditional entries work), everything else (NDJSON lines, the
 * entries of collection Bundles, single resources) written directly, a batch per
 * store transaction. A bad resource is reported with its file and position and
 * skipped; the load carries on.
 *
 * Reading (parsing, checking, batching: reader.ts) runs on this thread, or, given a
 * PreparingWorker for the files (a bulk load into SQLite), in that worker, which also
 * indexes and serialises each batch while this thread writes the one before.
 */
export class Importer {
  private readonly summary: ImportSummary = { files: 0, resources: 0, errors: 0, repaired: 0, ms: 0 };
  private bytes = 0;
  private readonly started = performance.now();

  constructor(
    private readonly ctx: ImportContext,
    private readonly options: ImportOptions = {},
  ) {}

  /**
   * Loads `sources`. With `twoThreads` (for a bulk load into SQLite) the files among them are
   * read, indexed and serialised in a worker thread while this one writes; standard input is
   * read here after them.
   */
  async load(sources: readonly Source[], options: { twoThreads?: boolean } = {}): Promise<ImportSummary> {
    const read = { ...(this.options.validate ? { validate: true } : {}), ...(this.options.strict ? { strict: true } : {}), ...(this.options.batchSize ? { batchSize: this.options.batchSize } : {}) };
    const files = sources.filter((s) => s.path !== undefined).map((s) => ({ name: s.path!, size: s.size ?? 0 }));
    if (options.twoThreads && files.length) {
      const worker = new PreparingWorker({ kind: 'files', files, read }, { ...(read.batchSize ? { batchSize: read.batchSize } : {}), baseUrl: this.ctx.baseUrl });
      for await (const e of worker.events(this.ctx.store)) {
        if (e.kind === 'batch') await this.writePrepared(e.batch, e.file!, e.positions!, e.repaired ?? 0);
        else if (e.kind === 'bundle') await this.bundle(parseJson(e.json) as Resource, e.file, e.position);
        else await this.handle(e);
      }
      sources = sources.filter((s) => s.path === undefined);
    }
    for await (const e of readSources(sources, read)) {
      if (e.kind === 'resources') {
        this.summary.repaired += e.repaired;
        await this.write(e.file, e.items);
      } else if (e.kind === 'bundle') await this.bundle(e.bundle, e.file, e.position);
      else await this.handle(e);
    }
    this.summary.ms = Math.round(performance.now() - this.started);
    return { ...this.summary };
  }

  private async handle(e: Extract<ReadEvent, { kind: 'error' | 'read' }>): Promise<void> {
    if (e.kind === 'error') this.error(e.file, e.position, e.message);
    else {
      this.summary.files++;
      this.bytes += e.bytes;
      this.progress();
    }
  }

  /** Writes resources in one transaction; if that fails, one by one to find the bad ones. */
  private async write(file: string, items: Located[]): Promise<void> {
    const write = (list: Located[]) =>
      this.ctx.store.transaction(EVERYTHING, (tx) => tx.writeMany(list.map((p) => ({ type: p.resource.resourceType, id: p.resource.id!, resource: p.resource }))));
    try {
      await write(items);
      this.summary.resources += items.length;
    } catch {
      for (const item of items) {
        try {
          await write([item]);
          this.summary.resources++;
        } catch (err) {
          this.error(file, item.position, `${item.resource.resourceType}/${item.resource.id}: ${messageOf(err)}`);
        }
      }
    }
    this.progress();
  }

  /** Writes a batch the worker prepared; if that fails, its resources one by one. */
  private async writePrepared(batch: PreparedBatch, file: string, positions: string[], repaired: number): Promise<void> {
    this.summary.repaired += repaired;
    try {
      this.summary.resources += await this.ctx.store.writePrepared(batch);
      this.progress();
    } catch {
      const ops = preparedOps(batch);
      await this.write(file, ops.map((op, i) => ({ resource: op.resource as Resource, position: positions[i]! })));
    }
  }

  private async bundle(bundle: Resource, file: string, position: string): Promise<void> {
    const entries = Array.isArray(bundle.entry) ? (bundle.entry as Array<Record<string, unknown>>) : [];
    if (!this.options.strict) {
      for (const e of entries) if (e.resource && typeof e.resource === 'object' && repairCardinality(e.resource as Record<string, unknown>).length) this.summary.repaired++;
    }
    if (this.options.validate) {
      let bad = false;
      entries.forEach((e, i) => {
        const issues = e.resource ? validateForImport(e.resource) : [];
        if (issues.length) {
          bad = true;
          this.error(file, entryPosition(position, i), issues.map((x) => x.diagnostics).join('; '));
        }
      });
      if (bad && bundle.type === 'transaction') return;
    }
    const res = await this.ctx.dispatch({ method: 'POST', path: [], query: [], body: bundle, preconditions: {}, prefer: { return: 'minimal' } });
    if (res.status >= 400) {
      const detail = outcomeText(res);
      const entry = /Bundle\.entry\[(\d+)\]/.exec(detail)?.[1];
      this.error(file, entry !== undefined ? entryPosition(position, Number(entry)) : position, `the ${String(bundle.type)} was not loaded: ${detail}`);
    } else {
      const out = res.body && 'bundle' in res.body ? (res.body.bundle.entry ?? []) : [];
      out.forEach((e, i) => {
        const status = Number(/^(\d{3})/.exec(e.response?.status ?? '')?.[1] ?? 0);
        const method = (entries[i]?.request as { method?: string } | undefined)?.method;
        if (status >= 400) {
          const outcome = e.response?.outcome as { issue?: Array<{ diagnostics?: string }> } | undefined;
          this.error(file, entryPosition(position, i), `${status} ${outcome?.issue?.map((x) => x.diagnostics).join('; ') ?? ''}`.trim());
        } else if (method === 'POST' || method === 'PUT') this.summary.resources++;
      });
    }
    this.progress();
  }

  private error(file: string, position: string, message: string): void {
    this.summary.errors++;
    this.options.onError?.({ file, position, message });
  }

  private progress(): void {
    this.options.onProgress?.(this.summary.resources, this.bytes);
  }
}

/** The diagnostics of an error response's OperationOutcome. */
function outcomeText(res: FhirResponse): string {
  const outcome = res.body && 'resource' in res.body ? (res.body.resource as { issue?: Array<{ diagnostics?: string }> }) : undefined;
  return outcome?.issue?.map((i) => i.diagnostics).join('; ') ?? `status ${res.status}`;
}

function entryPosition(position: string, i: number): string {
  return position === 'file' ? `entry ${i}` : `${position} entry ${i}`;
}
