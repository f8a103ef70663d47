import { FhirError, type Issue, unprocessable } from '../fhir/outcome.js';
import { careConnectCatalogue } from '../validation/profile/catalogue.js';
import { validateResourceParts } from '../validation/profile/validate.js';
import { validateStructure } from '../validation/structure.js';
import type { RequestContext, Resource } from './types.js';

/**
 * Validation on write (create, update, and the entries of a transaction or batch),
 * as `ServerConfig.validation` says. Whatever the setting, a resource that breaks the
 * STU3 base definitions' structure (shape, cardinality, primitives) is a 400. Then:
 * - off: nothing more;
 * - warn: the resource is validated against its type's Care Connect profile and the
 *   profiles it claims; problems are logged and returned with
 *   `Prefer: return=OperationOutcome`, and the write goes ahead;
 * - enforce: any error rejects the write with 422 and every issue;
 * - claimed (the default): enforce for resources that claim a profile in
 *   `meta.profile`, warn for the rest.
 * https://hl7.org/fhir/STU3/http.html#2.21.0.5 (422 Unprocessable Entity)
 */

/** Returns the problems found in a resource that may be written anyway (for `Prefer: return=OperationOutcome`). */
export function validateOnWrite(resource: Resource, ctx: Pick<RequestContext, 'config' | 'log'>): Issue[] {
  const setting = ctx.config.validation;
  if (setting === 'off') {
    rejectStructural(validateStructure(resource));
    return [];
  }
  const catalogue = careConnectCatalogue();
  const type = resource.resourceType;
  const profile = catalogue.profileFor(type);
  // One walk: what breaks the STU3 base definitions is a 400 whatever the setting; the rest is as configured.
  const { structural, other } = validateResourceParts(resource, { source: catalogue.source, profiles: profile ? [profile] : [] });
  rejectStructural(structural);
  const issues = [...structural, ...other];
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  const meta = resource.meta as { profile?: unknown } | undefined;
  const claims = Array.isArray(meta?.profile) && meta.profile.length > 0;
  if (errors.length && (setting === 'enforce' || (setting === 'claimed' && claims))) throw unprocessable(issues.filter((i) => i.severity !== 'information'));
  const problems = issues.filter((i) => i.severity !== 'information');
  if (!problems.length) return [];
  ctx.log.warn(
    { resourceType: type, id: resource.id, errors: errors.length, warnings: problems.length - errors.length, issues: problems.slice(0, 5).map((i) => i.diagnostics) },
    `${type} does not conform to ${profile ?? 'its profiles'}; written anyway (validation: ${setting})`,
  );
  return problems;
}

function rejectStructural(issues: Issue[]): void {
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (errors.length) throw new FhirError(400, errors);
}
