import { READ_ONLY_TYPES } from '../profiles/read-only.js';
import type { Condition } from '../search/plan.js';
import { EVERYTHING } from '../search/access.js';
import type { StoreAdmin, StoreReader } from '../store/store.js';

export interface ExportOptions {
  /** Only resources of this type. */
  type?: string;
  /** Only this patient's compartment (the Patient resource and everything in its compartment). */
  patient?: string;
  /** Resources per page read from the store. */
  pageSize?: number;
}

/**
 * The current version of each resource in the store (or of one type, or one
 * patient's compartment), as the JSON text stored: one NDJSON line each.
 * https://hl7.org/fhir/STU3/compartmentdefinition-patient.html
 */
export async function* exportResources(store: StoreAdmin, options: ExportOptions = {}): AsyncGenerator<string> {
  const pageSize = options.pageSize ?? 1000;
  // The server's own read-only definitions are not data: exported only when asked for by type.
  const types = options.type ? [options.type] : [...(await store.counts()).keys()].filter((t) => !READ_ONLY_TYPES.has(t));
  if (options.patient !== undefined) {
    yield* compartment(store.reader(EVERYTHING), options.patient, types, pageSize);
    return;
  }
  for (const type of types) yield* everyOfType(store.reader(EVERYTHING), type, pageSize);
}

/**
 * Walks a type's history from the newest version back (a keyset walk, so each page
 * costs the same however far in): the first version seen of an id is its current one;
 * a deleted resource is skipped.
 */
async function* everyOfType(store: StoreReader, type: string, pageSize: number): AsyncGenerator<string> {
  const seen = new Set<string>();
  let beforeSeq: number | undefined;
  for (;;) {
    const page = await store.history({ type, count: pageSize, ...(beforeSeq !== undefined ? { beforeSeq } : {}) });
    if (!page.versions.length) return;
    for (const v of page.versions) {
      if (seen.has(v.id)) continue;
      seen.add(v.id);
      if (!v.deleted && v.json) yield v.json;
    }
    beforeSeq = page.versions[page.versions.length - 1]!.seq;
    if (page.versions.length < pageSize) return;
  }
}

async function* compartment(store: StoreReader, patient: string, types: string[], pageSize: number): AsyncGenerator<string> {
  if (types.includes('Patient')) {
    const self = await store.read('Patient', patient);
    if (self?.json && !self.deleted) yield self.json;
  }
  const others = types.filter((t) => t !== 'Patient');
  if (!others.length) return;
  const where: Condition[] = [{ kind: 'compartment', patient }];
  for (let offset = 0; ; offset += pageSize) {
    const page = await store.search({ types: others, where, sort: [], count: pageSize, offset, total: false });
    for (const row of page.rows) if (row.json) yield row.json;
    if (!page.more) return;
  }
}
