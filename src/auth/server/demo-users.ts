import type { AuthStore } from '../../store/store.js';
import { generatePassword } from './passwords.js';
import { addUser } from './users.js';

export interface DemoUser {
  username: string;
  password: string;
  /** Whom the user is, in words and as a resource reference. */
  is: string;
}

/** The demo data set's users: Dr Helen Marsden (Practitioner/3), a clinician, and Bernie Kanfeld (Patient/1), a patient. */
const DEMO_USERS = [
  { username: 'clinician', practitioner: '3', is: 'Dr Helen Marsden, Practitioner/3 (a clinician: user/ scopes and the patient picker)' },
  { username: 'bernie', patient: '1', is: 'Bernie Kanfeld, Patient/1 (a patient: patient/ scopes on her own record)' },
] as const;

/**
 * Creates the demo users with generated passwords, on the server's first start with the
 * demo data; returns them so that the passwords can be shown once. They are for a local
 * copy only: anyone who saw the start-up output can sign in as them.
 */
export async function createDemoUsers(auth: AuthStore): Promise<DemoUser[]> {
  const made: DemoUser[] = [];
  for (const u of DEMO_USERS) {
    if (await auth.getUser(u.username)) continue;
    const password = generatePassword();
    await addUser(auth, { username: u.username, password, ...('patient' in u ? { patient: u.patient } : { practitioner: u.practitioner }) });
    made.push({ username: u.username, password, is: u.is });
  }
  return made;
}
