import type { Issue } from '../../fhir/outcome.js';
import { validateStructure } from '../../validation/structure.js';

/**
 * The checks `ccri import --validate` applies to each resource: structural validation
 * against the STU3 definitions today. The Care Connect profile validator plugs in
 * here (add its issues to the list) when it exists.
 */
export function validateForImport(resource: unknown): Issue[] {
  return validateStructure(resource).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}
