/**
 * An OpenAPI 3 description of the FHIR RESTful API, generated from the
 * CapabilityStatement so that the two can never disagree: every resource type,
 * interaction, search parameter and operation the statement declares becomes a
 * path, an operation or a parameter here. Pure: no I/O.
 * https://hl7.org/fhir/STU3/capabilitystatement.html and https://spec.openapis.org/oas/v3.0.3
 */

export interface OpenApiServer {
  url: string;
  description: string;
}

export interface OpenApiOptions {
  /** Where the API can be called: the open base, and the secure base when there is one. */
  servers: OpenApiServer[];
  /** Declare a bearer-token scheme (true when a secure base is among the servers). */
  bearer?: boolean;
}

type Json = Record<string, unknown>;

interface CsSearchParam {
  name: string;
  type?: string;
  documentation?: string;
}

interface CsResource {
  type: string;
  profile?: { reference?: string };
  interaction?: Array<{ code: string }>;
  searchParam?: CsSearchParam[];
  searchInclude?: string[];
  searchRevInclude?: string[];
}

interface CsRest {
  resource?: CsResource[];
  interaction?: Array<{ code: string }>;
  searchParam?: CsSearchParam[];
  operation?: Array<{ name: string; definition?: { reference?: string } }>;
}

const FHIR_JSON = 'application/fhir+json';
const FHIR_XML = 'application/fhir+xml';

/**
 * Whether an operation of the CapabilityStatement applies to `type`: its OperationDefinition's
 * id is `{Type}-{code}` (`Resource-` for every type), as STU3 names its own; an id without a
 * type (a system operation) applies to none.
 */
function operationOn(o: { definition?: { reference?: string } }, type: string): boolean {
  const id = (o.definition?.reference ?? '').split('/').pop() ?? '';
  const m = /^([A-Z][A-Za-z]+)-/.exec(id);
  if (!m) return !o.definition?.reference;
  return m[1] === 'Resource' || m[1] === type;
}

