import { hash } from 'node:crypto';
import { eventOfRecord, type EventRecord } from '../../fhir/audit-event.js';
import type { AuditAppend, AuditHead, AuditProblem, AuditStore, JournalMover, JournalSlice, PatientLookup, PatientRef } from '../store.js';
import { EVERYTHING } from '../../search/access.js';
import type { Indexer } from '../../search/index-rows.js';
import { type AuditJournal, fixed, type SqlConnection, type SqlDriver } from './driver.js';
import type { ParamIds } from './param-ids.js';
import { ADD_COUNT, addCounts, writeBatch } from './write-batch.js';

/** The hash before a chain's first event. */
export const GENESIS = '0'.repeat(64);

/** `hash(n) = SHA-256(hash(n-1) + "\n" + record(n))`, in hex (docs/audit.md). */
export function chainHash(prev: string, json: string): string {
  // One call (crypto.hash): about half the time of createHash's three updates and digest for a record's size.
  return hash('sha256', `${prev}\n${json}`, 'hex');
}

/** Writes a batch of events as new resources (their searchable copies); returns each one's stored JSON. */
export type WriteEvents = (conn: SqlConnection, events: Array<Record<string, unknown> & { id: string }>) => Promise<string[]>;

/**
 * The writer of searchable copies, on any connection to the store: the server's, or the audit
 * thread's (which copies in the background). Whatever the access of the caller (the audit is
 * the server's); every AuditEvent index key was registered when the store opened, so no
 * parameter id is made here.
 */
export function eventWriter(driver: SqlDriver, indexer: Indexer, pids: ParamIds, clock: () => number = Date.now): WriteEvents {
  return async (conn, events) => {
    const batch = { now: clock(), access: EVERYTHING, dialect: driver.dialect, indexer, pids, pending: new Map<string, number>(), counts: new Map<string, number>() };
    // Distinct new ids, and no more than INDEX_BATCH of them: one batch.
    const results = await writeBatch(conn, events.map((e) => ({ type: 'AuditEvent', id: e.id, resource: e, mustNotExist: true })), batch);
    await addCounts(conn, batch.counts);
    return results.map((r) => r.version.json!);
  };
}

const NHS_NUMBER = 'https://fhir.nhs.uk/Id/nhs-number';
/** Events copied into the resource tables per transaction (about 80 ms of the server's thread on SQLite). */
export const INDEX_BATCH = 500;

/**
 * The audit trail in the SQL store (migration 3). `audit_chain` is the record: each
 * event's JSON, appended with the hash of that JSON chained to the one before it, one
 * compact row per event (so that appending one costs a row, not a resource's dozens of
 * index rows). Appending locks the chain's head row (`audit_head`) for the rest of its
 * transaction on PostgreSQL, so concurrent appenders take turns and the chain never forks;
 * SQLite's single writer does the same by itself.
 *
 * The events are searched as AuditEvent resources: `index()` copies them into the resource
 * tables in batches, behind the appends (`audit_indexed` says how far), and every read of
 * AuditEvents catches up first, so a search on this database sees every event committed
 * before it began.
 */
