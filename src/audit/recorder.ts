import { appendFile } from 'node:fs/promises';
import type { Caller, Logger } from '../interactions/types.js';
import type { Recorder, RequestRecord } from '../pipeline/dispatch.js';
import type { Target } from '../pipeline/route.js';
import type { Trail } from '../pipeline/trail.js';
import type { AuditAppend, AuditStore, StoredVersion, WriteResult } from '../store/store.js';
import { eventOfRecord } from '../fhir/audit-event.js';
import { buildRecords, type EventFacts, plainFacts } from './event.js';
import type { AuditThread } from './thread.js';

type Touched = EventFacts['touched'][number];

/** Events waiting for the next group commit, and what to tell their requests. */
interface Waiting {
  facts: EventFacts;
  done: (err?: unknown) => void;
}

export interface AuditWriterOptions {
  store: AuditStore;
  /**
   * The audit thread (docs/audit.md, "Where the work is done"): it copies the events for
   * search once the server is quiet, and commits the events of reads when `handOff` says so.
   * A private in-memory store has none.
   */
  thread?: AuditThread;
  /**
   * Whether the events of reads are handed to the audit thread to commit (PostgreSQL: each
   * batch is round trips, which would otherwise cost this thread) rather than committed on
   * this thread (SQLite: a batch costs microseconds, and handing it over cost more).
   */
  handOff?: boolean;
  /** This node's chain (docs/audit.md: one chain per node). */
  chain: string;
  /** Also append every event, as one JSON line, to this file (for a log shipper). */
  file?: string;
  log: Logger;
}

/**
 * Writes audit events: those of requests that only read in group commits (the events of
 * the requests in flight together, one transaction, each request answered once its event
 * is committed), those of requests that write in their own transaction (Trail.inTransaction).
 */
export class AuditWriter {
  private queue: Waiting[] = [];
  private flushing?: Promise<void>;
  /** Batches handed to the audit thread and not yet answered. */
  private readonly sent = new Set<Promise<void>>();
  private logged: Promise<void> = Promise.resolve();
  private uncommitted = 0;

  constructor(private readonly options: AuditWriterOptions) {}

  get chain(): string {
    return this.options.chain;
  }

  /** Events handed to `write` and not yet committed: queued for the next group commit, or in the one under way (metrics). */
  get queued(): number {
    return this.uncommitted;
  }

  /** Commits the event of `facts`; resolves once it is committed. */
  write(facts: EventFacts): Promise<void> {
    this.uncommitted++;
    return new Promise((resolve, reject) => {
      this.queue.push({
        facts,
        done: (err) => {
          this.uncommitted--;
          if (err) reject(err);
          else resolve();
        },
      });
      // Shared by the requests in flight, on the store's own connections: no one client's disconnection cancels it.
      this.flushing ??= this.flush().finally(() => (this.flushing = undefined));
    });
  }

  /**
   * Waits for the events queued to be committed and shipped. What is not yet copied for
   * search stays in the chain: the next read of AuditEvents, on any node, copies it.
   */
  async close(): Promise<void> {
    while (this.flushing || this.sent.size) await Promise.all([this.flushing, ...this.sent]);
    // The journal's events are moved by the thread: before it stops.
    await this.options.store.close();
    await this.options.thread?.stop();
    await this.logged;
  }

  /** The append that builds `facts`' events inside a transaction of their own or of a write. */
  append(facts: () => Array<EventFacts>): AuditAppend {
    return {
      chain: this.options.chain,
      build: async (lookup) => {
        const events = await buildRecords(facts(), lookup);
        // Logged once committed: the transaction's commit follows straight after.
        if (this.options.file) queueMicrotask(() => this.ship(events.map((e) => JSON.stringify(eventOfRecord(e.json)))));
        // For the audit thread's copy for search, which waits until no event comes.
        if (events.length) this.options.thread?.noteCommitted(events.length);
        return events;
      },
    };
  }

