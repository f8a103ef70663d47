import fs, { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRecord } from '../../fhir/audit-event.js';
import type { JournalSlice } from '../store.js';
import type { AuditJournal, AuditJournals } from '../sql/driver.js';
import { UseLock } from './use-lock.js';

/**
 * A chain's journal (docs/audit.md, "Durable"): where, on a SQLite file store, the events of
 * requests that only read are made durable before their answers leave, and from which they
 * are moved into the chain a few milliseconds later, many to a transaction.
 *
 * A write of one batch is one `write()` to a file, where committing it to SQLite was about a
 * dozen system calls (the WAL's frames and its locks). Both survive the process's death
 * (`kill -9`): what `write()` has returned is in the operating system's cache, as a commit
 * of SQLite's in WAL mode with `synchronous = NORMAL` is; neither is synced to the disk.
 *
 * The journal is a folder beside the database, `<file>-audit`, with for each chain a lock
 * file and numbered segments, one event a line: its id, when it was recorded and its record,
 * apart by spaces. The process that journals a chain holds the chain's lock (a SQLite lock,
 * which the operating system drops when the process dies). A segment is closed once it holds
 * SEGMENT_BYTES, and removed once its events are committed in the chain. A transaction that
 * moves events also notes, in `store_meta`, the id of the last event it moved: the events up
 * to it that a segment still holds (the open one's, or a closed one's after a crash between
 * that commit and the removal) are not moved twice.
 */
export class FileJournal implements AuditJournal {
  private fd: number;
  private seq: number;
  /** The open segment's path: each write's slice names it (made once, not joined at every write). */
  private path: string;
  /** Bytes written to the open segment. */
  private size = 0;
  /** Segments closed and not yet removed (their events not yet known to be in the chain). */
  private closed: string[] = [];
  /** Whether the open segment ends with a write that failed, perhaps halfway: it takes no more lines. */
  private cut = false;

  private constructor(
    private readonly dir: string,
    private readonly chain: string,
    private readonly lock: UseLock,
    seq: number,
  ) {
    this.seq = seq;
    this.path = this.segment(seq);
    this.fd = openSync(this.path, 'a');
  }

  /** Opens the journal of a chain whose lock is held, after the segments left by `closed`. */
  static held(dir: string, chain: string, lock: UseLock): FileJournal {
    const segments = segmentsOf(dir, chain);
    const last = segments.length ? segments[segments.length - 1]!.seq : 0;
    const journal = new FileJournal(dir, chain, lock, last + 1);
    journal.closed = segments.map((s) => s.path);
    return journal;
  }

  /**
   * The events in the segments an earlier holder closed or left, oldest first, and those
   * segments. A line cut short by a crash mid-write is left out: its request was never
   * answered.
   */
  leftover(): { records: EventRecord[]; segments: string[] } {
    const records: EventRecord[] = [];
    for (const path of this.closed) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        const record = parseLine(line);
        if (record) records.push(record);
      }
    }
    return { records, segments: [...this.closed] };
  }

  /**
   * Makes `records` durable: one write to the open segment; where they are in it. Throws when
   * it cannot (a full disk). A segment grown past SEGMENT_BYTES is closed after the write,
   * and the next opened.
   */
  write(records: readonly EventRecord[]): JournalSlice {
    // After a failed write, a new segment first; while none can be opened, nothing is written (the requests answer 503).
    if (this.cut) {
      this.rotate();
      this.cut = false;
    }
    // The record is JSON already, with no line break or space outside its strings' escapes: written as it is.
    let text = '';
    for (const r of records) text += `${r.id} ${r.recorded} ${r.json}\n`;
    const bytes = Buffer.from(text);
    let at = 0;
    try {
      // Through the module object, so that a test can make it fail (a full disk).
      while (at < bytes.length) at += fs.writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (err) {
      // Part of the batch may be in the segment, its last line cut short (never answered: the
      // reader leaves it out). Another line written after it would run on from it, and be lost
      // with it: the segment is closed, at once or before the next write.
      this.cut = true;
      try {
        this.rotate();
        this.cut = false;
      } catch {
        // The next write tries again.
      }
      throw err;
    }
    const written = { path: this.path, start: this.size, end: this.size + bytes.length };
    this.size = written.end;
    if (this.size >= SEGMENT_BYTES) {
      try {
        this.rotate();
      } catch {
        // The open segment goes on growing; the next write tries again.
      }
    }
    return written;
  }

  /** The segments closed so far: every event in them has been written, and was handed to a move already or is in the one about to start. */
  closedSegments(): string[] {
    return [...this.closed];
  }

  private rotate(): void {
    // The next is opened first: should that fail, the journal is as it was.
    const nextPath = this.segment(this.seq + 1);
    const next = openSync(nextPath, 'a');
    closeSync(this.fd);
    this.closed.push(this.path);
    this.seq += 1;
    this.path = nextPath;
    this.fd = next;
    this.size = 0;
  }

  /** Removes segments whose every event is in the chain. */
  remove(paths: readonly string[]): void {
    for (const path of paths) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.closed = this.closed.filter((p) => !paths.includes(p));
  }

  /**
   * Closes the open segment and gives up the lock. With `moved` (every event written is in the
   * chain) the segments are removed; otherwise they are synced and stay for the next holder.
   */
  close(moved: boolean): void {
    try {
      if (!moved) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      if (moved) this.remove([...this.closed, this.path]);
      this.lock.release();
    }
  }

  private segment(seq: number): string {
    return join(this.dir, `${fileName(this.chain)}.${seq}.log`);
  }
}