export class SqlAuditStore implements AuditStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly writeEvents: WriteEvents,
  ) {}

  /** This process's journal (SQLite's file stores, once `journal` is called), where its events not yet moved are, and the move under way. */
  private own?: AuditJournal;
  private ownChain?: string;
  /** Who moves the journaled events into the chain: the audit thread, or (unset) this store on its own connection. */
  private mover?: JournalMover;
  private pending: JournalSlice[] = [];
  private pendingEvents = 0;
  private moveTimer?: NodeJS.Timeout;
  private moving?: Promise<void>;
  /** Journals left by processes that ended before moving them: moved before the first read of the chains (recover). */
  private recovered?: Promise<void>;

  async append(audit: AuditAppend): Promise<void> {
    const journal = this.own;
    if (!journal || audit.chain !== this.ownChain) {
      // A batch of events is a group commit already (its requests wait for it): committed at once, not held for a group of writes.
      return this.driver.transaction((conn) => appendIn(conn, this.driver, audit), { unchanged: true, alone: true });
    }
    const events = await audit.build(cachedLookup(this.driver, patientLookup(this.driver.reader)));
    if (!events.length) return;
    const slice = journal.write(events);
    // Written just after the last slice: one slice, so that a move reads one range of each segment.
    const last = this.pending[this.pending.length - 1];
    if (last && last.path === slice.path && last.end === slice.start) last.end = slice.end;
    else this.pending.push(slice);
    this.pendingEvents += events.length;
    if (this.pendingEvents >= JOURNAL_MOVE_EVENTS) void this.move();
    else this.moveTimer ??= setTimeout(() => void this.move(), JOURNAL_MOVE_MS).unref();
  }

  async journal(chain: string, mover?: JournalMover): Promise<boolean> {
    const journals = this.driver.journals;
    if (!journals || this.own) return Boolean(this.own);
    await this.recover();
    const journal = journals.open(chain);
    if (!journal) return false;
    try {
      await this.moveLeftover(journal, chain);
    } catch (err) {
      journal.close(false);
      throw err;
    }
    this.own = journal;
    this.ownChain = chain;
    this.mover = mover;
    return true;
  }

  async close(): Promise<void> {
    const journal = this.own;
    if (!journal) return;
    // What cannot be moved now stays in the journal, for the next process to move.
    let moved = false;
    try {
      await this.settle();
      moved = true;
    } finally {
      this.own = undefined;
      this.mover = undefined;
      clearTimeout(this.moveTimer);
      journal.close(moved);
    }
  }

  /** Moves every event journaled so far into the chain (a move under way, then the rest). */
  private async settle(): Promise<void> {
    while (this.moving) await this.moving.catch(() => undefined);
    // A move that failed is tried once more before the caller hears of it: one whose audit thread died goes to a new thread.
    let failures = 0;
    while (this.pending.length) {
      try {
        await this.move(true);
        failures = 0;
      } catch (err) {
        if (++failures >= 2) throw err;
      }
    }
  }

  /**
   * Moves the events journaled so far into the chain, in one transaction that also notes the
   * last one moved; then removes the journal's segments that held them. One move at a time;
   * a move that fails leaves them to the next (and, should the process end first, to the
   * next process: recover).
   */
  private move(failLoudly = false): Promise<void> {
    clearTimeout(this.moveTimer);
    this.moveTimer = undefined;
    const journal = this.own;
    if (this.moving || !journal || !this.pending.length) return this.moving ?? Promise.resolve();
    const chain = this.ownChain!;
    // Shared by every request whose event it moves, on the store's own connections: no one client's disconnection cancels it.
    this.moving = (async () => {
      const batch = this.pending;
      const events = this.pendingEvents;
      this.pending = [];
      this.pendingEvents = 0;
      // Every event of the segments closed by now is in this batch or moved before it.
      const segments = journal.closedSegments();
      try {
        await (this.mover ?? ((c, slices) => this.moveSlices(c, slices)))(chain, batch);
      } catch (err) {
        this.pending = [...batch, ...this.pending];
        this.pendingEvents += events;
        if (failLoudly) throw err;
        this.moveTimer ??= setTimeout(() => void this.move(), JOURNAL_MOVE_MS).unref();
        return;
      }
      try {
        journal.remove(segments);
      } catch {
        // Removed by the next move, or moved again by no one: the note of the last event moved skips them.
      }
    })().finally(() => {
      this.moving = undefined;
      if (this.pendingEvents >= JOURNAL_MOVE_EVENTS) void this.move();
      else if (this.pending.length) this.moveTimer ??= setTimeout(() => void this.move(), JOURNAL_MOVE_MS).unref();
    });
    return this.moving;
  }

  /**
   * Appends events already built (journaled) to `chain`, noting the last one moved in the
   * same transaction (a JournalMover). Events up to the one noted were moved already and are
   * skipped: what an earlier process left in its journal may begin with events a move of its
   * committed before it died, and a move whose commit was not answered (the audit thread
   * ended) is tried again.
   */
  async appendJournaled(chain: string, events: readonly EventRecord[]): Promise<void> {
    if (!events.length) return;
    await this.driver.transaction(
      async (conn) => {
        const moved = await conn.get<{ value: string }>('SELECT value FROM store_meta WHERE key = ?', [movedKey(chain)]);
        const at = moved ? events.findIndex((e) => e.id === moved.value) : -1;
        const rest = events.slice(at + 1);
        if (!rest.length) return;
        await appendEvents(conn, this.driver, chain, rest);
        await conn.run(MOVED_SQL, [movedKey(chain), rest[rest.length - 1]!.id]);
      },
      { unchanged: true, alone: true },
    );
  }

  /** Moves the events in `slices` of this database's journal of `chain` (a JournalMover: the audit thread's, or this store's own). */
  async moveSlices(chain: string, slices: readonly JournalSlice[]): Promise<void> {
    const journals = this.driver.journals;
    if (!journals) throw new Error('this store has no audit journals to move events from');
    await this.appendJournaled(chain, journals.read(slices));
  }

  /** Moves what an earlier holder of `journal` left in it, and removes its segments. */
  private async moveLeftover(journal: AuditJournal, chain: string): Promise<void> {
    const { records, segments } = journal.leftover();
    await this.appendJournaled(chain, records);
    journal.remove(segments);
  }

  /**
   * Moves, once, the journals of chains whose process ended before moving them (`kill -9`):
   * before a command reads the chains, and before a server journals its own.
   */
  private recover(): Promise<void> {
    this.recovered ??= (async () => {
      const journals = this.driver.journals;
      if (!journals) return;
      for (const chain of journals.chains()) {
        if (chain === this.ownChain) continue;
        // Held by a live process: that process moves them.
        const journal = journals.open(chain);
        if (!journal) continue;
        let moved = false;
        try {
          await this.moveLeftover(journal, chain);
          moved = true;
        } finally {
          journal.close(moved);
        }
      }
    })().catch((err: unknown) => {
      this.recovered = undefined;
      throw err;
    });
    return this.recovered;
  }

  /** Before reading the chains: this process's journal moved, or those that ended processes left. */
  private async current(): Promise<void> {
    if (this.own) await this.settle();
    else await this.recover();
    // Every event committed so far, whichever connection appended it (the audit thread's).
    this.driver.fresh?.();
  }


  async heads(): Promise<AuditHead[]> {
    await this.current();
    const rows = await this.driver.reader.all<{ chain: string; n: number | string; hash: string; start: number | string }>('SELECT chain, n, hash, start FROM audit_head ORDER BY chain');
    return rows.map((r) => ({ chain: r.chain, n: Number(r.n), hash: r.hash, start: Number(r.start) }));
  }

  private indexing?: Promise<number>;

  /**
   * Copies the events not yet searchable into the resource tables, all of them or about
   * `limit`; how many. Calls made meanwhile share the one under way, then run again.
   */
  async index(limit = Infinity): Promise<number> {
    // This process's journaled events are searchable once moved into the chain.
    if (this.own) await this.settle();
    while (this.indexing) await this.indexing;
    // Every event committed before this call, whichever connection appended it (the audit thread's).
    this.driver.fresh?.();
    const behind = await this.driver.reader.get<{ x: number }>('SELECT 1 AS x FROM audit_head h LEFT JOIN audit_indexed i ON i.chain = h.chain WHERE h.n > COALESCE(i.n, 0) LIMIT 1');
    if (!behind) return 0;
    // Shared by every reader that waits for it, on the store's own connections: no one client's disconnection cancels it.
    this.indexing = this.indexAll(limit).finally(() => (this.indexing = undefined));
    return this.indexing;
  }

  private async indexAll(limit: number): Promise<number> {
    let done = 0;
    for (const { chain } of await this.driver.reader.all<{ chain: string }>('SELECT chain FROM audit_head ORDER BY chain')) {
      while (done < limit) {
        // A transaction holds the write lock: no more than the slice asked for, and INDEX_BATCH at most.
        const size = Math.min(INDEX_BATCH, limit - done);
        const n = await this.driver.transaction(async (conn) => {
          await conn.run('INSERT INTO audit_indexed (chain, n) VALUES (?, 0) ON CONFLICT (chain) DO NOTHING', [chain]);
          const at = Number((await conn.get<{ n: number | string }>(`SELECT n FROM audit_indexed WHERE chain = ?${this.driver.dialect.forUpdate}`, [chain]))!.n);
          const rows = await conn.all<{ n: number | string; json: string }>('SELECT n, json FROM audit_chain WHERE chain = ? AND n > ? ORDER BY n LIMIT ?', [chain, at, size]);
          if (!rows.length) return 0;
          await this.writeEvents(conn, rows.map((r) => eventOfRecord(r.json)));
          await conn.run('UPDATE audit_indexed SET n = ? WHERE chain = ?', [Number(rows[rows.length - 1]!.n), chain]);
          return rows.length;
        }, { unbounded: true });
        done += n;
        if (n < size) break;
      }
    }
    return done;
  }

  /** One indexed look per chain behind: the count from the heads, the oldest from the first event not yet copied. */
  async lag(): Promise<{ events: number; oldest?: number }> {
    // Every event committed so far, whichever connection appended it (the audit thread's).
    this.driver.fresh?.();
    const row = await this.driver.reader.get<{ events: number | string | null; oldest: number | string | null }>(
      'SELECT SUM(h.n - COALESCE(i.n, 0)) AS events, MIN(c.recorded) AS oldest FROM audit_head h LEFT JOIN audit_indexed i ON i.chain = h.chain ' +
        'LEFT JOIN audit_chain c ON c.chain = h.chain AND c.n = COALESCE(i.n, 0) + 1 WHERE h.n > COALESCE(i.n, 0)',
    );
    const events = Number(row?.events ?? 0);
    return events > 0 && row?.oldest !== null && row?.oldest !== undefined ? { events, oldest: Number(row.oldest) } : { events };
  }

  async verify(): Promise<AuditProblem[]> {
    await this.current();
    const problems: AuditProblem[] = [];
    const heads = await this.driver.reader.all<{ chain: string; n: number | string; hash: string; start: number | string; start_prev: string; indexed: number | string | null }>(
      'SELECT h.chain, h.n, h.hash, h.start, h.start_prev, i.n AS indexed FROM audit_head h LEFT JOIN audit_indexed i ON i.chain = h.chain ORDER BY h.chain',
    );
    for (const head of heads) {
      const problem = await this.verifyChain(head.chain, Number(head.start), head.start_prev, Number(head.n), head.hash, Number(head.indexed ?? 0));
      if (problem) problems.push(problem);
    }
    // Chain rows whose chain has no head (the head row deleted) cannot be verified either.
    const orphans = await this.driver.reader.all<{ chain: string }>('SELECT DISTINCT c.chain FROM audit_chain c LEFT JOIN audit_head h ON h.chain = c.chain WHERE h.chain IS NULL');
    for (const o of orphans) problems.push({ chain: o.chain, n: 0, problem: 'the chain has events but no head: its head was removed' });
    return problems;
  }

  private async verifyChain(chain: string, start: number, startPrev: string, last: number, lastHash: string, indexed: number): Promise<AuditProblem | undefined> {
    let prev = startPrev;
    let expected = start;
    const page = 1000;
    for (;;) {
      const rows = await this.driver.reader.all<{ n: number | string; event: string; json: string; hash: string; copy: string | null }>(
        "SELECT c.n, c.event, c.json, c.hash, v.json AS copy FROM audit_chain c LEFT JOIN resource r ON r.type = 'AuditEvent' AND r.id = c.event " +
          'LEFT JOIN resource_version v ON v.rid = r.rid AND v.version = 1 WHERE c.chain = ? AND c.n >= ? ORDER BY c.n LIMIT ?',
        [chain, expected, page],
      );
      for (const row of rows) {
        const n = Number(row.n);
        if (n !== expected) return { chain, n: expected, problem: `event ${expected} is missing (the next is ${n}): removed` };
        const hash = chainHash(prev, row.json);
        if (hash !== row.hash) return { chain, n, problem: `event ${n} (AuditEvent/${row.event}) does not match its hash: edited, inserted or moved` };
        // The searchable copy must say what the record says.
        if (n <= indexed) {
          if (row.copy === null) return { chain, n, problem: `the searchable copy of event ${n} (AuditEvent/${row.event}) is missing: removed` };
          if (!sameEvent(row.copy, row.json)) return { chain, n, problem: `the searchable copy of event ${n} (AuditEvent/${row.event}) differs from the record: edited` };
        }
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
    await this.current();
    return Boolean(await this.driver.reader.get('SELECT 1 AS x FROM audit_chain WHERE chain = ? AND n = ? AND hash = ?', [chain, n, hash]));
  }

  /** The events (AuditEvent JSON, made from each record), oldest first. */
  async *events(since = 0, until = Number.MAX_SAFE_INTEGER): AsyncGenerator<string> {
    await this.current();
    for (const { chain } of await this.driver.reader.all<{ chain: string }>('SELECT chain FROM audit_head ORDER BY chain')) {
      let after = -1;
      for (;;) {
        const rows = await this.driver.reader.all<{ n: number | string; json: string }>('SELECT n, json FROM audit_chain WHERE chain = ? AND n > ? AND recorded >= ? AND recorded < ? ORDER BY n LIMIT 1000', [chain, after, since, until]);
        for (const r of rows) yield JSON.stringify(eventOfRecord(r.json));
        if (rows.length < 1000) break;
        after = Number(rows[rows.length - 1]!.n);
      }
    }
  }

  async prune(before: number, record: AuditAppend): Promise<number> {
    await this.current();
    // The searchable copies of what goes are found through the chain rows: copy everything first.
    await this.index();
    return this.driver.transaction(async (conn) => {
      let removed = 0;
      for (const head of await conn.all<{ chain: string; start: number | string }>(`SELECT chain, start FROM audit_head ORDER BY chain${this.driver.dialect.forUpdate}`)) {
        // The prefix of the chain recorded before `before`.
        const rows = await conn.all<{ n: number | string; event: string; hash: string }>('SELECT n, event, hash FROM audit_chain WHERE chain = ? AND n >= ? AND recorded < ? ORDER BY n', [head.chain, Number(head.start), before]);
        let cut = Number(head.start);
        for (const row of rows) {
          if (Number(row.n) !== cut) break;
          cut++;
        }
        const gone = rows.slice(0, cut - Number(head.start));
        if (!gone.length) continue;
        await this.deleteCopies(conn, gone.map((r) => r.event));
        await conn.run('DELETE FROM audit_chain WHERE chain = ? AND n < ?', [head.chain, cut]);
        await conn.run('UPDATE audit_head SET start = ?, start_prev = ? WHERE chain = ?', [cut, gone[gone.length - 1]!.hash, head.chain]);
        removed += gone.length;
      }
      await appendIn(conn, this.driver, record);
      return removed;
    }, { unbounded: true });
  }

  /** Removes the searchable copies of events outright (a prune is the only way an event goes). */
  private async deleteCopies(conn: SqlConnection, ids: string[]): Promise<void> {
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
      await conn.run(ADD_COUNT, ['AuditEvent', 0, -rids.length]);
    }
  }
}

