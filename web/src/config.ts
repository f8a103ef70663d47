import { FhirApi } from './api.js';
import { currentSession } from './session.js';
import type { SignInConfig } from '../../src/ui/sign-in.js';

/** What the server writes into the page at run time (src/ui/shell.ts). */
export interface ExplorerConfig {
  openBase: string;
  secureBase?: string;
  signIn?: SignInConfig;
}

function readConfig(): ExplorerConfig {
  const el = document.getElementById('ccri-config');
  const parsed = el?.textContent ? (JSON.parse(el.textContent) as Partial<ExplorerConfig>) : {};
  return {
    openBase: parsed.openBase ?? `${location.origin}/STU3`,
    ...(parsed.secureBase ? { secureBase: parsed.secureBase } : {}),
    ...(parsed.signIn ? { signIn: parsed.signIn } : {}),
  };
}

export const config = readConfig();

/** Signed in, the explorer calls the secure base with the user's token; otherwise the open base. */
const session = config.secureBase ? currentSession() : undefined;
let current = session && config.secureBase ? new FhirApi(config.secureBase, session.accessToken) : new FhirApi(config.openBase);

/** The API every page calls. */
export function api(): FhirApi {
  return current;
}

export function useApi(next: FhirApi): void {
  current = next;
}

/** Whether the pages are calling the secure base with a token. */
export function signedIn(): boolean {
  return Boolean(session && current.base === config.secureBase?.replace(/\/+$/, ''));
}
