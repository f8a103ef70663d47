import type { JSONWebKeySet } from 'jose';
import type { IssuerEndpoints, TokenIssuer } from './issuer.js';

export interface ExternalIssuerOptions {
  /** The issuer's identifier: its tokens' `iss`. */
  issuer: string;
  /** Where its keys are published. */
  jwksUrl?: string;
  /** Its OpenID Connect discovery document (gives the keys' address and the endpoints). */
  discoveryUrl?: string;
}

/** How long a fetch of the issuer's documents may take, and how large they may be. */
const TIMEOUT_MS = 5_000;
const MAX_BYTES = 1024 * 1024;

/**
 * An external identity provider (`CCRI_AUTH_ISSUER` with `CCRI_AUTH_JWKS_URL` or
 * `CCRI_AUTH_DISCOVERY`): its keys are fetched from its JWKS URL when the secure base asks
 * (verify.ts caches them, and asks again for a key it does not know at most once a minute).
 */
export async function externalIssuer(options: ExternalIssuerOptions): Promise<TokenIssuer> {
  let jwksUrl = options.jwksUrl;
  let endpoints: IssuerEndpoints = {};
  if (options.discoveryUrl) {
    const doc = (await fetchJson(options.discoveryUrl)) as Record<string, unknown>;
    if (doc.issuer !== options.issuer) throw new Error(`The discovery document at ${options.discoveryUrl} names the issuer '${String(doc.issuer)}', not '${options.issuer}'`);
    const s = (k: string) => (typeof doc[k] === 'string' ? (doc[k] as string) : undefined);
    jwksUrl ??= s('jwks_uri');
    endpoints = clean({
      authorization: s('authorization_endpoint'),
      token: s('token_endpoint'),
      registration: s('registration_endpoint'),
      introspection: s('introspection_endpoint'),
      revocation: s('revocation_endpoint'),
      jwks: s('jwks_uri'),
    });
  }
  if (!jwksUrl) throw new Error('An external issuer needs CCRI_AUTH_JWKS_URL, or CCRI_AUTH_DISCOVERY naming a jwks_uri');
  const url = jwksUrl;
  return {
    issuer: options.issuer,
    endpoints: { ...endpoints, jwks: url },
    keys: async () => {
      const jwks = (await fetchJson(url)) as JSONWebKeySet;
      if (!jwks || !Array.isArray(jwks.keys)) throw new Error(`${url} is not a JWKS`);
      return jwks;
    },
  };
}

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const text = await res.text();
  if (text.length > MAX_BYTES) throw new Error(`${url} answered with more than ${MAX_BYTES} bytes`);
  return JSON.parse(text);
}

function clean(e: Record<string, string | undefined>): IssuerEndpoints {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) as IssuerEndpoints;
}