/** The journals beside a SQLite database file: the folder `<file>-audit`. */
export class SqliteJournals implements AuditJournals {
  readonly dir: string;

  constructor(file: string) {
    this.dir = `${file}-audit`;
  }

  open(chain: string): AuditJournal | undefined {
    mkdirSync(this.dir, { recursive: true });
    const lock = UseLock.exclusiveAt(join(this.dir, `${fileName(chain)}.lock`));
    return lock && FileJournal.held(this.dir, chain, lock);
  }

  chains(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return [...new Set(names.map((n) => /^([A-Za-z0-9_-]+)\.\d+\.log$/.exec(n)?.[1]).filter((c): c is string => Boolean(c)))].map((c) => Buffer.from(c, 'base64url').toString());
  }

  read(slices: readonly JournalSlice[]): EventRecord[] {
    const records: EventRecord[] = [];
    for (const slice of slices) {
      const bytes = Buffer.allocUnsafe(slice.end - slice.start);
      const fd = openSync(slice.path, 'r');
      try {
        let at = 0;
        while (at < bytes.length) {
          const n = readSync(fd, bytes, at, bytes.length - at, slice.start + at);
          if (n === 0) throw new Error(`the audit journal ${slice.path} ends before byte ${slice.end}`);
          at += n;
        }
      } finally {
        closeSync(fd);
      }
      const text = bytes.toString('utf8');
      // A range of whole lines ends with a line's end (a record's JSON holds no line break).
      if (!text.endsWith('\n')) throw new Error(`the audit journal ${slice.path} holds no whole line ending at byte ${slice.end}`);
      // Whole lines of writes that succeeded: each one checked all the same, by its shape (parsing it is for a crash's leftovers, where a line may be cut short).
      for (const line of text.split('\n')) {
        if (!line) continue;
        const record = parseLine(line, true);
        if (!record) throw new Error(`the audit journal ${slice.path} holds a line that is not an event between bytes ${slice.start} and ${slice.end}`);
        records.push(record);
      }
    }
    return records;
  }
}

/** A segment is closed once it holds this much: a move removes the segments closed before it began. */
const SEGMENT_BYTES = 4 * 1024 * 1024;

/**
 * An event of a journal's line (`<id> <recorded> <record>`), or undefined for a line cut
 * short (or not a whole line). A record begins with its event's id (fhir/audit-event.ts): a
 * line read from anywhere but its start does not match it. A `whole` line (from a write that
 * succeeded) is checked by that shape alone; any other is parsed.
 */
function parseLine(line: string, whole = false): EventRecord | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  if (a <= 0 || b < 0) return undefined;
  const id = line.slice(0, a);
  const recorded = Number(line.slice(a + 1, b));
  const json = line.slice(b + 1);
  if (!Number.isSafeInteger(recorded)) return undefined;
  if (whole) return json.startsWith(`{"id":${JSON.stringify(id)},`) && json.endsWith('}') ? { id, recorded, json } : undefined;
  try {
    if ((JSON.parse(json) as { id?: unknown } | null)?.id !== id) return undefined;
  } catch {
    return undefined;
  }
  return { id, recorded, json };
}

/** A chain's name as a file name: base64url, so that any node name is safe in a path. */
function fileName(chain: string): string {
  return Buffer.from(chain).toString('base64url');
}

function segmentsOf(dir: string, chain: string): Array<{ seq: number; path: string }> {
  const prefix = `${fileName(chain)}.`;
  return readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && /^\d+\.log$/.test(n.slice(prefix.length)))
    .map((n) => ({ seq: Number(n.slice(prefix.length, -'.log'.length)), path: join(dir, n) }))
    .sort((a, b) => a.seq - b.seq);
}
