import { fhirModel } from '../fhir/definitions/model.js';
import { badRequest, FhirError, notFound } from '../fhir/outcome.js';
import type { Issue } from '../fhir/outcome.js';
import { validateBase } from '../validation/profile/validate.js';
import type { FhirRequest, RequestContext, Resource } from './types.js';
import { validateOnWrite } from './validate-write.js';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The request's resource type, which must be a concrete STU3 type. */
export function requireType(req: FhirRequest): string {
  const type = req.type;
  if (!type || !fhirModel().isResourceType(type)) throw notFound(`Unknown resource type '${type ?? ''}'`);
  return type;
}

export function requireId(id: string | undefined): string {
  if (!id || !ID.test(id)) throw badRequest(`Invalid resource id '${id ?? ''}': ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`);
  // The id pattern allows them, but `Patient/..` is a path segment every client and proxy
  // normalises to another URL (its Location would name the base): refused (issue 15, L3).
  if (id === '.' || id === '..') throw badRequest(`Invalid resource id '${id}': '.' and '..' are path segments, not ids`);
  return id;
}

export function requireVersion(version: string | undefined): number {
  if (!version || !/^[1-9]\d{0,9}$/.test(version)) throw badRequest(`Invalid version id '${version ?? ''}'`);
  return Number(version);
}

/**
 * The body of a create or update: present, of the URL's type, structurally valid
 * against the STU3 definitions (400 with every issue found otherwise), and checked
 * against its profiles as `ctx.config.validation` says (422, see validate-write.ts); one
 * walk over the resource does both. Returns the body and the problems found in it that
 * did not stop the write.
 * https://hl7.org/fhir/STU3/http.html#create
 */
export async function requireBody(req: FhirRequest, type: string, ctx: Pick<RequestContext, 'config' | 'log' | 'terminologyServer'>): Promise<{ body: Resource; warnings: Issue[] }> {
  const body = req.body;
  if (!body || typeof body !== 'object') throw badRequest(`A ${type} resource is required in the body`, undefined, 'required');
  if (body.resourceType !== type) {
    throw badRequest(`The body is a ${String(body.resourceType)}, but the URL is for ${type}`, 'resourceType');
  }
  return { body, warnings: await validateOnWrite(body, ctx) };
}

/** What every write is refused for (400): the STU3 base definitions' structure and the required bindings the server can check fully. */
export function checkStructure(resource: Resource, path?: string): void {
  const issues = validateBase(resource, path ? { path } : {});
  if (issues.length) throw new FhirError(400, issues);
}
