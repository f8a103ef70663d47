/** Lifetimes, in seconds. An access token lasts an hour, but stops at once when its grant is revoked: the secure base asks inForce on every request. */
export const TTL = {
  accessToken: 3600,
  clientCredentials: 300,
  authorizationCode: 60,
  idToken: 3600,
  interaction: 30 * 60,
  session: 8 * 3600,
  offlineRefresh: 30 * 24 * 3600,
  grant: 30 * 24 * 3600,
} as const;

/** The longest a token signed by a key may live: a retired key stays published this long (keys.ts). */
export const LONGEST_SIGNED_MS = Math.max(TTL.accessToken, TTL.clientCredentials, TTL.idToken) * 1000 + 5 * 60_000;
