import { fhirModel } from '../fhir/definitions/model.js';

export interface ParsedReference {
  type?: string;
  id?: string;
  version?: string;
  /** True when the reference is absolute and not under this server's base. */
  external: boolean;
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * Reads `Type/id`, `Type/id/_history/v`, and absolute URLs; an absolute URL under
 * `baseUrl` is a local reference. https://hl7.org/fhir/STU3/references.html
 */
export function parseReference(ref: string, baseUrl?: string): ParsedReference {
  let path = ref;
  let external = false;
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) {
    const base = baseUrl?.replace(/\/+$/, '');
    if (base && ref.startsWith(`${base}/`)) path = ref.slice(base.length + 1);
    else external = true;
  }
  if (external) return { external };
  const parts = path.split('/');
  let version: string | undefined;
  if (parts.length === 4 && parts[2] === '_history') {
    version = parts[3];
    parts.length = 2;
  }
  if (parts.length === 2 && fhirModel().isResourceType(parts[0]!) && ID.test(parts[1]!)) {
    return version ? { type: parts[0]!, id: parts[1]!, version, external } : { type: parts[0]!, id: parts[1]!, external };
  }
  return { external: true };
}
