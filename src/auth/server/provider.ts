import Provider, { type Configuration, errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuthStore } from '../../store/store.js';
import { storeAdapter } from './adapter.js';
import type { SigningKeys } from './keys.js';
import { findContext, findLaunch } from './launch-context.js';
import { logoutPage, messagePage, PAGE_CSP } from './pages.js';
import { allScopes, clientScopes } from './smart-scopes.js';
import { TTL } from './ttl.js';
import { fhirUserUrl } from './users.js';

/** A client assertion may not be valid for longer than this ahead (SMART Backend Services: at most five minutes). */
const MAX_ASSERTION_AHEAD_S = 300;

export interface ProviderOptions {
  /** `<public origin>/auth`. */
  issuer: string;
  /** The secure base's public URL: the only audience (resource) tokens are issued for. */
  audience: string;
  auth: AuthStore;
  keys: SigningKeys;
  /** Signs oidc-provider's cookies. */
  cookieKeys: string[];
  /** RFC 7591 registration is open, with this initial access token, only when set. */
  registrationToken?: string;
  /** Cookies only over HTTPS (when the public URL is https). */
  secureCookies: boolean;
  /** Client JWKS may be fetched from loopback and private addresses. */
  fetchPrivate: boolean;
}

/** The interaction pages (interactions.ts) live below the issuer's path. */
export const interactionPath = (uid: string) => `/auth/interaction/${uid}`;

/**
 * The oidc-provider instance: SMART App Launch 1.0 and Backend Services on OpenID
 * Connect, its storage in the store, its pages our own. Rebuilt when the signing keys
 * change (plugin.ts).
 * https://hl7.org/fhir/smart-app-launch/1.0.0/
 */
