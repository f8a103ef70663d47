import { stringifyJson } from '../fhir/json.js';

/** Sets id and meta (versionId, lastUpdated first), puts the identity first, and serialises. */
export function serialise(resource: Record<string, unknown>, id: string, version: number, lastUpdated: string): string {
  resource.id = id;
  const meta = (resource.meta && typeof resource.meta === 'object' ? resource.meta : {}) as Record<string, unknown>;
  const { versionId: _v, lastUpdated: _l, ...rest } = meta;
  resource.meta = { versionId: String(version), lastUpdated, ...rest };
  const keys = Object.keys(resource);
  if (keys[0] === 'resourceType' && keys[1] === 'id' && keys[2] === 'meta') return stringifyJson(resource);
  for (const k of keys) {
    if (k === 'resourceType' || k === 'id' || k === 'meta') continue;
    const value = resource[k];
    // Deleting and re-adding moves a key last, in place (the object and its exact decimals are kept).
    delete resource[k];
    resource[k] = value;
  }
  return stringifyJson(resource);
}