/** Builds the OpenAPI document for a CapabilityStatement. */
export function openApiFromCapabilityStatement(cs: Json, options: OpenApiOptions): Json {
  const rest = ((cs.rest as CsRest[] | undefined) ?? [])[0] ?? {};
  // Profiled (Care Connect) types first, then the rest of STU3, each alphabetically: the order the docs list them in.
  const resources = [...(rest.resource ?? [])].sort((a, b) => Number(!a.profile?.reference) - Number(!b.profile?.reference) || a.type.localeCompare(b.type));
  const common = rest.searchParam ?? [];
  const operations = rest.operation ?? [];
  const paths: Record<string, Json> = {};

  paths['/metadata'] = {
    get: op('System', 'capabilities', 'The CapabilityStatement: what this server supports', [ref('_format')], okResource('CapabilityStatement')),
  };
  const systemCodes = new Set((rest.interaction ?? []).map((i) => i.code));
  if (systemCodes.has('transaction') || systemCodes.has('batch')) {
    paths['/'] = {
      post: {
        ...op('System', 'transaction', 'A batch or transaction Bundle', [ref('_format')], okResource('Bundle')),
        requestBody: resourceBody('Bundle'),
      },
    };
  }
  if (systemCodes.has('history-system')) {
    paths['/_history'] = { get: op('System', 'history-system', 'Changes to every resource', [ref('_count'), ref('_since'), ref('_format')], okResource('Bundle')) };
  }

  for (const r of resources) {
    const codes = new Set((r.interaction ?? []).map((i) => i.code));
    const t = r.type;
    const profile = r.profile?.reference;
    const about = profile ? ` Profile: ${profile}` : '';
    const typePath: Json = {};
    if (codes.has('search-type')) {
      typePath.get = op(t, `search-${t}`, `Search ${t} resources.${about}`, searchParameters(r, common), okResource('Bundle'));
    }
    if (codes.has('create')) {
      typePath.post = { ...op(t, `create-${t}`, `Create a ${t}`, [ref('_format')], created()), requestBody: resourceBody(t) };
    }
    if (Object.keys(typePath).length) paths[`/${t}`] = typePath;

    const instance: Json = {};
    if (codes.has('read')) instance.get = op(t, `read-${t}`, `Read a ${t}`, [ref('id'), ref('_format')], okResource(t));
    if (codes.has('update')) instance.put = { ...op(t, `update-${t}`, `Update (or create with this id) a ${t}`, [ref('id'), ref('_format')], okResource(t)), requestBody: resourceBody(t) };
    if (codes.has('delete')) instance.delete = op(t, `delete-${t}`, `Delete a ${t}`, [ref('id')], { '204': { description: 'Deleted' } });
    if (Object.keys(instance).length) paths[`/${t}/{id}`] = instance;

    if (codes.has('history-type')) paths[`/${t}/_history`] = { get: op(t, `history-type-${t}`, `Changes to ${t} resources`, [ref('_count'), ref('_since'), ref('_format')], okResource('Bundle')) };
    if (codes.has('history-instance')) paths[`/${t}/{id}/_history`] = { get: op(t, `history-instance-${t}`, `Versions of one ${t}`, [ref('id'), ref('_count'), ref('_since'), ref('_format')], okResource('Bundle')) };
    if (codes.has('vread')) paths[`/${t}/{id}/_history/{vid}`] = { get: op(t, `vread-${t}`, `One version of a ${t}`, [ref('id'), ref('vid'), ref('_format')], okResource(t)) };

    for (const o of operations) {
      if (!operationOn(o, t)) continue;
      const name = o.name.replace(/^\$/, '');
      const description = `$${name} on ${t} (${o.definition?.reference ?? 'operation'})`;
      const post = { ...op(t, `${name}-${t}`, description, [...(name === 'validate' ? [ref('profile')] : []), ref('_format')], okResource('OperationOutcome')), requestBody: resourceBody(t) };
      paths[`/${t}/$${name}`] = { post };
    }
  }

  const components: Json = {
    parameters: commonParameters(),
    responses: sharedResponses(),
    requestBodies: sharedBodies(),
    schemas: {
      Resource: {
        type: 'object',
        description: 'A FHIR STU3 resource (https://hl7.org/fhir/STU3/resourcelist.html)',
        required: ['resourceType'],
        properties: { resourceType: { type: 'string' }, id: { type: 'string' } },
        additionalProperties: true,
      },
    },
  };
  if (options.bearer) components.securitySchemes = { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A SMART on FHIR access token (secure base only)' } };

  const software = cs.software as { name?: string; version?: string } | undefined;
  return {
    openapi: '3.0.3',
    info: {
      title: String(cs.title ?? cs.name ?? 'FHIR API'),
      version: String(software?.version ?? cs.version ?? '0'),
      description: `${String(cs.description ?? '')} Generated from the CapabilityStatement (FHIR ${String(cs.fhirVersion ?? '')}).`.trim(),
    },
    servers: options.servers,
    ...(options.bearer ? { security: [{}, { bearer: [] }] } : {}),
    tags: [{ name: 'System', description: 'Whole-system interactions' }, ...resources.map((r) => ({ name: r.type, description: r.profile?.reference ? `Care Connect profile ${r.profile.reference.split('/').pop()}` : 'FHIR STU3 base resource' }))],
    paths,
    components,
  };
}

function searchParameters(r: CsResource, common: CsSearchParam[]): Json[] {
  const seen = new Set<string>();
  const out: Json[] = [];
  for (const p of [...(r.searchParam ?? []), ...common]) {
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    // Parameters the shared components describe (paging, format) are referenced rather than repeated.
    if (SHARED.has(p.name)) {
      out.push(ref(p.name));
      continue;
    }
    out.push({
      name: p.name,
      in: 'query',
      required: false,
      description: `${p.type ? `(${p.type}) ` : ''}${p.documentation ?? ''}`.trim(),
      schema: p.type === 'number' ? { type: 'number' } : { type: 'string' },
    });
  }
  const includes = (r.searchInclude ?? []).filter((i) => i !== '*');
  const revIncludes = (r.searchRevInclude ?? []).filter((i) => i !== '*');
  if (includes.length) out.push(listParam('_include', 'Also return the resources these references point to', includes));
  // Hundreds of types can refer to a Patient: the reverse includes are listed in words, not as a menu.
  if (revIncludes.length) out.push({ name: '_revinclude', in: 'query', required: false, description: `Also return resources that refer to the matches: ${revIncludes.join(', ')}`, explode: true, schema: { type: 'array', items: { type: 'string' } } });
  for (const name of ['_count', '_format']) if (!seen.has(name)) out.push(ref(name));
  return out;
}

const SHARED = new Set(['_count', '_format', '_since']);

function listParam(name: string, description: string, values: string[]): Json {
  return { name, in: 'query', required: false, description, explode: true, schema: { type: 'array', items: { type: 'string', enum: values } } };
}

function commonParameters(): Json {
  return {
    id: { name: 'id', in: 'path', required: true, description: 'Logical id of the resource', schema: { type: 'string', pattern: '^[A-Za-z0-9\\-\\.]{1,64}$' } },
    vid: { name: 'vid', in: 'path', required: true, description: 'Version id', schema: { type: 'string' } },
    _count: { name: '_count', in: 'query', required: false, description: 'Page size', schema: { type: 'integer', minimum: 0 } },
    _since: { name: '_since', in: 'query', required: false, description: 'Only changes after this instant', schema: { type: 'string', format: 'date-time' } },
    _format: { name: '_format', in: 'query', required: false, description: 'Response format, overriding Accept', schema: { type: 'string', enum: ['json', 'xml', FHIR_JSON, FHIR_XML] } },
    profile: { name: 'profile', in: 'query', required: false, description: 'Canonical URL of the profile to validate against', schema: { type: 'string' } },
  };
}

function ref(name: string): Json {
  return { $ref: `#/components/parameters/${name}` };
}

// Responses and bodies are shared components: written inline, 700 operations would repeat them 700 times.
function op(tag: string, operationId: string, summary: string, parameters: Json[], responses: Json): Json {
  return { tags: [tag], operationId, summary, parameters, responses: { ...responses, default: { $ref: '#/components/responses/Error' } } };
}

function content(): Json {
  const schema = { $ref: '#/components/schemas/Resource' };
  return { [FHIR_JSON]: { schema }, [FHIR_XML]: { schema: { type: 'string' } } };
}

function okResource(type: string): Json {
  return { '200': { $ref: `#/components/responses/${type === 'Bundle' || type === 'OperationOutcome' || type === 'CapabilityStatement' ? type : 'Resource'}` } };
}

function created(): Json {
  return { '201': { $ref: '#/components/responses/Created' } };
}

function resourceBody(type: string): Json {
  return { $ref: `#/components/requestBodies/${type === 'Bundle' ? 'Bundle' : 'Resource'}` };
}

function sharedResponses(): Json {
  const r = (description: string) => ({ description, content: content() });
  return {
    Resource: r('The resource'),
    Bundle: r('A Bundle (search results, history or a transaction response)'),
    OperationOutcome: r('An OperationOutcome'),
    CapabilityStatement: r('The CapabilityStatement'),
    Created: r('Created; the Location header names the new resource and version'),
    Error: r('An error, as an OperationOutcome'),
  };
}

function sharedBodies(): Json {
  return {
    Resource: { required: true, description: 'A resource of the type in the path', content: content() },
    Bundle: { required: true, description: 'A batch or transaction Bundle', content: content() },
  };
}
