import { grantsAudit, type SignInKind } from '../../src/ui/sign-in.js';

/**
 * Who is signed in, and the token the explorer calls the secure base with.
 *
 * Kept in sessionStorage, never localStorage: it lasts as long as the browser tab (so a
 * reload or a link opened in the same tab stays signed in), is not shared with other tabs,
 * and is gone when the tab closes. It is as reachable by a script on the page as memory
 * would be; the page's Content-Security-Policy lets no script but the explorer's own run.
 */
export interface Session {
  accessToken: string;
  /** Epoch ms when the access token expires. */
  expiresAt: number;
  /** The scopes granted, as the token response said. */
  scope: string;
  kind: SignInKind;
  /** The user name (the id_token's `sub`). */
  user: string;
  /** The user's name, from their Practitioner or Patient resource, when they have one. */
  name?: string;
  /** The absolute URL of the user's Practitioner or Patient (`fhirUser`). */
  fhirUser?: string;
  /** The launch patient, for patient/ scopes. */
  patient?: string;
  /** Sent back to the authorization server on sign-out (`id_token_hint`); not a credential for the API. */
  idToken?: string;
}

const KEY = 'ccri-session';

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    // Storage refused (a privacy setting): signing in then lasts until the page is left.
    return undefined;
  }
}

let inMemory: Session | undefined;

/** The session, unless there is none or its token has expired (an expired one is forgotten). */
export function currentSession(now = Date.now()): Session | undefined {
  let s = inMemory;
  if (!s) {
    const text = storage()?.getItem(KEY);
    if (text) {
      try {
        s = JSON.parse(text) as Session;
      } catch {
        s = undefined;
      }
    }
  }
  if (!s || typeof s.accessToken !== 'string' || typeof s.expiresAt !== 'number' || s.expiresAt <= now) {
    if (s) clearSession();
    return undefined;
  }
  inMemory = s;
  return s;
}

export function saveSession(s: Session): void {
  inMemory = s;
  storage()?.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  inMemory = undefined;
  storage()?.removeItem(KEY);
}

/** Whether the signed-in user's token may read the audit trail. */
export function canReadAudit(s: Session | undefined): boolean {
  return Boolean(s && grantsAudit(s.scope));
}

/** How the header names the user: "Dr Helen Marsden (clinician)". */
export function displayName(s: Session): string {
  return s.name && s.name !== s.user ? `${s.name} (${s.user})` : s.user;
}
