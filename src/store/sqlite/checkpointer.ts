import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL bytes past which a checkpoint runs (SQLite's own default is 1,000 pages of 4 KB). */
const WAL_BYTES = 4 * 1024 * 1024;
/** How often the WAL's size is looked at. */
const EVERY_MS = 100;
/**
 * WAL content past which the writer is asked to finish a checkpoint itself (restartWanted()):
 * under writes that never pause the WAL never starts again from its beginning otherwise.
 */
export const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The checkpointer's thread: its own connection to the database file, copying the WAL
 * back into it (a PASSIVE checkpoint, which never waits for the writer or the readers)
 * whenever the WAL has grown past WAL_BYTES. Plain JavaScript, so that it runs the same
 * from the built code and from the sources under test.
 */
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
const wal = workerData.file + '-wal';
const restart = new Int32Array(workerData.restart);
const pageSize = db.pragma('page_size', { simple: true });
let reported = false;
const timer = setInterval(() => {
  try {
    const size = statSync(wal, { throwIfNoEntry: false })?.size ?? 0;
    if (size > workerData.walBytes) {
      const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
      // The frames written since the WAL last started again from its beginning.
      if (log * pageSize > workerData.limitBytes) Atomics.store(restart, 0, 1);
    }
    reported = false;
  } catch (err) {
    // Another process's checkpoint under way: this one waits for the next look.
    if (err && (err.code === 'SQLITE_BUSY' || err.code === 'SQLITE_LOCKED')) return;
    if (!reported) parentPort.postMessage({ error: String(err && err.message || err) });
    reported = true;
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  try { db.close(); } finally { parentPort.close(); }
});
`;

/**
 * Checkpoints a WAL database on a thread of its own. Without it, SQLite checkpoints inside
 * the COMMIT that pushes the WAL past its limit, on the writer's thread: a commit that
 * usually takes tens of microseconds then takes tens of milliseconds (copying the pages
 * and syncing the file), and the server answers nothing meanwhile. The writer connection
 * is set to wal_autocheckpoint = 0 while this runs. docs/storage.md, "Checkpoints".
 *
 * SQLite writes the WAL from its beginning again only when a write transaction starts after
 * a checkpoint has copied every frame. Under writes that never pause (a bulk load) this
 * thread's checkpoint always ends a few commits behind, and the WAL grew by every page
 * written (5.5 GB in a seed of a million resources, and a fifth of the writer's time the
 * kernel zeroing the file's new pages). Past `limitBytes` of frames the thread asks the
 * writer (restartWanted()) to run one checkpoint between two of its transactions, when
 * nothing can be appended meanwhile.
 */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly restart = new Int32Array(new SharedArrayBuffer(4));
  private stopped?: Promise<void>;

  constructor(file: string, onError: (message: string) => void, limitBytes = WAL_LIMIT_BYTES) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const workerData = { file, module, walBytes: WAL_BYTES, everyMs: EVERY_MS, limitBytes, restart: this.restart.buffer };
    this.worker = new Worker(WORKER, { eval: true, workerData });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (err) => onError(err.message));
    // A server or a command ends whether or not this thread is still running.
    this.worker.unref();
  }

  /** Whether the writer should checkpoint now, between two transactions. */
  restartWanted(): boolean {
    return Atomics.load(this.restart, 0) === 1;
  }

  /** The writer's checkpoint has run: the thread asks again at its next look if the WAL has still not started again. */
  restartDone(): void {
    Atomics.store(this.restart, 0, 0);
  }

  /** Stops the thread and closes its connection. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      // Held until it has closed its connection, or the process could end first.
      this.worker.ref();
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
