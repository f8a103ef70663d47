import type { StoredVersion } from '../store.js';

/** A row of resource_version as the queries select it (both databases). */
export interface VersionRow {
  type: string;
  id: string;
  version: number | string;
  last_updated: number | string;
  method: string;
  json: string | null;
}

export function toStoredVersion(row: VersionRow): StoredVersion {
  return {
    type: row.type,
    id: row.id,
    version: Number(row.version),
    lastUpdated: new Date(Number(row.last_updated)).toISOString(),
    deleted: row.method === 'DELETE',
    json: row.json,
    method: row.method as StoredVersion['method'],
  };
}
