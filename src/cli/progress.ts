import cliProgress from 'cli-progress';

/** A progress bar showing items per second and the time left; quiet when not on a terminal. */
export function progressBar(label: string) {
  const started = Date.now();
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted}`,
      hideCursor: true,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedBar = false;
  return {
    update(done: number, total: number) {
      if (!process.stderr.isTTY) return;
      const rate = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
      if (!startedBar) {
        bar.start(total, done, { rate });
        startedBar = true;
      }
      bar.setTotal(total);
      bar.update(done, { rate });
    },
    stop() {
      if (startedBar) bar.stop();
    },
  };
}
