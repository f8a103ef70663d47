import { fhirModel } from '../../fhir/definitions/model.js';

/**
 * The scopes the authorization server grants: SMART App Launch 1.0's
 * `(patient|user|system)/(Type|*).(read|write|*)` for every STU3 resource type, and the
 * scopes that carry no access (OpenID Connect, launch context, refresh tokens).
 * What a scope allows on the secure base is src/auth/scopes.ts's business, not this file's.
 * http://hl7.org/fhir/smart-app-launch/1.0.0/scopes-and-launch-context/
 */
export const CONTEXT_SCOPES = ['openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'offline_access', 'online_access'] as const;

const SMART = /^(patient|user|system)\/([A-Za-z]+|\*)\.(read|write|\*)$/;

export interface ResourceScope {
  context: 'patient' | 'user' | 'system';
  type: string;
  access: 'read' | 'write' | '*';
}

/** A resource scope's parts, or undefined when it is not one (or names no STU3 resource type). */
export function parseResourceScope(scope: string): ResourceScope | undefined {
  const m = SMART.exec(scope);
  if (!m) return undefined;
  if (m[2] !== '*' && !fhirModel().isResourceType(m[2]!)) return undefined;
  return { context: m[1] as ResourceScope['context'], type: m[2]!, access: m[3] as ResourceScope['access'] };
}

let vocabulary: string[] | undefined;

/** Every scope this server knows: the context scopes and every resource scope. */
export function allScopes(): readonly string[] {
  if (!vocabulary) {
    const types = ['*', ...[...fhirModel().resourceTypes].sort()];
    vocabulary = [...CONTEXT_SCOPES];
    for (const context of ['patient', 'user', 'system']) for (const type of types) for (const access of ['read', 'write', '*']) vocabulary.push(`${context}/${type}.${access}`);
  }
  return vocabulary;
}

/**
 * The scopes a client may be granted: those its registration allows (all of them when it
 * registered none; exactly those it names), of the kinds its grant allows: `system/` scopes only for backend
 * services (client_credentials), never for a user's app.
 */
export function clientScopes(registered: string | undefined, backend: boolean): string[] {
  // A literal list, as oidc-provider checks it: `patient/*.read` registered lets an app ask for `patient/*.read`, not `patient/Observation.read`.
  const allowed = registered ? new Set(registered.split(' ').filter(Boolean)) : undefined;
  return allScopes().filter((s) => {
    const parsed = parseResourceScope(s);
    if (backend ? parsed?.context !== 'system' : parsed?.context === 'system') return false;
    return !allowed || allowed.has(s);
  });
}

const ACCESS_WORDS = { read: 'read', write: 'create, change and delete', '*': 'read, create, change and delete' } as const;

/** A scope in words, for the consent page. */
export function describeScope(scope: string): string {
  const parsed = parseResourceScope(scope);
  if (parsed) {
    const what = parsed.type === '*' ? 'all kinds of record' : `${parsed.type} records`;
    const whose = parsed.context === 'patient' ? "of the patient you choose (or yourself, if you are the patient)" : parsed.context === 'user' ? 'of every patient you can see' : 'of every patient';
    return `${ACCESS_WORDS[parsed.access][0]!.toUpperCase()}${ACCESS_WORDS[parsed.access].slice(1)} ${what} ${whose}`;
  }
  switch (scope) {
    case 'openid':
      return 'Know that it is you who signed in';
    case 'fhirUser':
      return 'Know which Patient or Practitioner record is yours';
    case 'profile':
      return 'See your user name';
    case 'launch':
      return 'Open with the patient chosen when the app was launched';
    case 'launch/patient':
      return 'Ask you to choose a patient when it opens';
    case 'offline_access':
      return 'Keep access after you sign out, until you revoke it';
    case 'online_access':
      return 'Keep access while you stay signed in';
    default:
      return scope;
  }
}