/** Whether a searchable copy (with the meta the store adds) holds the event the record makes. */
function sameEvent(copy: string, record: string): boolean {
  const a = JSON.parse(copy) as Record<string, unknown>;
  const b = eventOfRecord(record) as Record<string, unknown>;
  delete a.meta;
  delete b.meta;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Links events to the end of a chain whose head is at `n` with `hash`: the rows of
 * `audit_chain` (chain, n, event, recorded, json, hash, flat) and the new head.
 */
export function linkEvents(chain: string, head: { n: number; hash: string }, events: readonly EventRecord[]): { rows: Array<string | number>; n: number; hash: string } {
  let { n, hash } = head;
  const rows: Array<string | number> = [];
  for (const e of events) {
    n += 1;
    hash = chainHash(hash, e.json);
    rows.push(chain, n, e.id, e.recorded, e.json, hash);
  }
  return { rows, n, hash };
}

/** A journal's events are moved into the chain this long after the first of them is written, or once this many wait. */
const JOURNAL_MOVE_MS = 20;
const JOURNAL_MOVE_EVENTS = 1000;
const MOVED_SQL = 'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';
const movedKey = (chain: string): string => `audit-journal-moved:${chain}`;

export const AUDIT_COLUMNS = ['chain', 'n', 'event', 'recorded', 'json', 'hash'];
const UPDATE_HEAD_SQL = fixed('UPDATE audit_head SET n = ?, hash = ? WHERE chain = ?');

/** The lookups of up to this many keys are kept prepared (fixed): a few shapes, which every read's event uses; longer lists are planned each time. */
const FIXED_KEYS = 16;
const upTo = (sql: string, n: number): string => (n <= FIXED_KEYS ? fixed(sql) : sql);
export const NEW_HEAD_SQL = 'INSERT INTO audit_head (chain, n, hash, start, start_prev) VALUES (?, 0, ?, 1, ?) ON CONFLICT (chain) DO NOTHING';

/** Appends to a chain inside the transaction on `conn`: builds the events and links each to the chain, one row each. */
export async function appendIn(conn: SqlConnection, driver: SqlDriver, audit: AuditAppend): Promise<void> {
  const events = await audit.build(cachedLookup(driver, patientLookup(conn)));
  if (!events.length) return;
  await appendEvents(conn, driver, audit.chain, events);
}

async function appendEvents(conn: SqlConnection, driver: SqlDriver, chain: string, events: readonly EventRecord[]): Promise<void> {
  const headSql = fixed(`SELECT n, hash FROM audit_head WHERE chain = ?${driver.dialect.forUpdate}`);
  let head = await conn.get<{ n: number | string; hash: string }>(headSql, [chain]);
  // A chain's first event makes its head.
  if (!head) {
    await conn.run(NEW_HEAD_SQL, [chain, GENESIS, GENESIS]);
    head = (await conn.get<{ n: number | string; hash: string }>(headSql, [chain]))!;
  }
  const linked = linkEvents(chain, { n: Number(head.n), hash: head.hash }, events);
  await conn.insertMany('audit_chain', AUDIT_COLUMNS, linked.rows);
  // Sent with the insert of the rows (PostgreSQL): the head stays locked one round trip less.
  await conn.runLater(UPDATE_HEAD_SQL, [linked.n, linked.hash, chain]);
}

/** Whose resources these were, per driver, while nothing has changed in the database (SQLite's change counter; PostgreSQL asks each time). */
const whose = new WeakMap<SqlDriver, { stamp: number; known: Map<string, PatientRef[]> }>();
const WHOSE_SIZE = 10_000;

/**
 * The lookup, through a cache of its answers that is dropped whenever any resource
 * changes (as the store's read cache is): the events of reads of the same resources then
 * cost no query.
 */
function cachedLookup(driver: SqlDriver, lookup: PatientLookup): PatientLookup {
  const stamp = driver.changeCounter?.();
  if (stamp === undefined) return lookup;
  let cache = whose.get(driver);
  if (!cache || cache.stamp !== stamp) whose.set(driver, (cache = { stamp, known: new Map() }));
  const known = cache.known;
  return async (keys) => {
    const missing = keys.filter((k) => !known.has(k));
    if (missing.length) {
      const found = await lookup(missing);
      if (known.size + missing.length > WHOSE_SIZE) known.clear();
      for (const k of missing) known.set(k, found.get(k) ?? []);
    }
    return new Map(keys.map((k) => [k, known.get(k)!]));
  };
}

/**
 * Whose resources these are: the patients whose compartment holds them (a Patient is its
 * own), with the NHS number of each patient that has one, in two indexed queries.
 */
/**
 * The NHS numbers of `n` Patients (their ids, then the NHS number system). `+t.pid`: each
 * patient's own index rows, found by rid. Left to choose on a store without statistics yet (a
 * new one, grown by requests), SQLite read the rows of every Patient's identifier for each lookup.
 */
export function nhsNumbersSql(n: number): string {
  return (
    `SELECT r.id, t.code FROM resource r JOIN idx_token t ON t.rid = r.rid JOIN search_param p ON p.pid = +t.pid WHERE r.type = 'Patient' AND r.id IN (${Array(n).fill('?').join(', ')}) ` +
    "AND p.type = 'Patient' AND p.code = 'token Patient.identifier' AND t.system = ?"
  );
}

function patientLookup(conn: SqlConnection): PatientLookup {
  return async (keys) => {
    const out = new Map<string, PatientRef[]>();
    if (!keys.length) return out;
    const pairs = keys.map((k) => k.split('/') as [string, string]);
    const patientsOf = new Map<string, Set<string>>();
    for (let i = 0; i < pairs.length; i += 400) {
      const part = pairs.slice(i, i + 400);
      const rows = await conn.all<{ type: string; id: string; patient: string }>(
        upTo(`SELECT r.type, r.id, c.patient FROM resource r JOIN compartment c ON c.rid = r.rid WHERE ${part.map(() => '(r.type = ? AND r.id = ?)').join(' OR ')}`, part.length),
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
        upTo(nhsNumbersSql(part.length), part.length),
        [...part, NHS_NUMBER],
      );
      for (const r of rows) if (r.code) nhs.set(r.id, r.code);
    }
    for (const [key, set] of patientsOf) out.set(key, [...set].map((id) => (nhs.has(id) ? { id, nhsNumber: nhs.get(id)! } : { id })));
    return out;
  };
}
