import { api } from './config.js';
import type { Bundle, Resource } from './fhir-types.js';

export interface ProfileSummary {
  id: string;
  url: string;
  name: string;
  title?: string;
  type: string;
  kind?: string;
  derivation?: string;
}

let cached: { base: string; promise: Promise<ProfileSummary[]> } | undefined;

/**
 * The StructureDefinitions the server serves beyond the base specification:
 * the Care Connect profiles and extensions. One search, paged through its own links.
 */
export function servedProfiles(): Promise<ProfileSummary[]> {
  const base = api().base;
  if (!cached || cached.base !== base) {
    const promise = load();
    promise.catch(() => (cached = undefined));
    cached = { base, promise };
  }
  return cached.promise;
}

async function load(): Promise<ProfileSummary[]> {
  const out: ProfileSummary[] = [];
  let bundle: Bundle | undefined = await api().search('StructureDefinition', { derivation: 'constraint', _elements: 'url,name,title,type,kind,derivation', _count: '100', _sort: 'name' });
  for (let pages = 0; bundle && pages < 20; pages++) {
    for (const e of bundle.entry ?? []) {
      const r = e.resource as (Resource & Partial<ProfileSummary>) | undefined;
      if (r?.resourceType === 'StructureDefinition' && r.id && r.url) out.push({ id: r.id, url: r.url, name: r.name ?? r.id, type: r.type ?? '', ...(r.title ? { title: r.title } : {}), ...(r.kind ? { kind: r.kind } : {}), ...(r.derivation ? { derivation: r.derivation } : {}) });
    }
    const next: string | undefined = bundle.link?.find((l) => l.relation === 'next')?.url;
    bundle = next && api().owns(next) ? await api().search(next) : undefined;
  }
  return out;
}