export function createProvider(o: ProviderOptions): Provider {
  const { auth, audience } = o;
  const cookie = { httpOnly: true, sameSite: 'lax' as const, secure: o.secureCookies };
  const configuration: Configuration = {
    adapter: storeAdapter(auth),
    jwks: { keys: o.keys.private as NonNullable<Configuration['jwks']>['keys'] },
    clients: [],
    // Every scope the server knows is one oidc-provider accepts (and a client may register).
    scopes: [...allScopes()],
    claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['preferred_username'] },
    // SMART apps read fhirUser from the id_token, not from userinfo.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const user = await auth.getUser(sub);
      if (!user) return undefined;
      const fhirUser = fhirUserUrl(user, audience);
      return { accountId: sub, claims: async () => ({ sub, preferred_username: sub, ...(fhirUser ? { fhirUser } : {}) }) };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === client.clientId },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => html(ctx, logoutPage(form, ctx.host)),
        postLogoutSuccessSource: async (ctx) => html(ctx, messagePage('Signed out', 'You have signed out.')),
      },
      registration: o.registrationToken ? { enabled: true, initialAccessToken: o.registrationToken, issueRegistrationAccessToken: false } : { enabled: false },
      resourceIndicators: {
        enabled: true,
        // SMART apps name the FHIR server with `aud`, not `resource`: every token is for the secure base.
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, indicator, client) => {
          if (indicator !== audience) throw new errors.InvalidTarget(`Tokens are issued only for ${audience}`);
          const backend = client.grantTypeAllowed('client_credentials') && !client.grantTypeAllowed('authorization_code');
          const allowed = clientScopes(client.scope, backend);
          refuseUnknownScopes(ctx, allowed);
          return { scope: allowed.join(' '), audience, accessTokenFormat: 'jwt', accessTokenTTL: backend ? TTL.clientCredentials : TTL.accessToken, jwt: { sign: { alg: 'RS256', kid: o.keys.activeKid } } };
        },
      },
    },
    formats: {
      customizers: {
        // The claims of the access token contract (docs/security.md): the launch patient, the user's FHIR resource and the grant.
        async jwt(_ctx, token, jwt) {
          const payload = jwt.payload as Record<string, unknown>;
          const grantId = (token as { grantId?: string }).grantId;
          const accountId = (token as { accountId?: string }).accountId;
          if (grantId) {
            payload.grant = grantId;
            const context = await findContext(auth, grantId);
            if (context?.patient) payload.patient = context.patient;
          }
          if (accountId) {
            const user = await auth.getUser(accountId);
            const fhirUser = user && fhirUserUrl(user, audience);
            if (fhirUser) payload.fhirUser = fhirUser;
          }
        },
      },
    },
    extraParams: {
      // SMART: the app names the FHIR server it means; anything else is refused rather than served by a token for another.
      aud(ctx: KoaContextWithOIDC, value: string | undefined) {
        if (ctx.oidc.route !== 'authorization') return;
        if (!value) throw new errors.InvalidRequest(`aud is required: the FHIR server's URL, ${audience}`);
        if (value.replace(/\/+$/, '') !== audience) throw new errors.InvalidRequest(`aud must be this FHIR server's URL, ${audience}`);
      },
      async launch(ctx: KoaContextWithOIDC, value: string | undefined, client: { clientId: string }) {
        if (value === undefined || ctx.oidc.route !== 'authorization') return;
        if (!(await findLaunch(auth, value, client.clientId))) throw new errors.InvalidRequest('launch is unknown, expired, or was issued for another app');
      },
    } as unknown as Configuration['extraParams'],
    extraClientMetadata: { properties: ['launch_uri'], validator: (_ctx, key, value) => validateLaunchUri(key, value) },
    responseTypes: ['code'],
    pkce: { required: () => true },
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS384', 'ES384', 'RS256', 'ES256'],
      idTokenSigningAlgValues: ['RS256'],
      userinfoSigningAlgValues: ['RS256'],
      requestObjectSigningAlgValues: ['RS256', 'RS384', 'ES256', 'ES384'],
    },
    clientDefaults: { grant_types: ['authorization_code'], response_types: ['code'], id_token_signed_response_alg: 'RS256', token_endpoint_auth_method: 'client_secret_basic' },
    async assertJwtClientAuthClaimsAndHeader(_ctx, claims) {
      if (typeof claims.exp === 'number' && claims.exp - Math.floor(Date.now() / 1000) > MAX_ASSERTION_AHEAD_S) {
        throw new errors.InvalidClientAuth('the client assertion expires more than five minutes from now');
      }
    },
    // Every authorization asks for consent afresh (no grant of an earlier one is reused), so that each launch carries its own context.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || code.scopes.has('online_access')),
    // online_access tokens end with the user's session; offline_access ones outlive it.
    expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
    ttl: {
      AccessToken: TTL.accessToken,
      ClientCredentials: TTL.clientCredentials,
      AuthorizationCode: TTL.authorizationCode,
      IdToken: TTL.idToken,
      Interaction: TTL.interaction,
      Session: TTL.session,
      Grant: TTL.grant,
      RefreshToken: (_ctx, token) => (token.scopes.has('offline_access') ? TTL.offlineRefresh : TTL.session),
    },
    cookies: { keys: o.cookieKeys, long: cookie, short: cookie },
    routes: {
      authorization: '/authorize',
      token: '/token',
      jwks: '/jwks',
      registration: '/register',
      introspection: '/introspect',
      revocation: '/revoke',
      userinfo: '/userinfo',
      end_session: '/logout',
    },
    interactions: { url: async (_ctx, interaction) => interactionPath(interaction.uid) },
    // oidc-provider fetches through a dispatcher that refuses special-use addresses (SSRF); only an operator lifts that.
    ...(o.fetchPrivate ? { fetch: (url: string | URL | Request, options?: RequestInit) => fetch(url, { ...options, dispatcher: undefined } as RequestInit) } : {}),
    clientBasedCORS: (_ctx, origin, client) => (client.redirectUris ?? []).some((uri) => URL.canParse(uri) && new URL(uri).origin === origin),
    async renderError(ctx, out) {
      html(ctx, messagePage('The request could not be completed', 'The app sent a request this server cannot complete. Go back to the app and try again.', out as unknown as Record<string, string>));
    },
  };
  return new Provider(o.issuer, configuration);
}

/** Sets an HTML page as the response, with the pages' security headers. */
function html(ctx: KoaContextWithOIDC, body: string): void {
  ctx.type = 'html';
  ctx.set('content-security-policy', PAGE_CSP);
  ctx.set('x-content-type-options', 'nosniff');
  ctx.body = body;
}

/**
 * A scope this client may not have is refused (`invalid_scope`), rather than silently left
 * out, when the app asks for it: at authorization, and for backend services at the token
 * endpoint (where a `patient/` or `user/` scope has no meaning).
 */
function refuseUnknownScopes(ctx: KoaContextWithOIDC, allowed: readonly string[]): void {
  const route = ctx.oidc.route;
  const clientCredentials = route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
  if (route !== 'authorization' && !clientCredentials) return;
  const requested = String(ctx.oidc.params?.scope ?? '').split(' ').filter(Boolean);
  const set = new Set(allowed);
  const refused = requested.find((s) => !set.has(s));
  if (refused) throw new errors.InvalidScope(`the scope ${refused} is not one this client may be granted`, refused);
}

function validateLaunchUri(key: string, value: unknown): void {
  if (key !== 'launch_uri' || value === undefined) return;
  if (typeof value !== 'string' || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new errors.InvalidClientMetadata('launch_uri must be an absolute http(s) URL');
  }
}
