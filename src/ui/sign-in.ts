/**
 * Signing in to the explorer, as both sides see it: the server registers the explorer
 * as a SMART app with these values (src/server.ts), and the browser asks for these
 * scopes (web/src/sign-in.ts). No I/O.
 */

/** The explorer's client_id at the embedded authorization server. */
export const EXPLORER_CLIENT_ID = 'ccri-explorer';

/** The explorer's name, as the sign-in and consent pages show it. */
export const EXPLORER_CLIENT_NAME = 'Care Connect explorer';

/**
 * What the page is told about signing in: the embedded authorization server (the issuer),
 * the explorer's client_id and registered addresses; or, when there is no such server
 * (tokens come from an external identity provider), why signing in is not offered.
 */
export type SignInConfig = { available: true; issuer: string; clientId: string; redirectUri: string; signedOutUri: string } | { available: false; reason: string };

export const SIGN_IN_PATH = '/sign-in';
export const CALLBACK_PATH = '/sign-in/callback';

/**
 * Two ways to sign in. `staff`: every patient (user/ scopes), as a clinician works. `patient`:
 * one patient's record (patient/ scopes): a patient user's own, or the one a clinician picks.
 * The explorer only reads (`$validate` is a read), so it asks for no write scope.
 */
export type SignInKind = 'staff' | 'patient';

const IDENTITY = ['openid', 'fhirUser', 'profile'];
const ACCESS: Record<SignInKind, string> = { staff: 'user/*.read', patient: 'patient/*.read' };
/** The audit trail is never covered by a wildcard: it is asked for by name (docs/audit.md). */
export const AUDIT_SCOPES: Record<SignInKind, string> = { staff: 'user/AuditEvent.read', patient: 'patient/AuditEvent.read' };

/** The scopes the explorer asks for. */
export function explorerScopes(kind: SignInKind, audit: boolean): string[] {
  return [...IDENTITY, ACCESS[kind], ...(audit ? [AUDIT_SCOPES[kind]] : [])];
}

/** Every scope the explorer may ask for: its registration (a client asks only for scopes it registered, literally). */
export function registeredExplorerScopes(): string[] {
  return [...new Set((['staff', 'patient'] as const).flatMap((k) => explorerScopes(k, true)))];
}

/** Whether a granted scope string lets its holder read AuditEvents (a `*` never does). */
export function grantsAudit(scope: string): boolean {
  return scope.split(' ').some((s) => /^(user|patient|system)\/AuditEvent\.(read|\*)$/.test(s));
}

/**
 * Where the authorization server sends the browser back to: the explorer is served at the
 * root of the configured public URL's origin (as `/auth` is), so behind a proxy with
 * `--base-url` the addresses are the public ones.
 */
export function explorerRedirects(publicUrl: string): { redirectUri: string; signedOutUri: string } {
  const origin = new URL(publicUrl).origin;
  return { redirectUri: `${origin}${CALLBACK_PATH}`, signedOutUri: `${origin}/` };
}
