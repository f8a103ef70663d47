import { randomUUID } from 'node:crypto';
import { fhirModel } from '../../fhir/definitions/model.js';
import { FhirError } from '../../fhir/outcome.js';
import { transaction } from '../../interactions/transaction.js';
import type { RequestContext, Resource } from '../../interactions/types.js';
import { messageOf, parseUnits } from './parse.js';
import { repairCardinality } from './repair.js';
import type { Source } from './sources.js';
import { validateStructure } from '../../validation/structure.js';
import { validateForImport } from './validate.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** A resource (or bundle) that could not be loaded, and where it was. */
export interface ImportError {
  file: string;
  position: string;
  message: string;
}

export interface ImportOptions {
  /** Validate each resource before writing it (structure now; Care Connect profiles later). */
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

interface Pending {
  resource: Resource;
  file: string;
  position: string;
}

/**
 * Loads FHIR resources into the store: transaction and batch Bundles through the
 * server's own transaction processing (so `urn:uuid:` fullUrls and the references to
 * them resolve, and conditional entries work), everything else (NDJSON lines, the
 * entries of collection Bundles, single resources) written directly, a batch per
 * store transaction. A bad resource is reported with its file and position and
 * skipped; the load carries on.
 */
export class Importer {
  private readonly summary: ImportSummary = { files: 0, resources: 0, errors: 0, repaired: 0, ms: 0 };
  private pending: Pending[] = [];
  private bytes = 0;
  private readonly started = performance.now();

  constructor(private readonly ctx: RequestContext, private readonly options: ImportOptions = {}) {}

  async load(sources: readonly Source[]): Promise<ImportSummary> {
    for (const source of sources) await this.loadSource(source);
    await this.flush();
    this.summary.ms = Math.round(performance.now() - this.started);
    return { ...this.summary };
  }

  private async loadSource(source: Source): Promise<void> {
    this.summary.files++;
    let text: string;
    try {
      text = await source.read();
    } catch (err) {
      this.error(source.name, 'file', `cannot be read: ${messageOf(err)}`);
      return;
    }
    for (const unit of parseUnits(text, source.name)) {
      if (unit.kind === 'error') this.error(source.name, unit.position, unit.message);
      else if (unit.kind === 'bundle') {
        await this.flush();
        await this.bundle(unit.bundle, source.name, unit.position);
      } else this.direct(unit.resource, source.name, unit.position);
      if (this.pending.length >= (this.options.batchSize ?? 500)) await this.flush();
    }
    this.bytes += source.size ?? text.length;
    this.progress();
  }

  private direct(resource: Resource, file: string, position: string): void {
    const type = resource.resourceType;
    if (!fhirModel().isResourceType(type)) return this.error(file, position, `unknown resource type '${type}'`);
    if (resource.id === undefined) resource.id = randomUUID();
    if (typeof resource.id !== 'string' || !ID.test(resource.id)) return this.error(file, position, `${type} has an invalid id '${String(resource.id)}'`);
    // Whatever is written is checked against the STU3 definitions, as the server checks every
    // write (a resource that breaks them could not even be served as XML); --validate adds the
    // Care Connect profile.
    this.repair(resource);
    const issues = this.options.validate ? validateForImport(resource) : validateStructure(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (issues.length) return this.error(file, position, `${type}/${resource.id}: ${issues.map((i) => `${i.diagnostics}${i.expression ? ` (${i.expression.join(', ')})` : ''}`).join('; ')}`);
    this.pending.push({ resource, file, position });
  }

  /** Writes the pending resources in one transaction; if that fails, one by one to find the bad ones. */
  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const items = this.pending;
    this.pending = [];
    const write = (list: Pending[]) =>
      this.ctx.store.transaction((tx) => tx.writeMany(list.map((p) => ({ type: p.resource.resourceType, id: p.resource.id!, resource: p.resource }))));
    try {
      await write(items);
      this.summary.resources += items.length;
    } catch {
      for (const item of items) {
        try {
          await write([item]);
          this.summary.resources++;
        } catch (err) {
          this.error(item.file, item.position, `${item.resource.resourceType}/${item.resource.id}: ${messageOf(err)}`);
        }
      }
    }
    this.progress();
  }

  private async bundle(bundle: Resource, file: string, position: string): Promise<void> {
    const entries = Array.isArray(bundle.entry) ? (bundle.entry as Array<Record<string, unknown>>) : [];
    for (const e of entries) if (e.resource && typeof e.resource === 'object') this.repair(e.resource as Resource);
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
    try {
      const res = await transaction({ method: 'POST', query: [], body: bundle, preconditions: {}, prefer: { return: 'minimal' } }, this.ctx);
      const out = res.body && 'bundle' in res.body ? (res.body.bundle.entry ?? []) : [];
      out.forEach((e, i) => {
        const status = Number(/^(\d{3})/.exec(e.response?.status ?? '')?.[1] ?? 0);
        const method = (entries[i]?.request as { method?: string } | undefined)?.method;
        if (status >= 400) {
          const outcome = e.response?.outcome as { issue?: Array<{ diagnostics?: string }> } | undefined;
          this.error(file, entryPosition(position, i), `${status} ${outcome?.issue?.map((x) => x.diagnostics).join('; ') ?? ''}`.trim());
        } else if (method === 'POST' || method === 'PUT') this.summary.resources++;
      });
    } catch (err) {
      const detail = err instanceof FhirError ? err.issues.map((i) => i.diagnostics).join('; ') : messageOf(err);
      const entry = /Bundle\.entry\[(\d+)\]/.exec(detail)?.[1];
      this.error(file, entry !== undefined ? entryPosition(position, Number(entry)) : position, `the ${String(bundle.type)} was not loaded: ${detail}`);
    }
    this.progress();
  }

  private repair(resource: Resource): void {
    if (this.options.strict) return;
    if (repairCardinality(resource).length) this.summary.repaired++;
  }

  private error(file: string, position: string, message: string): void {
    this.summary.errors++;
    this.options.onError?.({ file, position, message });
  }

  private progress(): void {
    this.options.onProgress?.(this.summary.resources, this.bytes);
  }
}

function entryPosition(position: string, i: number): string {
  return position === 'file' ? `entry ${i}` : `${position} entry ${i}`;
}
