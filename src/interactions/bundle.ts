import { parseJson, stringifyJson } from '../fhir/json.js';
import type { StoredVersion } from '../store/store.js';
import type { Resource } from './types.js';

/**
 * Bundles whose entries may hold stored JSON text rather than parsed resources,
 * so a search or history page is written by concatenation: no resource is parsed
 * or re-serialised on the JSON path.
 */

export class RawResource {
  constructor(readonly json: string) {}
}

export interface BundleEntry {
  fullUrl?: string;
  resource?: Resource | RawResource;
  search?: { mode: 'match' | 'include' | 'outcome'; score?: number };
  request?: { method: string; url: string };
  response?: { status: string; location?: string; etag?: string; lastModified?: string; outcome?: Resource };
}

export interface BundleData {
  resourceType: 'Bundle';
  id?: string;
  meta?: { lastUpdated: string };
  type: string;
  total?: number;
  link?: Array<{ relation: string; url: string }>;
  entry?: BundleEntry[];
}

/** Serialises a bundle, splicing stored JSON in place of RawResource entries. */
export function bundleToJson(bundle: BundleData, pretty = false): string {
  if (pretty) return stringifyJson(materialise(bundle), true);
  const { entry, ...head } = bundle;
  const headJson = JSON.stringify(head);
  if (!entry?.length) return headJson;
  const entries = entry.map((e) => {
    const { resource, ...rest } = e;
    if (!(resource instanceof RawResource)) return stringifyJson(e);
    const restJson = JSON.stringify(rest);
    const prefix = restJson === '{}' ? '{' : `${restJson.slice(0, -1)},`;
    return `${prefix}"resource":${resource.json}}`;
  });
  return `${headJson.slice(0, -1)},"entry":[${entries.join(',')}]}`;
}

/** The bundle with every entry resource parsed (for XML, pretty output, or _elements). */
export function materialise(bundle: BundleData, parse: (json: string) => Resource = (j) => parseJson(j) as Resource): Record<string, unknown> {
  if (!bundle.entry) return bundle as unknown as Record<string, unknown>;
  return {
    ...bundle,
    entry: bundle.entry.map((e) => (e.resource instanceof RawResource ? { ...e, resource: parse(e.resource.json) } : e)),
  };
}

export function fullUrl(baseUrl: string, type: string, id: string): string {
  return `${baseUrl}/${type}/${id}`;
}

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** An HTTP date (RFC 7231) from an ISO instant. */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

export function entryFor(baseUrl: string, v: StoredVersion, mode: 'match' | 'include'): BundleEntry {
  const e: BundleEntry = { fullUrl: fullUrl(baseUrl, v.type, v.id), search: { mode } };
  if (v.json) e.resource = new RawResource(v.json);
  return e;
}
