import { createHash } from 'node:crypto';
import type { AuditAppend, AuditHead, AuditProblem, AuditStore, PatientLookup, PatientRef } from '../store.js';
import type { SqlConnection, SqlDriver } from './driver.js';

/** The hash before a chain's first event. */
export const GENESIS = '0'.repeat(64);

/** `hash(n) = SHA-256(hash(n-1) + "\n" + json(n))`, in hex (docs/audit.md). */
export function chainHash(prev: string, json: string): string {
  return createHash('sha256').update(prev).update('\n').update(json).digest('hex');
}

/** Writes a batch of events as resources, through the store's ordinary write path; returns each one's stored JSON. */
export type WriteEvents = (conn: SqlConnection, events: Array<Record<string, unknown> & { id: string }>) => Promise<string[]>;

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';

/**
 * The audit trail in the SQL store (migration 3): the events are AuditEvent resources,
 * `audit_chain` links each to the hash of its stored JSON chained to the one before it,
 * and `audit_head` holds each chain's end. Appending locks the chain's head row for the
 * rest of its transaction (PostgreSQL), so concurrent appenders take turns and the chain
 * never forks; SQLite's single writer does the same by itself.
 */
export class SqlAuditStore implements AuditStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly writeEvents: WriteEvents,
  ) {}

  append(audit: AuditAppend): Promise<void> {
    return this.driver.transaction((conn) => appendIn(conn, this.driver, audit, this.writeEvents));
  }

  async heads(): Promise<AuditHead[]> {
    const rows = await this.driver.reader.all<{ chain: string; n: number | string; hash: string; start: number | string }>('SELECT chain, n, hash, start FROM audit_head ORDER BY chain');
    return rows.map((r) => ({ chain: r.chain, n: Number(r.n), hash: r.hash, start: Number(r.start) }));
  }

  async verify(): Promise<AuditProblem[]> {
    const problems: AuditProblem[] = [];
    for (const head of await this.driver.reader.all<{ chain: string; n: number | string; hash: string; start: number | string; start_prev: string }>('SELECT chain, n, hash, start, start_prev FROM audit_head ORDER BY chain')) {
      const problem = await this.verifyChain(head.chain, Number(head.start), head.start_prev, Number(head.n), head.hash);
      if (problem) problems.push(problem);
    }
    // Chain rows whose chain has no head (the head row deleted) cannot be verified either.
    const orphans = await this.driver.reader.all<{ chain: string }>('SELECT DISTINCT c.chain FROM audit_chain c LEFT JOIN audit_head h ON h.chain = c.chain WHERE h.chain IS NULL');
    for (const o of orphans) problems.push({ chain: o.chain, n: 0, problem: 'the chain has events but no head: its head was removed' });
    return problems;
  }

  private async verifyChain(chain: string, start: number, startPrev: string, last: number, lastHash: string): Promise<AuditProblem | undefined> {
    let prev = startPrev;
    let expected = start;
    const page = 1000;
    for (;;) {
      const rows = await this.driver.reader.all<{ n: number | string; event: string; hash: string; json: string | null }>(
        "SELECT c.n, c.event, c.hash, v.json FROM audit_chain c LEFT JOIN resource r ON r.type = 'AuditEvent' AND r.id = c.event " +
          'LEFT JOIN resource_version v ON v.rid = r.rid AND v.version = 1 WHERE c.chain = ? AND c.n >= ? ORDER BY c.n LIMIT ?',
        [chain, expected, page],
      );
      for (const row of rows) {
        const n = Number(row.n);
        if (n !== expected) return { chain, n: expected, problem: `event ${expected} is missing (the next is ${n}): removed` };
        if (row.json === null) return { chain, n, problem: `event ${n} (AuditEvent/${row.event}) is missing from the store: removed` };
        const hash = chainHash(prev, row.json);
        if (hash !== row.hash) return { chain, n, problem: `event ${n} (AuditEvent/${row.event}) does not match its hash: edited, inserted or moved` };
        prev = hash;
        expected = n + 1;
      }
      if (rows.length < page) break;
    }
    if (expected - 1 !== last) return { chain, n: expected, problem: `the chain ends at ${expected - 1}, but its head says ${last}: events at the end were removed` };
    if (prev !== lastHash && last >= start) return { chain, n: last, problem: "the chain's last hash is not its head's" };
    return undefined;
  }

  async holds(chain: string, n: number, hash: string): Promise<boolean> {
    return Boolean(await this.driver.reader.get('SELECT 1 AS x FROM audit_chain WHERE chain = ? AND n = ? AND hash = ?', [chain, n, hash]));
  }

  async *events(since = 0, until = Number.MAX_SAFE_INTEGER): AsyncGenerator<string> {
    let after = 0;
    for (;;) {
      const rows = await this.driver.reader.all<{ rid: number | string; json: string }>(
        "SELECT r.rid, v.json FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version = r.version WHERE r.type = 'AuditEvent' AND r.deleted = 0 AND r.last_updated >= ? AND r.last_updated < ? AND r.rid > ? ORDER BY r.rid LIMIT 1000",
        [since, until, after],
      );
      for (const r of rows) yield r.json;
      if (rows.length < 1000) return;
      after = Number(rows[rows.length - 1]!.rid);
    }
  }

  async prune(before: number, record: AuditAppend): Promise<number> {
    return this.driver.transaction(async (conn) => {
      let removed = 0;
      for (const head of await conn.all<{ chain: string; start: number | string }>(`SELECT chain, start FROM audit_head ORDER BY chain${this.driver.dialect.forUpdate}`)) {
        // The prefix of the chain recorded before `before`: the events' last_updated is when they were recorded.
        const rows = await conn.all<{ n: number | string; event: string; hash: string }>(
          "SELECT c.n, c.event, c.hash FROM audit_chain c JOIN resource r ON r.type = 'AuditEvent' AND r.id = c.event WHERE c.chain = ? AND r.last_updated < ? ORDER BY c.n",
          [head.chain, before],
        );
        let cut = Number(head.start);
        for (const row of rows) {
          if (Number(row.n) !== cut) break;
          cut++;
        }
        const gone = rows.slice(0, cut - Number(head.start));
        if (!gone.length) continue;
        const lastGone = gone[gone.length - 1]!;
        await this.deleteEvents(conn, gone.map((r) => r.event));
        await conn.run('DELETE FROM audit_chain WHERE chain = ? AND n < ?', [head.chain, cut]);
        await conn.run('UPDATE audit_head SET start = ?, start_prev = ? WHERE chain = ?', [cut, lastGone.hash, head.chain]);
        removed += gone.length;
      }
      await appendIn(conn, this.driver, record, this.writeEvents);
      return removed;
    });
  }

  /** Removes AuditEvent resources outright (a prune is the only way an event goes). */
  private async deleteEvents(conn: SqlConnection, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const marks = part.map(() => '?').join(', ');
      const rids = (await conn.all<{ rid: number | string }>(`SELECT rid FROM resource WHERE type = 'AuditEvent' AND id IN (${marks})`, part)).map((r) => Number(r.rid));
      if (!rids.length) continue;
      const rm = rids.map(() => '?').join(', ');
      for (const table of ['idx_token', 'idx_string', 'idx_date', 'idx_number', 'idx_quantity', 'idx_reference', 'idx_uri', 'idx_composite', 'compartment', 'resource_version', 'resource']) {
        await conn.run(`DELETE FROM ${table} WHERE rid IN (${rm})`, rids);
      }
      for (const table of this.driver.dialect.textTables) await conn.run(`DELETE FROM ${table} WHERE ${this.driver.dialect.textKey} IN (${rm})`, rids);
      await conn.run("UPDATE type_count SET n = n - ? WHERE type = 'AuditEvent'", [rids.length]);
    }
  }
}

