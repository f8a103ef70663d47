import type { AuthStore, AuthUser } from '../../store/store.js';
import { findLaunch, findPick } from './launch-context.js';
import { CONTEXT_SCOPES, describeScope, parseResourceScope } from './smart-scopes.js';

/**
 * What an authorization may be granted, decided once the user has signed in: which of
 * the requested scopes, and for which patient. The rules (docs/security.md):
 * - an EHR launch (`launch`) fixes the patient; so does signing in as a patient user;
 *   otherwise `launch/patient` or a `patient/` scope asks the user to pick one;
 * - a patient user is never granted `user/` scopes (they would see every patient), and
 *   cannot take an EHR launch for another patient;
 * - `system/` scopes belong to backend services, never to a user's app.
 */
export interface Decision {
  /** The user must still choose a patient (the picker page). */
  needPick: boolean;
  patient?: string;
  needPatientBanner: boolean;
  granted: string[];
  refused: Array<{ scope: string; why: string }>;
  /** The request cannot be granted at all. */
  error?: string;
}

export interface AuthorizationRequest {
  uid: string;
  clientId: string;
  scope: string;
  launch?: string;
}

export async function decide(auth: AuthStore, request: AuthorizationRequest, user: AuthUser): Promise<Decision> {
  const requested = [...new Set(request.scope.split(' ').filter(Boolean))];
  const launched = request.launch ? await findLaunch(auth, request.launch, request.clientId) : undefined;
  if (request.launch && !launched) return { needPick: false, needPatientBanner: false, granted: [], refused: [], error: 'The launch has expired: launch the app again' };
  if (launched && user.patient && launched.patient !== user.patient) {
    return { needPick: false, needPatientBanner: false, granted: [], refused: [], error: 'You are signed in as a patient, and this launch is for another patient' };
  }
  const granted: string[] = [];
  const refused: Decision['refused'] = [];
  for (const scope of requested) {
    const parsed = parseResourceScope(scope);
    if (parsed?.context === 'system') refused.push({ scope, why: 'only backend services are granted system scopes' });
    else if (parsed?.context === 'user' && user.patient) refused.push({ scope, why: 'you signed in as a patient: access is to your own record only' });
    else if (parsed || (CONTEXT_SCOPES as readonly string[]).includes(scope)) granted.push(scope);
    else refused.push({ scope, why: 'this server does not know it' });
  }
  const wantsPatient = granted.some((s) => s === 'launch/patient' || parseResourceScope(s)?.context === 'patient');
  const patient = launched?.patient ?? user.patient ?? (wantsPatient ? await findPick(auth, request.uid) : undefined);
  return {
    needPick: wantsPatient && !patient,
    ...(patient ? { patient } : {}),
    // An EHR shows its own banner; a standalone app is told to show one.
    needPatientBanner: !launched,
    granted,
    refused,
  };
}

/** The granted scopes in words, for the consent page. */
export function grantedWords(decision: Decision): string[] {
  return decision.granted.map(describeScope);
}

export function refusedWords(decision: Decision): Array<{ words: string; why: string }> {
  return decision.refused.map((r) => ({ words: describeScope(r.scope), why: r.why }));
}
