import { createHash } from 'node:crypto';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { AuthStore } from '../../store/store.js';

/**
 * oidc-provider's storage (its Adapter interface), in the store's `auth_entry` table, so
 * that every node sees the same sessions, codes, grants, refresh tokens and clients.
 * Times cross the boundary in seconds (oidc-provider) and are kept in milliseconds.
 */
export function storeAdapter(auth: AuthStore, clock: () => number = Date.now): new (model: string) => Adapter {
  return class StoreAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const stored = this.model === 'Client' ? withHashedSecret(payload) : payload;
      // A grant is revoked with everything issued under it, itself included.
      const grantId = this.model === 'Grant' ? id : payload.grantId;
      await auth.put(
        this.model,
        id,
        { payload: stored as Record<string, unknown>, ...(expiresIn ? { expiresAt: clock() + expiresIn * 1000 } : {}) },
        { ...(grantId ? { grantId } : {}), ...(payload.uid ? { uid: payload.uid } : {}), ...(payload.userCode ? { userCode: payload.userCode } : {}) },
      );
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return toPayload(await auth.get(this.model, id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return toPayload(await auth.findBy(this.model, 'uid', uid));
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return toPayload(await auth.findBy(this.model, 'userCode', userCode));
    }

    async consume(id: string): Promise<void> {
      await auth.consume(this.model, id);
    }

    async destroy(id: string): Promise<void> {
      await auth.remove(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await auth.revokeGrant(grantId);
    }
  };
}

function toPayload(entry: { payload: Record<string, unknown>; consumedAt?: number } | undefined): AdapterPayload | undefined {
  if (!entry) return undefined;
  return { ...entry.payload, ...(entry.consumedAt !== undefined ? { consumed: Math.floor(entry.consumedAt / 1000) } : {}) } as AdapterPayload;
}

/**
 * Client secrets are kept only as hashes. oidc-provider compares the secret a client
 * presents with the stored one, so the plugin hashes the presented secret the same way
 * before handing the request over (plugin.ts): a stolen database yields no usable secret.
 * The secrets are 256 random bits, for which one SHA-256 is enough (no slow hash needed).
 */
export function hashClientSecret(secret: string): string {
  return `sha256.${createHash('sha256').update(secret, 'utf8').digest('base64url')}`;
}

function withHashedSecret(payload: AdapterPayload): AdapterPayload {
  const secret = payload.client_secret;
  if (typeof secret !== 'string' || secret.startsWith('sha256.')) return payload;
  return { ...payload, client_secret: hashClientSecret(secret) };
}
