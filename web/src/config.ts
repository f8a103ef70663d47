import { FhirApi } from './api.js';

/** What the server writes into the page at run time (src/ui/shell.ts). */
export interface ExplorerConfig {
  openBase: string;
  secureBase?: string;
}

function readConfig(): ExplorerConfig {
  const el = document.getElementById('ccri-config');
  const parsed = el?.textContent ? (JSON.parse(el.textContent) as Partial<ExplorerConfig>) : {};
  return { openBase: parsed.openBase ?? `${location.origin}/STU3`, ...(parsed.secureBase ? { secureBase: parsed.secureBase } : {}) };
}

export const config = readConfig();

let current = new FhirApi(config.openBase);

/** The API every page calls. Signing in (later) swaps it for the secure base with a token. */
export function api(): FhirApi {
  return current;
}

export function useApi(next: FhirApi): void {
  current = next;
}
