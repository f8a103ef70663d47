import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { exportJWK, type JSONWebKeySet, type JWK } from 'jose';
import type { AuthStore } from '../../store/store.js';

/**
 * The server's signing keys, kept in the store (model `SigningKey`) so that every node
 * signs with the same key and publishes the same set. The newest key that is not retired
 * signs; `ccri keys rotate` makes a new one and retires the others, which stay published
 * (and so keep verifying) until every token they signed has expired, then expire.
 */
export const SIGNING_ALG = 'RS256';
const MODEL = 'SigningKey';
/** The entry id of a store's first key (its kid, in the key, is its own). */
const FIRST_KEY = 'first';

interface KeyPayload {
  jwk: JWK;
  created: number;
  retired?: number;
}

export interface SigningKeys {
  /** Private keys, the signing one first (oidc-provider's `jwks`). */
  private: JWK[];
  /** What `/auth/jwks` publishes. */
  public: JSONWebKeySet;
  /** The key that signs now. */
  activeKid: string;
  /** Changes whenever the set changes (a rotation on any node). */
  fingerprint: string;
}

async function newKey(now: number): Promise<KeyPayload> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: SIGNING_ALG, use: 'sig' };
  return { jwk, created: now };
}

function publicPart(jwk: JWK): JWK {
  const { kty, n, e, crv, x, y, kid, alg, use } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y, kid, alg, use }).filter(([, v]) => v !== undefined)) as JWK;
}

/**
 * The keys in the store, making the first one when there is none that signs. The very first
 * key of a store is kept under one fixed entry id, so that of nodes (or workers) making it at
 * once, one wins and all sign with it, rather than each with a key of its own.
 */
export async function signingKeys(auth: AuthStore, now = Date.now()): Promise<SigningKeys> {
  let entries = await auth.list(MODEL);
  if (!entries.some((e) => !(e.payload as unknown as KeyPayload).retired)) {
    const key = await newKey(now);
    await auth.create(MODEL, entries.length ? key.jwk.kid! : FIRST_KEY, { payload: key as unknown as Record<string, unknown> });
    entries = await auth.list(MODEL);
  }
  const keys = entries.map((e) => e.payload as unknown as KeyPayload).sort((a, b) => Number(!!a.retired) - Number(!!b.retired) || b.created - a.created);
  return {
    private: keys.map((k) => k.jwk),
    public: { keys: keys.map((k) => publicPart(k.jwk)) },
    activeKid: keys[0]!.jwk.kid!,
    fingerprint: keys.map((k) => `${k.jwk.kid}${k.retired ? '-' : '+'}`).join(','),
  };
}

/**
 * Makes a new signing key and retires the others: they stay published for `graceMs`
 * (the longest lifetime of a token they may have signed), then expire. Returns the new key's kid and those retired.
 */
export async function rotateKeys(auth: AuthStore, graceMs: number, now = Date.now()): Promise<{ kid: string; retired: string[] }> {
  const key = await newKey(now);
  await auth.create(MODEL, key.jwk.kid!, { payload: key as unknown as Record<string, unknown> });
  const retired: string[] = [];
  for (const entry of await auth.list(MODEL)) {
    const payload = entry.payload as unknown as KeyPayload;
    if (entry.id === key.jwk.kid || payload.retired) continue;
    await auth.put(MODEL, entry.id, { payload: { ...payload, retired: now } as unknown as Record<string, unknown>, expiresAt: now + graceMs });
    // A key's id is its kid, but for the store's first key (FIRST_KEY).
    retired.push(payload.jwk.kid ?? entry.id);
  }
  return { kid: key.jwk.kid!, retired };
}
