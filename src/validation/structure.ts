import { fhirModel, type FhirModel } from '../fhir/definitions/model.js';
import type { Issue } from '../fhir/outcome.js';
import { WalkContext, type ElementHook } from './context.js';
import { walkResource } from './walk.js';

export type { ElementHook } from './context.js';

/** Options of {@link validateStructure}. */
export interface StructureOptions {
  /**
   * The FHIRPath location of the resource, used as the start of every issue's
   * expression (e.g. `Bundle.entry[2].resource`). Defaults to the resource type.
   */
  path?: string;
  /** Called for each element whose shape was accepted: the hook for profile validation. */
  onElement?: ElementHook;
  /** The model to check against (defaults to the shared STU3 model). */
  model?: FhirModel;
}

/**
 * Checks a resource in its FHIR JSON form (as produced by `parseJson` or the XML
 * parser) against the STU3 base definitions, and returns the issues found (an empty
 * array when it conforms). It never throws, whatever the value.
 *
 * Checked (https://hl7.org/fhir/STU3/json.html, https://hl7.org/fhir/STU3/datatypes.html):
 * - a known, concrete `resourceType` (otherwise one issue and nothing more);
 * - no unknown properties; `_name` only beside primitive elements;
 * - arrays exactly where the element repeats, never empty; `null` only inside a
 *   repeating primitive's arrays, where the other array has something at that index;
 * - cardinality from the definitions, one form per choice element (`value[x]`);
 * - JSON types and lexical rules of primitives (dates, ids, codes, uris, 32-bit
 *   integers ...), non-empty strings, a light check of narrative XHTML;
 * - no empty objects and no element without a value or children (ele-1);
 * - extensions have a url and either a value or nested extensions (ext-1);
 * - contained resources have an id and no contained, text, meta.versionId or
 *   meta.lastUpdated (dom-1, dom-2, dom-4); nested resources by their own type;
 * - nesting deeper than 64 objects is reported once and not descended into.
 *
 * Codes: `structure` (unknown element, wrong JSON shape), `required` (missing
 * required element), `value` (malformed primitive), `invalid` (other rules).
 */
export function validateStructure(resource: unknown, options: StructureOptions = {}): Issue[] {
  const model = options.model ?? fhirModel();
  const ctx = new WalkContext(model, options.path ?? rootName(resource, model), options.onElement);
  try {
    walkResource(resource, ctx);
  } catch (err) {
    // Not expected (the walk guards every access); reported rather than thrown all the same.
    ctx.report('exception', `The structural validator failed: ${err instanceof Error ? err.message : 'unknown error'}`, ctx.location());
  }
  return ctx.issues;
}

/** The root of the issue locations: the resource type when known, else `Resource`. */
function rootName(resource: unknown, model: FhirModel): string {
  if (typeof resource === 'object' && resource !== null && !Array.isArray(resource)) {
    const type = (resource as Record<string, unknown>).resourceType;
    if (typeof type === 'string' && model.isResourceType(type)) return type;
  }
  return 'Resource';
}
