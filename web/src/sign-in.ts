import * as oauth from 'oauth4webapi';
import { FhirApi } from './api.js';
import { config } from './config.js';
import type { HumanName, Resource } from './fhir-types.js';
import { humanName } from './format.js';
import { clearSession, currentSession, saveSession, type Session } from './session.js';
import { explorerScopes, type SignInKind } from '../../src/ui/sign-in.js';

/**
 * The explorer as a SMART app (public client): the authorization code flow with PKCE (S256)
 * and `state`, through oauth4webapi (discovery, the code's exchange, the token response's and
 * id_token's checks). Loaded only when signing in or out, so it costs a first visit nothing.
 */

/** What must survive the trip to the authorization server and back (this tab only). */
interface Pending {
  verifier: string;
  state: string;
  kind: SignInKind;
  returnTo: string;
}

const PENDING = 'ccri-sign-in';

function signInConfig(): { issuer: string; clientId: string; redirectUri: string; signedOutUri: string } {
  const s = config.signIn;
  if (!s?.available || !config.secureBase) throw new Error(s && !s.available ? s.reason : 'This server offers no sign-in.');
  return s;
}

/** A local copy serves the authorization server over plain HTTP; oauth4webapi refuses that unless told, and is told only then. */
function options(issuer: URL): { [oauth.allowInsecureRequests]?: boolean } {
  return issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(): Promise<{ as: oauth.AuthorizationServer; client: oauth.Client; issuer: URL }> {
  const s = signInConfig();
  const issuer = new URL(s.issuer);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options(issuer) }));
  return { as, client: { client_id: s.clientId }, issuer };
}

/** Only a path of this site may be returned to after signing in (never another origin). */
export function safeReturn(path: string | null | undefined): string {
  return path && path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && !path.startsWith('/sign-in') ? path : '/';
}

/** Sends the browser to the authorization server's sign-in page. */
export async function startSignIn(kind: SignInKind, audit: boolean, returnTo: string): Promise<void> {
  const s = signInConfig();
  // The explorer was reached at another address than the configured one (127.0.0.1 for
  // localhost): the way back lands on the configured one, whose storage would not hold this
  // sign-in's verifier and state. So it starts there.
  const home = new URL(s.redirectUri).origin;
  if (location.origin !== home) {
    location.assign(`${home}/sign-in?return=${encodeURIComponent(safeReturn(returnTo))}`);
    return;
  }
  const { as } = await discover();
  if (!as.authorization_endpoint) throw new Error('The authorization server names no authorization endpoint.');
  const pending: Pending = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), kind, returnTo: safeReturn(returnTo) };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: s.clientId,
    redirect_uri: s.redirectUri,
    scope: explorerScopes(kind, audit).join(' '),
    state: pending.state,
    code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    // SMART: the FHIR server the token is for.
    aud: config.secureBase!,
  }).toString();
  location.assign(url.href);
}

/**
 * Back from the authorization server: checks `state` and `iss`, exchanges the code with the
 * PKCE verifier, and keeps the session. Returns where to go next.
 */
export async function completeSignIn(callback: URL): Promise<string> {
  const text = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!text) throw new Error('This sign-in was not started in this browser tab, or has already been used. Start again.');
  const pending = JSON.parse(text) as Pending;
  const s = signInConfig();
  const { as, client, issuer } = await discover();
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(as, client, callback, pending.state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) throw new Error(err.error_description ?? err.error);
    throw err;
  }
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, s.redirectUri, pending.verifier, options(issuer));
  let token: oauth.TokenEndpointResponse;
  try {
    token = await oauth.processAuthorizationCodeResponse(as, client, response, { requireIdToken: true });
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) throw new Error(`The authorization server refused the sign-in: ${err.error_description ?? err.error}`);
    throw err;
  }
  const claims = oauth.getValidatedIdTokenClaims(token)!;
  const fhirUser = typeof claims.fhirUser === 'string' ? claims.fhirUser : undefined;
  const session: Session = {
    accessToken: token.access_token,
    expiresAt: Date.now() + (token.expires_in ?? 3600) * 1000,
    scope: token.scope ?? '',
    kind: pending.kind,
    user: claims.sub,
    ...(fhirUser ? { fhirUser } : {}),
    ...(typeof token.patient === 'string' ? { patient: token.patient } : {}),
    ...(token.id_token ? { idToken: token.id_token } : {}),
  };
  const name = fhirUser ? await userName(new FhirApi(config.secureBase!, session.accessToken), fhirUser) : undefined;
  const previous = currentSession();
  saveSession(name ? { ...session, name } : session);
  // Signed in again (as someone else, or with other access): the token it replaces is revoked, not just forgotten.
  if (previous && previous.accessToken !== session.accessToken) await revoke(as, client, issuer, previous.accessToken).catch(() => undefined);
  return pending.kind === 'patient' && session.patient && pending.returnTo === '/' ? `/patients/${encodeURIComponent(session.patient)}` : pending.returnTo;
}

/** The name on the user's Practitioner or Patient, read with their own token; none if it cannot be read. */
async function userName(secure: FhirApi, fhirUser: string): Promise<string | undefined> {
  if (!secure.owns(fhirUser)) return undefined;
  try {
    const r = await secure.json<Resource & { name?: HumanName[] }>(fhirUser);
    return humanName(r.name) || undefined;
  } catch {
    return undefined;
  }
}

async function revoke(as: oauth.AuthorizationServer, client: oauth.Client, issuer: URL, token: string): Promise<void> {
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), token, options(issuer)));
}

/**
 * Signs out: the token is revoked at the authorization server (which revokes its grant, so
 * it is refused at once everywhere), the session is forgotten, and the browser goes to the
 * server's sign-out page, which ends the sign-in session there and comes back here.
 */
export async function signOut(session: Session | undefined): Promise<void> {
  clearSession();
  let endSession: string | undefined;
  try {
    const s = signInConfig();
    const { as, client, issuer } = await discover();
    if (session) await revoke(as, client, issuer, session.accessToken);
    if (as.end_session_endpoint) {
      const url = new URL(as.end_session_endpoint);
      url.search = new URLSearchParams({ client_id: s.clientId, post_logout_redirect_uri: s.signedOutUri, ...(session?.idToken ? { id_token_hint: session.idToken } : {}) }).toString();
      endSession = url.href;
    }
  } catch {
    // The session is forgotten here whatever the server said; its token expires on its own.
  }
  location.assign(endSession ?? '/');
}