  private async flush(): Promise<void> {
    // Let the requests answered in this turn of the event loop join the first commit.
    await new Promise((r) => setImmediate(r));
    if (this.options.thread && this.options.handOff) {
      // The audit thread commits the batches it is handed in order, gathering those that arrive
      // while it commits: each turn's batch goes now, without waiting for the one before.
      const batch = this.queue;
      this.queue = [];
      const sent = this.appendHere(batch.map((w) => w.facts)).then(
        (json) => {
          for (const w of batch) w.done();
          this.ship(json);
        },
        (err: unknown) => {
          this.options.log.error({ err }, 'audit events could not be committed');
          for (const w of batch) w.done(err);
        },
      );
      this.sent.add(sent);
      void sent.finally(() => this.sent.delete(sent));
      return;
    }
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        const facts = batch.map((w) => w.facts);
        const json = await this.appendHere(facts);
        for (const w of batch) w.done();
        // For the thread's copy for search, which waits until no event comes (and starts the thread).
        this.options.thread?.noteCommitted(batch.length);
        this.ship(json);
      } catch (err) {
        this.options.log.error({ err }, 'audit events could not be committed');
        for (const w of batch) w.done(err);
      }
    }
  }

  /** Appends in a transaction of the audit thread's, or of this thread's; the events' JSON when they are to be shipped. */
  private async appendHere(facts: Array<EventFacts>): Promise<string[]> {
    if (this.options.thread && this.options.handOff) return this.options.thread.commit(facts, Boolean(this.options.file));
    let json: string[] = [];
    await this.options.store.append({
      chain: this.options.chain,
      build: async (lookup) => {
        const events = await buildRecords(facts, lookup);
        if (this.options.file) json = events.map((e) => JSON.stringify(eventOfRecord(e.json)));
        return events;
      },
    });
    return json;
  }

  /** Appends committed events to the audit log file, in order. */
  private ship(json: string[]): void {
    const file = this.options.file;
    if (!file || !json.length) return;
    const lines = json.map((j) => `${j}\n`).join('');
    this.logged = this.logged.then(() => appendFile(file, lines)).catch((err: unknown) => this.options.log.error({ err, file }, 'the audit log file could not be written'));
  }
}

/** What a base's recorder says of where the events come from. */
export interface RecorderOptions {
  writer: AuditWriter;
  /** This node's name and the base's public URL. */
  source: { site: string; base: string };
}

/**
 * The record step of a base's pipeline (docs/audit.md): one AuditEvent for every request,
 * refused ones too. A request's trail notes what it reads and writes; a store transaction
 * that writes appends the event then and there, so the write and its event commit together;
 * every other request's event is committed (in a group commit) before its answer leaves.
 */
export function auditRecorder(options: RecorderOptions): Recorder {
  const { writer, source } = options;
  return {
    begin: (requestId, incoming, started) => new RequestTrail(writer, source, requestId, incoming, started),
    async record(record: RequestRecord, trail?: Trail) {
      const t = trail as RequestTrail | undefined;
      // A write's event was committed with it; a failure after it, or what was read after it, is recorded now.
      if (t?.committed && !t.pending.length && record.response.status < 400) return;
      await writer.write({
        requestId: record.requestId,
        recorded: record.started,
        source,
        incoming: plainIncoming(record.incoming),
        ...plainFacts(record.caller, record.target, record.response),
        touched: t?.take() ?? [],
      });
    },
  };
}

class RequestTrail implements Trail {
  private caller?: Caller;
  private target?: Target;
  private current?: Target;
  readonly pending: Touched[] = [];
  private readonly seen = new Set<string>();
  private writes = 0;
  /** Whether an event of this request was committed with a write. */
  committed = false;

  constructor(
    private readonly writer: AuditWriter,
    private readonly source: RecorderOptions['source'],
    private readonly requestId: string,
    private readonly incoming: EventFacts['incoming'],
    private readonly started: number,
  ) {}

  identified(caller: Caller): void {
    this.caller = caller;
  }

