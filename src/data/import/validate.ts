import type { Issue } from '../../fhir/outcome.js';
import { careConnectCatalogue } from '../../validation/profile/catalogue.js';
import { validateResource } from '../../validation/profile/validate.js';

/**
 * The checks `ccri import --validate` applies to each resource: the STU3 base definitions
 * and the Care Connect profile of the resource's type (and any profile it claims), as the
 * server's enforce mode would. Errors stop the resource; warnings do not.
 */
export function validateForImport(resource: unknown): Issue[] {
  const catalogue = careConnectCatalogue();
  const type = typeof resource === 'object' && resource !== null ? (resource as { resourceType?: unknown }).resourceType : undefined;
  const profile = typeof type === 'string' ? catalogue.profileFor(type) : undefined;
  return validateResource(resource, { source: catalogue.source, profiles: profile ? [profile] : [] }).filter((i) => i.severity === 'error' || i.severity === 'fatal');
}
