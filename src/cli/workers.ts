import cluster, { type Worker } from 'node:cluster';
import { type Config, workerNodeName } from '../config.js';

/**
 * The primary of `ccri serve --workers N` (docs/deploy.md, "Workers"): it forks N workers
 * (node:cluster) that share the port, each serving as a node of its own (its own audit chain,
 * metrics and connections to the store), prints one start banner for them all, starts a
 * worker again when one dies (waiting longer each time one dies soon after it started, so a
 * crash loop does not spin), and on SIGTERM or SIGINT asks each to stop gracefully and exits
 * once they all have. It opens no store and serves nothing itself.
 */

/** The environment variable that tells a forked process which worker it is (1, 2, …). */
export const WORKER_INDEX = 'CCRI_WORKER_INDEX';

/** A worker's word to its primary once it listens: what the start banner says. */
export interface Listening {
  ccri: 'listening';
  /** Where it listens (every worker the same: they share the port). */
  address: string;
  /** The bases served, as the banner's first line names them. */
  bases: string;
  /** The banner's other lines (the store first). */
  lines: string[];
  /** The demo users made at this start, with their passwords: only the worker that loaded the demo data has any. */
  demoUsers: string[];
}

/** The primary's word to a worker: stop gracefully, as on this signal. */
export interface StopMessage {
  ccri: 'stop';
  signal: NodeJS.Signals;
}

/** How long the primary waits before starting a worker again: this, doubled for each death soon after a start, up to MAX_DELAY_MS. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 30_000;
/** A worker that ran this long before it died was not crash-looping: the next wait is the first one again. */
const STABLE_MS = 30_000;
/** How long past CCRI_SHUTDOWN_GRACE_MS the primary waits for workers to stop before it kills them. */
const STOP_MARGIN_MS = 5_000;

interface Slot {
  index: number;
  worker?: Worker;
  pid?: number;
  startedAt: number;
  listening: boolean;
  /** Deaths in a row, each soon after its start. */
  failures: number;
  restart?: NodeJS.Timeout;
}

/** Forks the workers, each running `ccri <args>` (the same command line, the port fixed). */
export function runPrimary(config: Config, args: string[]): void {
  cluster.setupPrimary({ args });
  const slots: Slot[] = Array.from({ length: config.workers }, (_, i) => ({ index: i + 1, startedAt: 0, listening: false, failures: 0 }));
  const reports = new Map<number, Listening>();
  /** Every worker has listened once, and the banner is out. */
  let serving = false;
  let stopping: NodeJS.Signals | undefined;
  /** A worker died before the server was serving: the start failed, and the primary stops. */
  let aborted = false;
  /** Workers that did not stop cleanly (cut off at the grace period, killed, crashed). */
  let unclean = 0;
  let finished = false;

  const live = () => slots.filter((s) => s.worker);
  const name = (s: Slot) => workerNodeName(config.nodeName, s.index);

  const fork = (slot: Slot) => {
    delete slot.restart;
    const worker = cluster.fork({ [WORKER_INDEX]: String(slot.index) });
    slot.worker = worker;
    slot.pid = worker.process.pid;
    slot.startedAt = Date.now();
    slot.listening = false;
    worker.on('message', (m: Partial<Listening> | null) => {
      if (m?.ccri !== 'listening') return;
      slot.listening = true;
      if (stopping) return tell(slot, stopping);
      if (serving) return void console.log(`ccri: worker ${slot.index} is serving again (process ${slot.pid}, node ${name(slot)})`);
      reports.set(slot.index, m as Listening);
      if (reports.size === slots.length) {
        serving = true;
        banner();
      }
    });
    worker.on('exit', (code, signal) => exited(slot, worker, code, signal));
    // A message that could not be sent (a worker gone meanwhile): its exit, which follows, is what counts.
    worker.on('error', (err: Error) => console.error(`ccri: worker ${slot.index} (process ${slot.pid}): ${err.message}`));
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    const wasServing = slot.listening;
    delete slot.worker;
    slot.listening = false;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (stopping) {
      // One still starting was stopped at once (SIGTERM): nothing of it was cut off.
      if (code !== 0 && wasServing) unclean++;
      if (!live().length) finish();
      return;
    }
    if (!serving) {
      // As `ccri serve` exits when it cannot start (a port in use, a store it cannot open): the worker said why.
      console.error(`ccri: worker ${slot.index} (process ${slot.pid}) ${how} before the server was serving: stopping.`);
      aborted = true;
      stop('SIGTERM');
      return;
    }
    slot.failures = Date.now() - slot.startedAt >= STABLE_MS ? 1 : slot.failures + 1;
    const delay = Math.min(FIRST_DELAY_MS * 2 ** (slot.failures - 1), MAX_DELAY_MS);
    console.error(`ccri: worker ${slot.index} (process ${slot.pid}) ${how}; starting another in ${delay / 1000} s`);
    slot.restart = setTimeout(() => fork(slot), delay);
  };

  /** Asks a worker to stop: gracefully once it serves (it knows how), at once while it is still starting (nothing is in flight). */
  const tell = (slot: Slot, signal: NodeJS.Signals) => {
    const worker = slot.worker;
    if (!worker) return;
    if (slot.listening && worker.isConnected()) worker.send({ ccri: 'stop', signal } satisfies StopMessage);
    else worker.process.kill('SIGTERM');
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = signal;
    for (const s of slots) {
      if (s.restart) clearTimeout(s.restart);
      delete s.restart;
      tell(s, signal);
    }
    if (!live().length) return finish();
    // Each worker cuts off what still runs at the grace period and exits; one that does not is killed.
    setTimeout(() => {
      for (const s of live()) s.worker!.process.kill('SIGKILL');
    }, config.shutdownGraceMs + STOP_MARGIN_MS).unref();
  };

  const finish = () => {
    if (finished) return;
    finished = true;
    if (aborted) process.exit(1);
    if (unclean) {
      console.error(`ccri: stopped (${stopping}), but ${unclean} of ${slots.length} workers did not stop cleanly.`);
      process.exit(1);
    }
    console.log(`ccri stopped (${stopping}).`);
    process.exit(0);
  };

  /** One banner for the whole server, naming this process (the one to signal) and its workers. */
  const banner = () => {
    const first = reports.get(1)!;
    const [store, ...rest] = first.lines;
    const lines = [
      `FHIR STU3 API at ${first.bases}, listening on ${first.address} (process ${process.pid})`,
      store,
      `Workers: ${slots.length} processes sharing the port, each a node of its own: ${slots.map((s) => `${s.pid} (${name(s)})`).join(', ')}`,
      ...rest,
      ...[...reports.values()].flatMap((r) => r.demoUsers),
    ];
    // One write: what reads the banner from a pipe gets it whole, not in pieces.
    console.log(lines.join('\n'));
  };

  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  for (const slot of slots) fork(slot);
}