/** Appends to a chain inside the transaction on `conn`: builds the events, writes them, links each to the chain. */
export async function appendIn(conn: SqlConnection, driver: SqlDriver, audit: AuditAppend, writeEvents: WriteEvents): Promise<void> {
  const events = await audit.build(patientLookup(conn));
  if (!events.length) return;
  await conn.run('INSERT INTO audit_head (chain, n, hash, start, start_prev) VALUES (?, 0, ?, 1, ?) ON CONFLICT (chain) DO NOTHING', [audit.chain, GENESIS, GENESIS]);
  const head = (await conn.get<{ n: number | string; hash: string }>(`SELECT n, hash FROM audit_head WHERE chain = ?${driver.dialect.forUpdate}`, [audit.chain]))!;
  const jsons = await writeEvents(conn, events);
  let n = Number(head.n);
  let hash = head.hash;
  const rows: Array<string | number> = [];
  jsons.forEach((json, i) => {
    n += 1;
    hash = chainHash(hash, json);
    rows.push(audit.chain, n, events[i]!.id, hash);
  });
  await conn.insertMany('audit_chain', ['chain', 'n', 'event', 'hash'], rows);
  await conn.run('UPDATE audit_head SET n = ?, hash = ? WHERE chain = ?', [n, hash, audit.chain]);
}

/**
 * Whose resources these are: the patients whose compartment holds them (a Patient is its
 * own), with the NHS number of each patient that has one, in two indexed queries.
 */
function patientLookup(conn: SqlConnection): PatientLookup {
  return async (keys) => {
    const out = new Map<string, PatientRef[]>();
    if (!keys.length) return out;
    const pairs = keys.map((k) => k.split('/') as [string, string]);
    const patientsOf = new Map<string, Set<string>>();
    for (let i = 0; i < pairs.length; i += 400) {
      const part = pairs.slice(i, i + 400);
      const rows = await conn.all<{ type: string; id: string; patient: string }>(
        `SELECT r.type, r.id, c.patient FROM resource r JOIN compartment c ON c.rid = r.rid WHERE ${part.map(() => '(r.type = ? AND r.id = ?)').join(' OR ')}`,
        part.flat(),
      );
      for (const r of rows) (patientsOf.get(`${r.type}/${r.id}`) ?? patientsOf.set(`${r.type}/${r.id}`, new Set()).get(`${r.type}/${r.id}`)!).add(r.patient);
    }
    for (const [type, id] of pairs) if (type === 'Patient') (patientsOf.get(`Patient/${id}`) ?? patientsOf.set(`Patient/${id}`, new Set()).get(`Patient/${id}`)!).add(id);
    const ids = [...new Set([...patientsOf.values()].flatMap((s) => [...s]))];
    const nhs = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 400) {
      const part = ids.slice(i, i + 400);
      const rows = await conn.all<{ id: string; code: string }>(
        `SELECT r.id, t.code FROM resource r JOIN idx_token t ON t.rid = r.rid JOIN search_param p ON p.pid = t.pid WHERE r.type = 'Patient' AND r.id IN (${part.map(() => '?').join(', ')}) ` +
          "AND p.type = 'Patient' AND p.code = 'token Patient.identifier' AND t.system = ?",
        [...part, NHS_NUMBER],
      );
      for (const r of rows) if (r.code) nhs.set(r.id, r.code);
    }
    for (const [key, set] of patientsOf) out.set(key, [...set].map((id) => (nhs.has(id) ? { id, nhsNumber: nhs.get(id)! } : { id })));
    return out;
  };
}
