import { parseJson } from '../fhir/json.js';
import { badRequest, gone, type Issue, notFound, operationOutcome } from '../fhir/outcome.js';
import { requireId, requireType } from '../interactions/checks.js';
import type { FhirRequest, FhirResponse, Interaction, RequestContext, Resource } from '../interactions/types.js';
import { careConnectCatalogue } from '../validation/profile/catalogue.js';
import { operationDefinition } from './definition.js';
import { validateResourceWith, type ValidationMode } from '../validation/profile/index.js';

/**
 * `$validate` (https://hl7.org/fhir/STU3/resource-operations.html#validate), at type
 * level (`POST [base]/Patient/$validate`) and instance level (`GET|POST
 * [base]/Patient/{id}/$validate`). The body is the resource itself, or a Parameters
 * resource with `resource`, `profile` and `mode` parts; `profile` and `mode` may also
 * be query parameters. Without a body, the instance-level form validates the stored
 * resource. The answer is always 200 with an OperationOutcome: the issues found, or
 * one information issue when there are none.
 *
 * Validated against: the base definitions, the profiles the resource claims in
 * meta.profile, the `profile` asked for, and with mode create or update the type's
 * Care Connect profile too (what a write would be checked against). Mode delete
 * checks only that the resource exists (this server refuses no deletion on its own
 * account).
 */

export const DEFINITION = operationDefinition({
  id: 'Resource-validate',
  code: 'validate',
  title: 'Validate a resource',
  description: 'Validates a resource against the STU3 base definitions, the profiles it claims, the profile asked for and, for mode create or update, the Care Connect profile of its type. Answers an OperationOutcome.',
  system: false,
  type: true,
  instance: true,
  base: 'http://hl7.org/fhir/OperationDefinition/Resource-validate',
  parameter: [
    { name: 'resource', use: 'in', min: 0, max: '1', type: 'Resource', documentation: 'The resource to validate (or the body itself); at instance level without it, the stored resource' },
    { name: 'mode', use: 'in', min: 0, max: '1', type: 'code', documentation: 'create, update or delete' },
    { name: 'profile', use: 'in', min: 0, max: '*', type: 'uri', documentation: 'A profile to validate against as well' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'OperationOutcome', documentation: 'The issues found, or one information issue when there are none' },
  ],
});
const MODES: readonly string[] = ['create', 'update', 'delete'];

interface Input {
  resource?: Resource;
  profiles: string[];
  mode?: ValidationMode;
}

export const validate: Interaction = async (req, ctx) => {
  const type = requireType(req);
  const input = readInput(req);
  if (input.mode === 'delete') return deleteCheck(req, type, ctx);
  const resource = input.resource ?? (req.id !== undefined ? await stored(type, requireId(req.id), ctx) : undefined);
  if (!resource) throw badRequest(`$validate needs a ${type} to validate: send it as the body, or as the 'resource' part of a Parameters body`, undefined, 'required');
  if (resource.resourceType !== type) throw badRequest(`The resource to validate is a ${String(resource.resourceType)}, but the URL is for ${type}`, 'resourceType');
  const catalogue = careConnectCatalogue();
  const profiles = [...input.profiles];
  if (input.mode === 'create' || input.mode === 'update') {
    const own = catalogue.profileFor(type);
    if (own && !profiles.includes(own)) profiles.push(own);
  }
  const issues: Issue[] = await validateResourceWith(resource, { source: catalogue.source, profiles, ...(input.mode ? { mode: input.mode } : {}) }, ctx.terminologyServer);
  if (req.id !== undefined && input.mode === 'update' && resource.id !== undefined && resource.id !== req.id) {
    issues.push({ severity: 'error', code: 'invalid', diagnostics: `${type}.id: the id in the resource ('${String(resource.id)}') differs from the id in the URL ('${req.id}')`, expression: [`${type}.id`] });
  }
  return outcome(issues.length ? issues : [{ severity: 'information', code: 'informational', diagnostics: `No issues were found: the ${type} conforms to ${describe(resource, profiles)}` }]);
};

function describe(resource: Resource, profiles: string[]): string {
  const meta = resource.meta as { profile?: unknown } | undefined;
  const claimed = Array.isArray(meta?.profile) ? (meta.profile as unknown[]).filter((p): p is string => typeof p === 'string') : [];
  const all = [...new Set([...claimed, ...profiles])];
  return all.length ? `the STU3 base definitions and ${all.join(', ')}` : 'the STU3 base definitions';
}

function readInput(req: FhirRequest): Input {
  const input: Input = { profiles: [] };
  const body = req.body;
  if (body?.resourceType === 'Parameters') {
    for (const p of (Array.isArray(body.parameter) ? body.parameter : []) as Array<Record<string, unknown>>) {
      if (p.name === 'resource' && p.resource && typeof p.resource === 'object') input.resource = p.resource as Resource;
      else if (p.name === 'profile') {
        const v = p.valueUri ?? p.valueString ?? p.valueCanonical;
        if (typeof v === 'string') input.profiles.push(v);
      } else if (p.name === 'mode') setMode(input, p.valueCode ?? p.valueString);
    }
  } else if (body) {
    input.resource = body;
  }
  for (const [k, v] of req.query) {
    if (k === 'profile') input.profiles.push(v);
    else if (k === 'mode') setMode(input, v);
  }
  return input;
}

function setMode(input: Input, mode: unknown): void {
  if (typeof mode !== 'string' || !MODES.includes(mode)) throw badRequest(`The mode of $validate must be create, update or delete, not '${String(mode)}'`, 'mode', 'value');
  input.mode = mode as ValidationMode;
}

async function stored(type: string, id: string, ctx: RequestContext): Promise<Resource> {
  const v = await ctx.data.read(type, id);
  if (!v) throw notFound(`${type}/${id} is not known`);
  if (v.deleted || v.json === null) throw gone(`${type}/${id} was deleted`);
  return parseJson(v.json) as Resource;
}

async function deleteCheck(req: FhirRequest, type: string, ctx: RequestContext): Promise<FhirResponse> {
  if (req.id === undefined) throw badRequest('$validate with mode delete is an instance-level operation: POST [base]/{type}/{id}/$validate', 'mode');
  const id = requireId(req.id);
  const v = await ctx.data.read(type, id);
  if (!v || v.deleted) throw notFound(`${type}/${id} is not known, so there is nothing to delete`);
  return outcome([{ severity: 'information', code: 'informational', diagnostics: `${type}/${id} can be deleted` }]);
}

function outcome(issues: Issue[]): FhirResponse {
  return { status: 200, body: { resource: operationOutcome(issues) as unknown as Resource } };
}
