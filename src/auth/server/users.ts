import type { AuthStore, AuthUser } from '../../store/store.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** The users who sign in at the authorization server, each optionally a Patient or a Practitioner of the store. */

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;

export interface NewUser {
  username: string;
  password: string;
  patient?: string;
  practitioner?: string;
}

/** Adds (or replaces) a user, keeping only the password's scrypt hash. */
export async function addUser(auth: AuthStore, user: NewUser, now = Date.now()): Promise<AuthUser> {
  if (!USERNAME.test(user.username)) throw new Error('A user name is 1 to 64 letters, digits, dots, dashes, underscores or @');
  if (user.password.length < 8) throw new Error('A password has at least 8 characters');
  if (user.patient && user.practitioner) throw new Error('A user is a patient or a practitioner, not both');
  for (const id of [user.patient, user.practitioner]) if (id !== undefined && !ID.test(id)) throw new Error(`'${id}' is not a FHIR resource id`);
  const stored: AuthUser = {
    username: user.username,
    passwordHash: await hashPassword(user.password),
    created: now,
    ...(user.patient ? { patient: user.patient } : {}),
    ...(user.practitioner ? { practitioner: user.practitioner } : {}),
  };
  await auth.putUser(stored);
  return stored;
}

/** The user these credentials sign in as, or undefined (an unknown name costs a hash too, so that timing tells nothing). */
export async function authenticate(auth: AuthStore, username: string, password: string): Promise<AuthUser | undefined> {
  const user = USERNAME.test(username) ? await auth.getUser(username) : undefined;
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return user && ok ? user : undefined;
}

// A hash of nothing anyone knows, checked when the user does not exist.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The absolute URL of the user's Patient or Practitioner on the secure base, if the user is one. */
export function fhirUserUrl(user: AuthUser, secureBase: string): string | undefined {
  if (user.practitioner) return `${secureBase}/Practitioner/${user.practitioner}`;
  if (user.patient) return `${secureBase}/Patient/${user.patient}`;
  return undefined;
}
