import { idOf } from '../urls.js';

export const PUBLISHER = 'Care Connect Reference Implementation project';

/**
 * The opening elements every conformance resource we generate shares: type, id (the last
 * segment of the canonical URL), url, name, title, status, publisher, description.
 */
export function canonicalHead<T extends string>(
  resourceType: T,
  def: { url: string; name: string; title?: string | undefined; description?: string | undefined },
): { resourceType: T; id: string; url: string; name: string; title?: string; status: 'draft'; publisher: string; description?: string } {
  return {
    resourceType,
    id: idOf(def.url),
    url: def.url,
    name: def.name,
    ...(def.title !== undefined ? { title: def.title } : {}),
    status: 'draft',
    publisher: PUBLISHER,
    ...(def.description !== undefined ? { description: def.description } : {}),
  };
}
