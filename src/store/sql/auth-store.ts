import type { AuthEntry, AuthEntryKeys, AuthStore, AuthUser } from '../store.js';
import type { SqlDriver, SqlValue } from './driver.js';

interface EntryRow {
  id: string;
  payload: string;
  expires_at: number | string | null;
  consumed_at: number | string | null;
}

interface UserRow {
  username: string;
  password_hash: string;
  patient: string | null;
  practitioner: string | null;
  created: number | string;
}

const ENTRY = 'SELECT id, payload, expires_at, consumed_at FROM auth_entry';
/** Entries past their expiry are gone at once, whether or not the purge has removed their rows yet. */
const LIVE = '(expires_at IS NULL OR expires_at > ?)';

/**
 * The authorization server's records in the SQL store (migration 2: `auth_entry`,
 * `auth_user`). Reads go through the reader connection (committed data only), writes
 * through the driver's write transactions, so every node sharing the database sees them.
 */
export class SqlAuthStore implements AuthStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly clock: () => number,
  ) {}

  async put(model: string, id: string, entry: AuthEntry, keys: AuthEntryKeys = {}): Promise<void> {
    const values: SqlValue[] = [model, id, JSON.stringify(entry.payload), keys.grantId ?? null, keys.uid ?? null, keys.userCode ?? null, entry.expiresAt ?? null, entry.consumedAt ?? null];
    await this.write(
      'INSERT INTO auth_entry (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid, ' +
        'user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = excluded.consumed_at',
      values,
    );
  }

  async create(model: string, id: string, entry: AuthEntry, keys: AuthEntryKeys = {}): Promise<boolean> {
    const values: SqlValue[] = [model, id, JSON.stringify(entry.payload), keys.grantId ?? null, keys.uid ?? null, keys.userCode ?? null, entry.expiresAt ?? null, entry.consumedAt ?? null];
    const n = await this.write(
      'INSERT INTO auth_entry (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (model, id) DO NOTHING',
      values,
    );
    return n > 0;
  }

  async get(model: string, id: string): Promise<AuthEntry | undefined> {
    const row = await this.driver.reader.get<EntryRow>(`${ENTRY} WHERE model = ? AND id = ? AND ${LIVE}`, [model, id, this.clock()]);
    return row ? toEntry(row) : undefined;
  }

  async findBy(model: string, key: 'uid' | 'userCode', value: string): Promise<AuthEntry | undefined> {
    const column = key === 'uid' ? 'uid' : 'user_code';
    const row = await this.driver.reader.get<EntryRow>(`${ENTRY} WHERE model = ? AND ${column} = ? AND ${LIVE}`, [model, value, this.clock()]);
    return row ? toEntry(row) : undefined;
  }

  async consume(model: string, id: string): Promise<boolean> {
    return (await this.write('UPDATE auth_entry SET consumed_at = ? WHERE model = ? AND id = ? AND consumed_at IS NULL', [this.clock(), model, id])) > 0;
  }

  async remove(model: string, id: string): Promise<boolean> {
    return (await this.write('DELETE FROM auth_entry WHERE model = ? AND id = ?', [model, id])) > 0;
  }

  revokeGrant(grantId: string): Promise<number> {
    return this.write('DELETE FROM auth_entry WHERE grant_id = ?', [grantId]);
  }

  async list(model: string): Promise<Array<{ id: string } & AuthEntry>> {
    const rows = await this.driver.reader.all<EntryRow>(`${ENTRY} WHERE model = ? AND ${LIVE} ORDER BY id`, [model, this.clock()]);
    return rows.map((row) => ({ id: row.id, ...toEntry(row) }));
  }

  purgeExpired(): Promise<number> {
    return this.write('DELETE FROM auth_entry WHERE expires_at IS NOT NULL AND expires_at <= ?', [this.clock()]);
  }

  async putUser(user: AuthUser): Promise<void> {
    await this.write(
      'INSERT INTO auth_user (username, password_hash, patient, practitioner, created) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, patient = excluded.patient, practitioner = excluded.practitioner',
      [user.username, user.passwordHash, user.patient ?? null, user.practitioner ?? null, user.created],
    );
  }

  async getUser(username: string): Promise<AuthUser | undefined> {
    const row = await this.driver.reader.get<UserRow>('SELECT * FROM auth_user WHERE username = ?', [username]);
    return row ? toUser(row) : undefined;
  }

  async listUsers(): Promise<AuthUser[]> {
    return (await this.driver.reader.all<UserRow>('SELECT * FROM auth_user ORDER BY username')).map(toUser);
  }

  async removeUser(username: string): Promise<boolean> {
    return (await this.write('DELETE FROM auth_user WHERE username = ?', [username])) > 0;
  }

  private write(sql: string, params: SqlValue[]): Promise<number> {
    return this.driver.transaction((conn) => conn.run(sql, params));
  }
}

function toEntry(row: EntryRow): AuthEntry {
  const entry: AuthEntry = { payload: JSON.parse(row.payload) as Record<string, unknown> };
  if (row.expires_at !== null) entry.expiresAt = Number(row.expires_at);
  if (row.consumed_at !== null) entry.consumedAt = Number(row.consumed_at);
  return entry;
}

function toUser(row: UserRow): AuthUser {
  const user: AuthUser = { username: row.username, passwordHash: row.password_hash, created: Number(row.created) };
  if (row.patient !== null) user.patient = row.patient;
  if (row.practitioner !== null) user.practitioner = row.practitioner;
  return user;
}
