import { api } from './config.js';
import type { Resource } from './fhir-types.js';

export interface CsSearchParam {
  name: string;
  type?: string;
  documentation?: string;
}

export interface CsResource {
  type: string;
  profile?: { reference?: string };
  interaction?: Array<{ code: string }>;
  searchParam?: CsSearchParam[];
  searchInclude?: string[];
  searchRevInclude?: string[];
}

export interface Capability extends Resource {
  rest?: Array<{ resource?: CsResource[]; searchParam?: CsSearchParam[]; operation?: Array<{ name: string }> }>;
}

let cached: { base: string; promise: Promise<Capability> } | undefined;

/** The server's CapabilityStatement, fetched once per base: the forms and lists are built from it. */
export function capability(): Promise<Capability> {
  const base = api().base;
  if (!cached || cached.base !== base) {
    const promise = api().json<Capability>('metadata');
    promise.catch(() => (cached = undefined));
    cached = { base, promise };
  }
  return cached.promise;
}

export async function resourceTypes(): Promise<CsResource[]> {
  const cs = await capability();
  return [...(cs.rest?.[0]?.resource ?? [])].sort((a, b) => a.type.localeCompare(b.type));
}

