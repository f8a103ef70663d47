import type { IndexRows } from '../../search/index-rows.js';
import type { SqlConnection, SqlDriver } from './driver.js';

/**
 * Search parameters are stored as small integers (`search_param.pid`) to keep the
 * index tables narrow. Every parameter of the registry is registered at start-up;
 * the mapping is then loaded into memory. A parameter first seen inside a write
 * transaction is added to that transaction and joins the shared map only if the
 * transaction commits (a rolled-back id may be reused by the database).
 */
export class ParamIds {
  private readonly ids = new Map<string, number>();
  private readonly byType = new Map<string, Map<string, number>>();

  /**
   * @param keysOf the index keys of a search parameter (its rows are those of all its keys;
   *   search/registry.ts, indexKeys). By default a parameter is its own key.
   */
  constructor(
    private readonly driver: SqlDriver,
    private readonly keysOf: (type: string, code: string) => string[] = (_type, code) => [code],
  ) {}

  /** Every known (type, index key, id). */
  entries(): Array<[string, string, number]> {
    const out: Array<[string, string, number]> = [];
    for (const [type, m] of this.byType) for (const [code, pid] of m) out.push([type, code, pid]);
    return out;
  }

  /** The ids of a parameter's index keys on each of `types` (loaded beforehand with ensureParams). */
  lookup(types: string[], code: string): number[] {
    const out: number[] = [];
    for (const type of types) {
      for (const k of this.keysOf(type, code)) {
        const pid = this.get(type, k);
        if (pid !== undefined) out.push(pid);
      }
    }
    return out;
  }

  /** Makes sure the index keys of the parameters `pairs` (type, code) are known. */
  ensureParams(conn: SqlConnection, pairs: Array<[string, string]>): Promise<void> {
    return this.ensureKnown(conn, pairs.flatMap(([type, code]) => this.keysOf(type, code).map((k): [string, string] => [type, k])));
  }

  /** Registers `pairs` (type, code) that the database does not know yet, then loads the mapping. */
  async register(pairs: Array<[string, string]>): Promise<void> {
    await this.load();
    const missing = pairs.filter(([t, c]) => !this.ids.has(key(t, c)));
    if (missing.length) {
      await this.driver.transaction(async (conn) => {
        await conn.insertMany('search_param', ['type', 'code'], missing.flat(), 'ON CONFLICT (type, code) DO NOTHING');
      });
      await this.load();
    }
  }

  async load(conn: SqlConnection = this.driver.reader): Promise<void> {
    const rows = await conn.all<{ pid: number | string; type: string; code: string }>('SELECT pid, type, code FROM search_param');
    for (const r of rows) this.remember(key(r.type, r.code), Number(r.pid));
  }

  /** The id of (type, code), or undefined when it was never registered. */
  get(type: string, code: string): number | undefined {
    return this.ids.get(key(type, code));
  }

  /** Makes sure all of `pairs` are known, reloading once from the database on a miss. */
  async ensureKnown(conn: SqlConnection, pairs: Array<[string, string]>): Promise<void> {
    if (pairs.every(([t, c]) => this.ids.has(key(t, c)))) return;
    await this.load(conn);
  }

  /**
   * A lookup for every parameter in `rows`; new ones are created in the transaction and
   * kept in `pending`. The known ids of a type are one map (this runs for every resource
   * written, so no key strings are built for them).
   */
  async resolver(conn: SqlConnection, type: string, rows: IndexRows, pending: Map<string, number>): Promise<(code: string) => number> {
    const known = this.byType.get(type);
    let fresh: Map<string, number> | undefined;
    for (const list of [rows.token, rows.string, rows.date, rows.number, rows.quantity, rows.reference, rows.uri, rows.composite]) {
      for (const row of list) {
        const code = row[0];
        if (known?.has(code) || fresh?.has(code)) continue;
        const k = key(type, code);
        let pid = pending.get(k);
        if (pid === undefined) {
          await conn.run('INSERT INTO search_param (type, code) VALUES (?, ?) ON CONFLICT (type, code) DO NOTHING', [type, code]);
          const created = await conn.get<{ pid: number | string }>('SELECT pid FROM search_param WHERE type = ? AND code = ?', [type, code]);
          pid = Number(created!.pid);
          pending.set(k, pid);
        }
        (fresh ??= new Map()).set(code, pid);
      }
    }
    if (!fresh) return (code) => known!.get(code)!;
    return (code) => known?.get(code) ?? fresh!.get(code)!;
  }

  /** Called after a commit: the transaction's new ids are now real. */
  adopt(pending: Map<string, number>): void {
    for (const [k, v] of pending) this.remember(k, v);
  }

  private remember(k: string, pid: number): void {
    this.ids.set(k, pid);
    const [type, code] = k.split('\u0000') as [string, string];
    let m = this.byType.get(type);
    if (!m) this.byType.set(type, (m = new Map()));
    m.set(code, pid);
  }
}

function key(type: string, code: string): string {
  return `${type}\u0000${code}`;
}
