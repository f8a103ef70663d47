import type { ConformanceSource } from '../fhir/conformance.js';
import { FhirError, type Issue, unprocessable } from '../fhir/outcome.js';
import { careConnectCatalogue } from '../validation/profile/catalogue.js';
import { askAhead, validateBase, validateResourcePartsWith } from '../validation/profile/validate.js';
import type { RequestContext, Resource } from './types.js';

/**
 * Validation on write (create, update, and the entries of a transaction or batch),
 * as `ServerConfig.validation` says. Whatever the setting, a resource that breaks the
 * STU3 base definitions for certain (shape, cardinality, primitives, and a code outside
 * a required binding whose value set the server can expand completely) is a 400. Then:
 * - off: nothing more;
 * - warn: the resource is validated against its type's Care Connect profile and the
 *   profiles it claims; problems are logged and returned with
 *   `Prefer: return=OperationOutcome`, and the write goes ahead;
 * - enforce: any error rejects the write with 422 and every issue;
 * - claimed (the default): a resource that claims, in `meta.profile`, a profile the server
 *   holds is held to it (and to the base definitions beneath it): any error is a 422. The
 *   type's Care Connect profile is checked too when the resource does not claim it, but only
 *   as warnings; a claimed profile the server does not hold is a warning (not checked); a
 *   resource that claims no profile the server holds is only warned about.
 * https://hl7.org/fhir/STU3/http.html#2.21.0.5 (422 Unprocessable Entity)
 */

/**
 * Returns the problems found in a resource that may be written anyway (for `Prefer: return=OperationOutcome`).
 * With a remote terminology server (`ctx.terminologyServer`), codes this server cannot judge are
 * asked about (see validation/profile/questions.ts); one that cannot be reached is a warning.
 */
export async function validateOnWrite(resource: Resource, ctx: Pick<RequestContext, 'config' | 'log' | 'terminologyServer'>): Promise<Issue[]> {
  const setting = ctx.config.validation;
  const catalogue = careConnectCatalogue();
  if (setting === 'off') {
    rejectBase(validateBase(resource, { source: catalogue.source }));
    return [];
  }
  const type = resource.resourceType;
  const profile = catalogue.profileFor(type);
  // One walk: what breaks the STU3 base definitions is a 400 whatever the setting; the rest is as configured.
  const parts = await validateResourcePartsWith(resource, writeOptions(resource), ctx.terminologyServer);
  rejectBase(parts.structural);
  const problems = parts.other.filter((i) => i.severity !== 'information');
  if (setting === 'enforce' && problems.some(isError)) throw unprocessable(problems);
  if (setting === 'claimed' && parts.heldClaims.length && problems.some((i) => isError(i) && !parts.asked.has(i))) {
    // The unclaimed Care Connect profile's findings are not why it failed: they stay warnings.
    throw unprocessable(problems.map((i) => (parts.asked.has(i) && isError(i) ? { ...i, severity: 'warning' } : i)));
  }
  if (!problems.length) return [];
  const errors = problems.filter(isError).length;
  ctx.log.warn(
    { resourceType: type, id: resource.id, errors, warnings: problems.length - errors, issues: problems.slice(0, 5).map((i) => i.diagnostics) },
    `${type} does not conform to ${profile ?? 'its profiles'}; written anyway (validation: ${setting})`,
  );
  return problems;
}

/** What a write is validated against: the base definitions, the claimed profiles, and the type's Care Connect profile. */
function writeOptions(resource: Record<string, unknown>): { source: ConformanceSource; profiles: string[] } {
  const catalogue = careConnectCatalogue();
  const profile = typeof resource.resourceType === 'string' ? catalogue.profileFor(resource.resourceType) : undefined;
  // A claimed profile is checked as a claim; asking for it again would only repeat its issues.
  const asked = profile && !claimedProfiles(resource as Resource).includes(profile) ? [profile] : [];
  return { source: catalogue.source, profiles: asked };
}

/**
 * Before a write's store transaction: asks the remote terminology server (if any) what
 * validating these resources will ask it, so the validation inside the transaction finds the
 * answers cached and the transaction does not wait on the network.
 */
export async function askTerminologyAhead(resources: readonly unknown[], ctx: Pick<RequestContext, 'config' | 'terminologyServer'>): Promise<void> {
  if (!ctx.terminologyServer || ctx.config.validation === 'off') return;
  await askAhead(resources, writeOptions, ctx.terminologyServer);
}

/** The profiles a resource claims in meta.profile, without versions. */
function claimedProfiles(resource: Resource): string[] {
  const claimed = (resource.meta as { profile?: unknown } | undefined)?.profile;
  return Array.isArray(claimed) ? claimed.filter((p): p is string => typeof p === 'string').map((p) => p.split('|')[0]!) : [];
}

function isError(i: Issue): boolean {
  return i.severity === 'error' || i.severity === 'fatal';
}

function rejectBase(issues: Issue[]): void {
  const errors = issues.filter(isError);
  if (errors.length) throw new FhirError(400, errors);
}
