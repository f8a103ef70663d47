import { describe, expect, it } from 'vitest';
import type { StoreAdmin } from './store.js';

/**
 * The authorization server's storage (AuthStore), as every store keeps it: run inside the
 * store contract (store.contract.ts), so on SQLite and PostgreSQL alike. `setNow` moves the
 * store's clock.
 */
export function runAuthStoreContract(store: () => StoreAdmin, setNow: (ms: number) => void): void {
  describe('authorization server storage', () => {
    const t0 = Date.parse('2024-01-01T00:00:00Z');
    const unique = () => `x${Math.random().toString(36).slice(2)}`;

    it('puts, gets, replaces and removes entries by model and id', async () => {
      const auth = store().auth();
      const id = unique();
      await auth.put('Session', id, { payload: { accountId: 'ann', nested: { a: [1, 2] } } });
      expect(await auth.get('Session', id)).toEqual({ payload: { accountId: 'ann', nested: { a: [1, 2] } } });
      expect(await auth.get('Grant', id)).toBeUndefined();
      await auth.put('Session', id, { payload: { accountId: 'bob' }, expiresAt: t0 + 60_000 });
      expect(await auth.get('Session', id)).toEqual({ payload: { accountId: 'bob' }, expiresAt: t0 + 60_000 });
      expect(await auth.remove('Session', id)).toBe(true);
      expect(await auth.remove('Session', id)).toBe(false);
      expect(await auth.get('Session', id)).toBeUndefined();
    });

    it('creates an entry only once', async () => {
      const auth = store().auth();
      const id = unique();
      expect(await auth.create('SigningKey', id, { payload: { n: 1 } })).toBe(true);
      expect(await auth.create('SigningKey', id, { payload: { n: 2 } })).toBe(false);
      expect((await auth.get('SigningKey', id))?.payload).toEqual({ n: 1 });
    });

    it('finds entries by uid and user code, and consumes an entry once', async () => {
      const auth = store().auth();
      const id = unique();
      await auth.put('Session', id, { payload: { n: 1 } }, { uid: `uid-${id}` });
      await auth.put('DeviceCode', id, { payload: { n: 2 } }, { userCode: `code-${id}` });
      expect((await auth.findBy('Session', 'uid', `uid-${id}`))?.payload).toEqual({ n: 1 });
      expect((await auth.findBy('DeviceCode', 'userCode', `code-${id}`))?.payload).toEqual({ n: 2 });
      expect(await auth.findBy('Grant', 'uid', `uid-${id}`)).toBeUndefined();
      expect(await auth.consume('DeviceCode', id)).toBe(true);
      expect((await auth.get('DeviceCode', id))?.consumedAt).toBe(t0);
      expect(await auth.consume('DeviceCode', id)).toBe(false);
    });

    it('revokes every entry of a grant, whatever its model, and nothing else', async () => {
      const auth = store().auth();
      const grant = unique();
      await auth.put('Grant', grant, { payload: {} }, { grantId: grant });
      await auth.put('RefreshToken', unique(), { payload: {} }, { grantId: grant });
      await auth.put('AuthorizationCode', unique(), { payload: {} }, { grantId: grant });
      const other = unique();
      await auth.put('RefreshToken', other, { payload: {} }, { grantId: unique() });
      expect(await auth.revokeGrant(grant)).toBe(3);
      expect(await auth.get('Grant', grant)).toBeUndefined();
      expect(await auth.get('RefreshToken', other)).toBeDefined();
    });

    it('hides expired entries at once, lists the live ones, and purges the expired', async () => {
      const auth = store().auth();
      const model = `M${unique()}`;
      await auth.put(model, 'a', { payload: {}, expiresAt: t0 + 1000 });
      await auth.put(model, 'b', { payload: {}, expiresAt: t0 + 5000 });
      await auth.put(model, 'c', { payload: {} });
      expect((await auth.list(model)).map((e) => e.id)).toEqual(['a', 'b', 'c']);
      setNow(t0 + 1000);
      expect(await auth.get(model, 'a')).toBeUndefined();
      expect((await auth.list(model)).map((e) => e.id)).toEqual(['b', 'c']);
      expect(await auth.purgeExpired()).toBeGreaterThanOrEqual(1);
      setNow(t0);
      // Purged, so gone even when the clock goes back.
      expect((await auth.list(model)).map((e) => e.id)).toEqual(['b', 'c']);
    });

    it('keeps users with their password hash and the resources they are', async () => {
      const auth = store().auth();
      const name = unique();
      await auth.putUser({ username: name, passwordHash: 'scrypt$x', patient: '1', created: t0 });
      expect(await auth.getUser(name)).toEqual({ username: name, passwordHash: 'scrypt$x', patient: '1', created: t0 });
      await auth.putUser({ username: name, passwordHash: 'scrypt$y', practitioner: '3', created: t0 });
      expect(await auth.getUser(name)).toEqual({ username: name, passwordHash: 'scrypt$y', practitioner: '3', created: t0 });
      expect((await auth.listUsers()).map((u) => u.username)).toContain(name);
      expect(await auth.removeUser(name)).toBe(true);
      expect(await auth.getUser(name)).toBeUndefined();
      expect(await auth.removeUser(name)).toBe(false);
    });
  });
}
