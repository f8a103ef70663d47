import { stringifyJson } from '../fhir/json.js';
import { careConnectProfiles } from '../profiles/conformance.js';
import { READ_ONLY_TYPES } from '../profiles/read-only.js';
import { definitionUrl } from './operation-definitions.js';
import { isSearchable, SUPPORTED_MODIFIERS } from '../search/parse/query.js';
import type { BaseSecurity, Interaction, RequestContext } from './types.js';

export const SOFTWARE = { name: 'Care Connect Reference Implementation (ccri)', version: '0.1.0', releaseDate: '2026-11-30' };

/** Extra declarations contributed by later capabilities (profiles, operations, security). */
export interface CapabilityAdditions {
  profiles?: Record<string, string>;
  operations?: Array<{ name: string; definition: string }>;
  security?: Record<string, unknown>;
}

/** Per server (its operation registry) and base URL: the statement never changes while it runs. */
const cache = new WeakMap<object, Map<string, string>>();
const INTERACTIONS = ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];
const WRITES = new Set(['update', 'delete', 'create']);

/**
 * The CapabilityStatement, generated from what the code supports: the registry's
 * parameters that the search parser accepts, the includes they allow, and the
 * interactions the router serves. Never a hand-written file.
 * https://hl7.org/fhir/STU3/capabilitystatement.html
 */
export const capabilities: Interaction = async (_req, ctx) => {
  let byBase = cache.get(ctx.operations);
  if (!byBase) cache.set(ctx.operations, (byBase = new Map()));
  let json = byBase.get(ctx.config.baseUrl);
  if (!json) {
    const operations = ctx.operations.all().flatMap((op) => (op.definition ? [{ name: op.name.slice(1), definition: definitionUrl(op.definition, ctx.config.baseUrl) }] : []));
    const security = ctx.config.security ? restSecurity(ctx.config.security) : undefined;
    json = stringifyJson(buildCapabilityStatement(ctx, { profiles: careConnectProfiles(), operations, ...(security ? { security } : {}) }));
    byBase.set(ctx.config.baseUrl, json);
  }
  return { status: 200, body: { json } };
};

/**
 * `rest.security` of a secured base: SMART on FHIR, with the authorization server's
 * endpoints in the `oauth-uris` extension. http://hl7.org/fhir/smart-app-launch/1.0.0/conformance/
 */
function restSecurity(security: BaseSecurity): Record<string, unknown> {
  const uri = (url: string, value: string | undefined) => (value ? [{ url, valueUri: value }] : []);
  const e = security.endpoints;
  return {
    cors: true,
    service: [{ coding: [{ system: 'http://hl7.org/fhir/restful-security-service', code: 'SMART-on-FHIR' }], text: 'OAuth2 bearer tokens, SMART on FHIR (App Launch 1.0 and Backend Services)' }],
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [...uri('authorize', e.authorization), ...uri('token', e.token), ...uri('register', e.registration), ...uri('manage', e.management), ...uri('introspect', e.introspection), ...uri('revoke', e.revocation)],
      },
    ],
  };
}

export function buildCapabilityStatement(ctx: Pick<RequestContext, 'registry' | 'config'>, additions: CapabilityAdditions): Record<string, unknown> {
  const { registry } = ctx;
  const types = registry.types().filter((t) => !ctx.config.unserved?.includes(t));
  const resources = types.map((type) => {
    const params = registry.params(type).filter((p) => isSearchable(p));
    const refs = params.filter((p) => p.type === 'reference');
    const revIncludes = types.flatMap((other) =>
      registry
        .params(other)
        .filter((p) => p.type === 'reference' && p.expression && (!p.targets || p.targets.includes(type)))
        .map((p) => `${other}:${p.code}`),
    );
    const readOnly = READ_ONLY_TYPES.has(type);
    const r: Record<string, unknown> = {
      type,
      ...(additions.profiles?.[type] ? { profile: { reference: additions.profiles[type] } } : {}),
      interaction: INTERACTIONS.filter((code) => !readOnly || !WRITES.has(code)).map((code) => ({ code })),
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: !readOnly,
      conditionalCreate: !readOnly,
      conditionalRead: 'full-support',
      conditionalUpdate: !readOnly,
      conditionalDelete: readOnly ? 'not-supported' : 'single',
      searchInclude: ['*', ...refs.map((p) => `${type}:${p.code}`)],
      ...(revIncludes.length ? { searchRevInclude: ['*', ...revIncludes] } : {}),
      searchParam: params
        .filter((p) => !p.code.startsWith('_') || p.code === '_text' || p.code === '_content' || p.code === '_tag' || p.code === '_profile' || p.code === '_security')
        .map((p) => ({
          name: p.code,
          definition: p.url,
          type: p.type,
          documentation: `${p.description ?? p.code}. Modifiers: ${SUPPORTED_MODIFIERS[p.type].join(', ') || 'none'}, :missing.`,
        })),
    };
    return r;
  });
  const rest: Record<string, unknown> = {
    mode: 'server',
    documentation: 'FHIR STU3 RESTful API with the Care Connect profiles. Searches page with signed cursors; Bundle.total is counted unless _total=none.',
    ...(additions.security ? { security: additions.security } : {}),
    resource: resources,
    interaction: ['transaction', 'batch', 'search-system', 'history-system'].map((code) => ({ code })),
    searchParam: [
      { name: '_id', type: 'token', documentation: 'Logical id of the resource' },
      { name: '_lastUpdated', type: 'date', documentation: 'When the resource version last changed' },
      { name: '_count', type: 'number', documentation: `Page size (default ${ctx.config.defaultCount}, at most ${ctx.config.maxCount})` },
      { name: '_sort', type: 'string', documentation: 'Sort keys, comma-separated, - for descending' },
      { name: '_summary', type: 'token', documentation: 'true | text | data | count | false' },
      { name: '_elements', type: 'string', documentation: 'Top-level elements to return' },
      { name: '_total', type: 'token', documentation: 'none skips counting Bundle.total on large result sets; estimate counts for the first page only, and the pages after it carry that count' },
    ],
    ...(additions.operations?.length ? { operation: additions.operations.map((o) => ({ name: o.name, definition: { reference: o.definition } })) } : {}),
  };
  return {
    resourceType: 'CapabilityStatement',
    id: 'ccri',
    url: `${ctx.config.baseUrl}/metadata`,
    name: 'CareConnectReferenceImplementation',
    title: 'Care Connect Reference Implementation',
    status: 'active',
    date: SOFTWARE.releaseDate,
    publisher: 'Care Connect Reference Implementation project',
    description: 'A FHIR STU3 server serving the NHS Care Connect profiles with synthetic data for one care setting.',
    kind: 'instance',
    software: SOFTWARE,
    implementation: { description: 'Care Connect Reference Implementation', url: ctx.config.baseUrl },
    fhirVersion: '3.0.2',
    acceptUnknown: 'no',
    format: ['application/fhir+json', 'application/fhir+xml', 'json', 'xml'],
    rest: [rest],
  };
}

