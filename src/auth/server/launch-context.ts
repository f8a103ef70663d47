import { randomBytes } from 'node:crypto';
import type { AuthStore } from '../../store/store.js';

/**
 * SMART launch context, kept beside oidc-provider's records:
 * - `SmartLaunch`: a `launch` value issued by the EHR launch page for one app and patient;
 * - `SmartPick`: the patient chosen on the picker page, for one authorization (by interaction uid);
 * - `SmartContext`: what a grant was given (the patient, whether the app shows a banner),
 *   read when its tokens are issued and revoked with the grant.
 * http://hl7.org/fhir/smart-app-launch/1.0.0/scopes-and-launch-context/
 */
export interface LaunchContext {
  patient?: string;
  needPatientBanner: boolean;
}

const LAUNCH_TTL_MS = 10 * 60_000;

/** Issues a launch value for an app and a patient. */
export async function createLaunch(auth: AuthStore, clientId: string, patient: string, now = Date.now()): Promise<string> {
  const launch = randomBytes(24).toString('base64url');
  await auth.put('SmartLaunch', launch, { payload: { clientId, patient }, expiresAt: now + LAUNCH_TTL_MS });
  return launch;
}

/** The launch a value names, if it is live and was issued for this client. */
export async function findLaunch(auth: AuthStore, launch: string, clientId: string): Promise<{ patient: string } | undefined> {
  const entry = await auth.get('SmartLaunch', launch);
  if (!entry || entry.payload.clientId !== clientId || typeof entry.payload.patient !== 'string') return undefined;
  return { patient: entry.payload.patient };
}

export async function savePick(auth: AuthStore, uid: string, patient: string, expiresAt: number): Promise<void> {
  await auth.put('SmartPick', uid, { payload: { patient }, expiresAt });
}

export async function findPick(auth: AuthStore, uid: string): Promise<string | undefined> {
  const entry = await auth.get('SmartPick', uid);
  return typeof entry?.payload.patient === 'string' ? entry.payload.patient : undefined;
}

export async function saveContext(auth: AuthStore, grantId: string, context: LaunchContext, expiresAt: number): Promise<void> {
  await auth.put('SmartContext', grantId, { payload: { ...context }, expiresAt }, { grantId });
}

export async function findContext(auth: AuthStore, grantId: string): Promise<LaunchContext | undefined> {
  const entry = await auth.get('SmartContext', grantId);
  if (!entry) return undefined;
  const { patient, needPatientBanner } = entry.payload;
  return { ...(typeof patient === 'string' ? { patient } : {}), needPatientBanner: needPatientBanner === true };
}
