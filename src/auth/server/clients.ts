import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { JSONWebKeySet } from 'jose';
import type { AuthStore } from '../../store/store.js';
import { hashClientSecret } from './adapter.js';

/**
 * Registering apps (`ccri client add`), as oidc-provider's `Client` records in the
 * store. A confidential app gets a secret, shown once and kept only as a hash; a public
 * app authenticates with PKCE alone; a backend service signs its assertions with a key
 * of its JWKS (inline or by URL).
 */
export interface NewClient {
  /** A fixed client_id (an app the server registers itself); a random UUID otherwise. */
  clientId?: string;
  name: string;
  grant: 'authorization_code' | 'client_credentials';
  redirectUris?: string[];
  launchUri?: string;
  /** Where RP-initiated sign-out (`/auth/logout`) may send the browser back to. */
  postLogoutRedirectUris?: string[];
  public?: boolean;
  jwks?: JSONWebKeySet;
  jwksUri?: string;
  scope: string;
}

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  client_name: string;
  grant_types: string[];
  token_endpoint_auth_method: string;
  scope: string;
  redirect_uris?: string[];
  launch_uri?: string;
  post_logout_redirect_uris?: string[];
  jwks_uri?: string;
}

/** Client metadata (RFC 7591 names) for a new app, and its secret in clear when it has one. */
export function clientMetadata(c: NewClient): { metadata: Record<string, unknown>; secret?: string } {
  if (!c.name.trim()) throw new Error('A client needs a name');
  if (!c.scope.trim()) throw new Error('A client needs its scopes (--scope)');
  if (c.clientId !== undefined && !/^[A-Za-z0-9._~-]{1,64}$/.test(c.clientId)) throw new Error(`'${c.clientId}' is not a client_id: 1 to 64 letters, digits, dots, dashes, underscores or tildes`);
  const metadata: Record<string, unknown> = { client_id: c.clientId ?? randomUUID(), client_name: c.name, scope: c.scope.trim().split(/\s+/).join(' ') };
  let secret: string | undefined;
  if (c.grant === 'client_credentials') {
    if (!c.jwks === !c.jwksUri) throw new Error('A backend service (client_credentials) needs its public keys: --jwks-file or --jwks-url, one of them');
    if (c.public) throw new Error('A backend service cannot be public: it authenticates with its key');
    Object.assign(metadata, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'private_key_jwt', ...(c.jwks ? { jwks: c.jwks } : { jwks_uri: c.jwksUri }) });
  } else {
    if (!c.redirectUris?.length) throw new Error('An app that signs users in needs at least one --redirect-uri');
    for (const uri of [...c.redirectUris, ...(c.launchUri ? [c.launchUri] : []), ...(c.postLogoutRedirectUris ?? [])]) if (!URL.canParse(uri)) throw new Error(`'${uri}' is not an absolute URL`);
    Object.assign(metadata, {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: c.redirectUris,
      ...(c.launchUri ? { launch_uri: c.launchUri } : {}),
      ...(c.postLogoutRedirectUris?.length ? { post_logout_redirect_uris: c.postLogoutRedirectUris } : {}),
    });
    if (c.public) {
      metadata.token_endpoint_auth_method = 'none';
    } else if (c.jwks || c.jwksUri) {
      Object.assign(metadata, { token_endpoint_auth_method: 'private_key_jwt', ...(c.jwks ? { jwks: c.jwks } : { jwks_uri: c.jwksUri }) });
    } else {
      secret = randomBytes(32).toString('base64url');
      Object.assign(metadata, { token_endpoint_auth_method: 'client_secret_basic', client_secret: hashClientSecret(secret) });
    }
  }
  return secret ? { metadata, secret } : { metadata };
}

/** Registers an app; returns what its developer needs (the secret, if any, only here). */
export async function addClient(auth: AuthStore, c: NewClient): Promise<RegisteredClient> {
  const { metadata, secret } = clientMetadata(c);
  await auth.put('Client', metadata.client_id as string, { payload: metadata });
  return { ...describe(metadata), ...(secret ? { client_secret: secret } : {}) };
}

/**
 * Registers an app the server itself provides (the web explorer), under its fixed
 * client_id: created, or brought up to date when its registration changed (a new base
 * URL), and left alone otherwise, so that every start and every node may call it.
 * Only a public client or a backend service (no secret to hand out) can be ensured.
 */
export async function ensureClient(auth: AuthStore, c: NewClient & { clientId: string }): Promise<RegisteredClient> {
  const { metadata, secret } = clientMetadata(c);
  if (secret) throw new Error('ensureClient registers apps without a secret: a public client or a backend service');
  const existing = await auth.get('Client', c.clientId);
  if (!existing || !isDeepStrictEqual(existing.payload, metadata)) await auth.put('Client', c.clientId, { payload: metadata });
  return describe(metadata);
}

export async function listClients(auth: AuthStore): Promise<RegisteredClient[]> {
  return (await auth.list('Client')).map((e) => describe(e.payload));
}

export async function removeClient(auth: AuthStore, clientId: string): Promise<boolean> {
  return auth.remove('Client', clientId);
}

/** What may be shown of a client: never its secret (nor its hash). */
function describe(m: Record<string, unknown>): RegisteredClient {
  const out: RegisteredClient = {
    client_id: String(m.client_id),
    client_name: String(m.client_name ?? ''),
    grant_types: (m.grant_types as string[] | undefined) ?? ['authorization_code'],
    token_endpoint_auth_method: String(m.token_endpoint_auth_method ?? 'client_secret_basic'),
    scope: String(m.scope ?? ''),
  };
  if (Array.isArray(m.redirect_uris) && m.redirect_uris.length) out.redirect_uris = m.redirect_uris as string[];
  if (typeof m.launch_uri === 'string') out.launch_uri = m.launch_uri;
  if (Array.isArray(m.post_logout_redirect_uris) && m.post_logout_redirect_uris.length) out.post_logout_redirect_uris = m.post_logout_redirect_uris as string[];
  if (typeof m.jwks_uri === 'string') out.jwks_uri = m.jwks_uri;
  return out;
}
