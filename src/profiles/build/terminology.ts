import type { CodeSystemDef, ValueSetDef } from '../dsl.js';
import { canonicalHead } from './canonical.js';

/**
 * Code tables and value set definitions to STU3 CodeSystem and ValueSet resources.
 * https://hl7.org/fhir/STU3/codesystem.html, https://hl7.org/fhir/STU3/valueset.html
 */

export function buildCodeSystem(def: CodeSystemDef, wholeSystemValueSet?: string): Record<string, unknown> & { resourceType: 'CodeSystem'; url: string } {
  return {
    ...canonicalHead('CodeSystem', def),
    caseSensitive: def.caseSensitive ?? true,
    ...(wholeSystemValueSet ? { valueSet: wholeSystemValueSet } : {}),
    content: 'complete',
    count: def.concepts.length,
    concept: def.concepts.map((c) => ({ code: c.code, display: c.display })),
  };
}

export function buildValueSet(def: ValueSetDef): Record<string, unknown> & { resourceType: 'ValueSet'; url: string } {
  return {
    ...canonicalHead('ValueSet', def),
    compose: {
      include: def.include.map((i) => ({
        system: i.system,
        ...(i.concepts ? { concept: i.concepts.map((c) => ({ code: c.code, display: c.display })) } : {}),
        ...(i.filters ? { filter: i.filters.map((f) => ({ ...f })) } : {}),
      })),
    },
  };
}

/** The value set that includes all of a code system and nothing else, if there is one. */
export function wholeSystemValueSet(cs: CodeSystemDef, valueSets: ValueSetDef[]): string | undefined {
  return valueSets.find((v) => v.include.length === 1 && v.include[0]!.system === cs.url && !v.include[0]!.concepts && !v.include[0]!.filters)?.url;
}
