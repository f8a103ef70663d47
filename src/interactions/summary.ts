import { fhirModel } from '../fhir/definitions/model.js';
import type { SummaryMode } from '../search/parse/query.js';
import type { Resource } from './types.js';

const SUBSETTED = { system: 'http://hl7.org/fhir/v3/ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/**
 * `_summary` and `_elements`: the resource cut down to the summary elements, the
 * narrative, the data, or the named top-level elements, tagged SUBSETTED.
 * https://hl7.org/fhir/STU3/search.html#summary
 */
export function subset(resource: Resource, summary: SummaryMode | undefined, elements: string[] | undefined): Resource {
  if ((!summary || summary === 'false' || summary === 'count') && !elements) return resource;
  const type = fhirModel().type(resource.resourceType);
  if (!type) return resource;
  const keep = (name: string): boolean => {
    const jsonName = name.startsWith('_') ? name.slice(1) : name;
    if (jsonName === 'resourceType' || jsonName === 'id' || jsonName === 'meta') return true;
    const prop = type.properties.get(jsonName);
    if (!prop) return false;
    const el = prop.element;
    if (elements) return elements.includes(el.name) || el.min > 0 || el.modifier === true;
    if (summary === 'true') return el.summary === true || el.min > 0;
    if (summary === 'text') return el.name === 'text' || el.min > 0;
    if (summary === 'data') return el.name !== 'text';
    return true;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) if (keep(k)) out[k] = v;
  const meta = { ...((out.meta as Record<string, unknown> | undefined) ?? {}) };
  meta.tag = [...((meta.tag as unknown[] | undefined) ?? []), SUBSETTED];
  out.meta = meta;
  return out as Resource;
}
