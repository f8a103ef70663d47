import { notFound } from '../fhir/outcome.js';
import type { Interaction } from './types.js';

/**
 * `[base]/.well-known/smart-configuration`: where a SMART app finds the authorization
 * server of a secured base, and what it supports. Public, as the CapabilityStatement is.
 * http://hl7.org/fhir/smart-app-launch/1.0.0/conformance/
 */
export const smartConfiguration: Interaction = async (_req, ctx) => {
  const security = ctx.config.security;
  if (!security) throw notFound('This base is not secured: it has no SMART configuration');
  const e = security.endpoints;
  const doc: Record<string, unknown> = {
    issuer: security.issuer,
    ...(e.jwks ? { jwks_uri: e.jwks } : {}),
    ...(e.authorization ? { authorization_endpoint: e.authorization } : {}),
    ...(e.token ? { token_endpoint: e.token } : {}),
    token_endpoint_auth_methods_supported: security.tokenEndpointAuthMethods,
    ...(e.registration ? { registration_endpoint: e.registration } : {}),
    ...(e.introspection ? { introspection_endpoint: e.introspection } : {}),
    ...(e.revocation ? { revocation_endpoint: e.revocation } : {}),
    ...(e.management ? { management_endpoint: e.management } : {}),
    scopes_supported: security.scopesSupported,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    code_challenge_methods_supported: ['S256'],
    capabilities: security.capabilities,
  };
  return { status: 200, headers: { 'content-type': 'application/json' }, body: { json: JSON.stringify(doc) } };
};
