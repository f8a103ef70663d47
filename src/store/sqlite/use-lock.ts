import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

/**
 * Who has a SQLite store open. Every process that opens the store (the server, every
 * command) holds a shared lock on a small file beside the database, `<file>-open`, for as
 * long as it has the store open: a read transaction on that file's own SQLite database,
 * which the operating system drops if the process dies (kill -9 included). `ccri restore`
 * takes it exclusively, so that it never replaces a file that a process is using, and no
 * process opens the store while it does.
 */
export function useLockFile(file: string): string {
  return `${file}-open`;
}

/** Thrown when a store that must not be in use is (UseLock.exclusive). */
export class StoreInUse extends Error {}

export class UseLock {
  private constructor(private readonly db: Db) {}

  /**
   * A shared hold: waits up to `waitMs` while the store is held exclusively (a restore
   * running), then fails saying so.
   */
  static shared(file: string, waitMs = 30_000): UseLock {
    const db = open(file);
    db.pragma(`busy_timeout = ${Math.max(0, Math.round(waitMs))}`);
    try {
      db.exec('BEGIN');
      // The first read of a deferred transaction takes the shared lock, held until it ends.
      db.prepare('SELECT count(*) AS n FROM sqlite_master').get();
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') {
        throw new StoreInUse(`The store ${file} is being restored by \`ccri restore\` (it holds ${useLockFile(file)}): try again when the restore has finished`);
      }
      throw err;
    }
    return new UseLock(db);
  }

  /** The exclusive hold, or undefined (without waiting) when any process has the store open. */
  static exclusive(file: string): UseLock | undefined {
    return UseLock.exclusiveAt(useLockFile(file));
  }

  /** The exclusive hold of the lock file `path` (itself), or undefined (without waiting) when another holds it. */
  static exclusiveAt(path: string): UseLock | undefined {
    const db = new Database(path);
    db.pragma('busy_timeout = 0');
    try {
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') return undefined;
      throw err;
    }
    return new UseLock(db);
  }

  release(): void {
    if (!this.db.open) return;
    if (this.db.inTransaction) this.db.exec('COMMIT');
    this.db.close();
  }
}

/** The lock file's database keeps SQLite's default rollback journal (never WAL): its locks are the file locks this relies on. */
function open(file: string): Db {
  return new Database(useLockFile(file));
}
