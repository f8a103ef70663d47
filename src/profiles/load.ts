import { stringifyJson } from '../fhir/json.js';
import { EVERYTHING } from '../search/access.js';
import type { Store } from '../store/store.js';
import type { ConformanceResource } from './build/generate.js';
import { careConnectResources } from './conformance.js';

export interface LoadResult {
  written: number;
  unchanged: number;
  ms: number;
}

/**
 * Puts the Care Connect StructureDefinitions, ValueSets and CodeSystems in the store
 * (id = the last segment of the canonical URL), writing only those that are absent or
 * differ from what is stored, in one transaction: a restart with unchanged definitions
 * writes nothing. They are then readable and searchable like any resource
 * (https://hl7.org/fhir/STU3/http.html#read); the API itself refuses writes to them
 * (see read-only.ts).
 */
export async function loadConformance(store: Store): Promise<LoadResult> {
  const started = performance.now();
  const { structureDefinitions, valueSets, codeSystems } = careConnectResources();
  const all = [...structureDefinitions, ...valueSets, ...codeSystems];
  let changed = await differing(store, all);
  try {
    await write(store, changed);
  } catch (error) {
    // Another node starting at the same moment may have written them first (a unique id
    // conflict): what it wrote is compared again, and only what still differs is written.
    changed = await differing(store, all);
    if (changed.length) await write(store, changed).catch(() => Promise.reject(error));
  }
  return { written: changed.length, unchanged: all.length - changed.length, ms: Math.round(performance.now() - started) };
}

async function differing(store: Store, resources: ConformanceResource[]): Promise<ConformanceResource[]> {
  const changed: ConformanceResource[] = [];
  const reader = store.reader(EVERYTHING);
  for (const resource of resources) {
    const stored = await reader.read(resource.resourceType, resource.id);
    if (!stored || stored.deleted || stored.json === null || withoutMeta(stored.json) !== stringifyJson(resource)) changed.push(resource);
  }
  return changed;
}

async function write(store: Store, resources: ConformanceResource[]): Promise<void> {
  if (!resources.length) return;
  await store.transaction(EVERYTHING, async (tx) => {
    // The store sets id and meta on what it is given: it gets copies.
    for (const r of resources) await tx.write({ type: r.resourceType, id: r.id, resource: structuredClone(r) });
  });
}

/**
 * The stored text without the `meta` the store added: it writes `resourceType`, `id`,
 * then `meta` (versionId, lastUpdated), then the rest in the order given.
 */
function withoutMeta(json: string): string {
  return json.replace(/^(\{"resourceType":"[^"]+","id":"[^"]+",)"meta":\{"versionId":"\d+","lastUpdated":"[^"]+"\},/, '$1');
}
