import cliProgress from 'cli-progress';

/** What a bulk load says on a terminal once its resources are written and it builds the indexes it dropped (Store.bulk). */
export const BUILDING = 'Building the search indexes...';

export interface Progress {
  /** `done` so far; with `total` (known from the start and the same every time) a bar, without one a count. */
  update(done: number, total?: number): void;
  /** Ends the line; on a terminal, `then` (what comes next) is written on a line of its own. */
  stop(then?: string): void;
}

/**
 * A progress line on a terminal (nothing otherwise): a bar with the time left where the
 * total is known before the work starts (reindex), else a running count of resources
 * with the rate (import, seed: an estimated total would jump about, and a first estimate
 * from one resource reads as "100% 1/1"). It appears at the first update.
 */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now();
  let bar: cliProgress.SingleBar | undefined;
  let barTotal: number | undefined;
  return {
    update(done, total) {
      if (!stream.isTTY) return;
      const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001)).toLocaleString('en-GB');
      const payload = { rate, count: done.toLocaleString('en-GB'), noun: done === 1 ? 'resource' : 'resources' };
      if (!bar) {
        barTotal = total;
        const format = total === undefined ? `${label} | {count} {noun} | {rate}/s | {duration_formatted}` : `${label} [{bar}] {percentage}% | {count}/{total} | {rate}/s | ETA {eta_formatted}`;
        bar = new cliProgress.SingleBar({ format, hideCursor: true, stream, formatValue: (v, _o, type) => (type === 'total' ? v.toLocaleString('en-GB') : String(v)) }, cliProgress.Presets.shades_classic);
        bar.start(total ?? 0, done, payload);
        return;
      }
      bar.update(Math.min(done, barTotal ?? done), payload);
    },
    stop(then) {
      bar?.stop();
      bar = undefined;
      if (then && stream.isTTY) stream.write(`${then}\n`);
    },
  };
}