  routed(target: Target): void {
    this.target = target;
  }

  entry(target: Target | undefined): void {
    this.current = target;
  }

  read(versions: readonly StoredVersion[]): void {
    for (const v of versions) {
      const reference = `${v.type}/${v.id}/_history/${v.version}`;
      // A version read twice (a search's _include of what it matched, a re-read after a write) is named once.
      if (this.seen.has(reference)) continue;
      this.seen.add(reference);
      this.pending.push({ key: `${v.type}/${v.id}`, reference, written: false });
    }
  }

  wrote(results: readonly WriteResult[]): void {
    for (const r of results) {
      if (r.kind === 'noop') continue;
      const v = r.version;
      const reference = `${v.type}/${v.id}/_history/${v.version}`;
      // A transaction run again after a lost race writes the same versions again: named once.
      if (this.seen.has(reference)) continue;
      this.seen.add(reference);
      this.pending.push({ key: `${v.type}/${v.id}`, reference, written: true, ...(r.kind === 'deleted' ? { deleted: true } : {}) });
      this.writes++;
    }
  }

  /** The pending entries, handed over once. */
  take(): Touched[] {
    return this.pending.splice(0);
  }

  inTransaction(): AuditAppend {
    const writesBefore = this.writes;
    return this.writer.append(() => {
      // A transaction that wrote nothing leaves the event to the record step.
      if (this.writes === writesBefore) return [];
      this.committed = true;
      const target = this.current ?? this.target;
      return [
        {
          requestId: this.requestId,
          recorded: this.started,
          source: this.source,
          incoming: plainIncoming(this.incoming),
          ...plainFacts(this.caller, target, undefined),
          touched: this.take(),
        },
      ];
    });
  }
}

/** What an event keeps of a request: method, path, query and address (never the body or the credentials). */
function plainIncoming(i: EventFacts['incoming']): EventFacts['incoming'] {
  return { method: i.method, path: i.path, query: i.query, ...(i.address ? { address: i.address } : {}) };
}

/** Where the server's own events (not FHIR requests) are coded: the authorization server's and the operator's. */
export const CCRI_EVENT = 'urn:ccri:audit-event';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

/** Something that happened that was not a FHIR request: a sign-in, a token, a registration, an operator's command. */
export interface OtherEvent {
  /** The DICOM event type: 110114 User Authentication, 110100 Application Activity. */
  type: 'authentication' | 'application';
  /** What happened (coded in urn:ccri:audit-event). */
  code: string;
  display: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  success: boolean;
  description?: string;
  user?: string;
  client?: string;
  address?: string;
  requestId: string;
  /** Method and path, for the event's record of what was asked. */
  method?: string;
  path?: string[];
}

const EVENT_TYPES = {
  authentication: { system: DCM, code: '110114', display: 'User Authentication' },
  application: { system: DCM, code: '110100', display: 'Application Activity' },
} as const;

/** The facts of an event that is not a FHIR request. */
export function otherEventFacts(e: OtherEvent, recorded: number, source: RecorderOptions['source']): EventFacts {
  return {
    requestId: e.requestId,
    recorded,
    source,
    incoming: { method: e.method ?? 'POST', path: e.path ?? [], query: [], ...(e.address ? { address: e.address } : {}) },
    touched: [],
    kind: {
      type: EVENT_TYPES[e.type],
      subtype: { system: CCRI_EVENT, code: e.code, display: e.display },
      action: e.action,
      outcome: e.success ? '0' : '4',
      ...(e.description ? { description: e.description } : {}),
      ...(e.user ? { user: e.user } : {}),
      ...(e.client ? { client: e.client } : {}),
    },
  };
}

/** An operator's command (`ccri audit prune`, `ccri audit export`) as an event to append to `chain`. */
export function operatorEvent(chain: string, e: OtherEvent, recorded: number, source: RecorderOptions['source']): AuditAppend {
  return { chain, build: (lookup) => buildRecords([otherEventFacts(e, recorded, source)], lookup) };
}
