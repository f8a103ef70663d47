import type { Metric, Registry } from 'prom-client';

/**
 * A counter and a histogram for the metrics counted on every request, whose series are made
 * once and then counted through a reference, with no lookup.
 *
 * prom-client's own Counter and Histogram find a series by hashing its labels at every call,
 * even through `labels()` (the child it returns hashes them again each time): about 9k
 * instructions of every read by id, counted with `npm run bench -- instructions`
 * (docs/benchmarks.md, seventeenth session). These keep the counts in the series they hand
 * out. prom-client still registers and renders them: each is a metric of the shape its
 * Registry reads (name, help, type, aggregator and `get`), its samples laid out as
 * prom-client lays out its own (a series' labels shared by its samples, `le` first).
 */

type Labels = Readonly<Record<string, string>>;

/** The label values' key: a series is made once for each. */
const keyOf = (names: readonly string[], labels: Labels): string => names.map((n) => labels[n] ?? '').join('\u0000');

abstract class Series<S> {
  readonly aggregator = 'sum';
  private readonly made = new Map<string, S & { labels: Labels }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, made at the first call (every label named, no other). */
  protected series(labels: Labels): S & { labels: Labels } {
    const extra = Object.keys(labels).find((n) => !this.labelNames.includes(n));
    if (extra !== undefined || this.labelNames.some((n) => typeof labels[n] !== 'string')) throw new TypeError(`${this.name} takes exactly the labels ${this.labelNames.join(', ')}`);
    const key = keyOf(this.labelNames, labels);
    let s = this.made.get(key);
    if (!s) this.made.set(key, (s = { ...this.fresh(), labels: { ...labels } }));
    return s;
  }

  protected all(): Array<S & { labels: Labels }> {
    return [...this.made.values()];
  }

  protected abstract fresh(): S;

  /** Nothing to gather: the counts are kept as they happen (prom-client calls this before reading). */
  collect(): void {}

  /** Forgets every series (Registry.resetMetrics). */
  reset(): void {
    this.made.clear();
  }
}

/** A Prometheus counter: `labels(...)` once, then `inc()` on the series it returns. */
export class SeriesCounter extends Series<{ value: number }> {
  readonly type = 'counter';

  labels(labels: Labels): { inc(): void } {
    const s = this.series(labels);
    return { inc: () => void s.value++ };
  }

  protected fresh(): { value: number } {
    return { value: 0 };
  }

  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.all().map((s) => ({ labels: s.labels, value: s.value })) };
  }
}

/** A Prometheus histogram with fixed buckets: `labels(...)` once, then `observe(value)` on the series it returns. */
export class SeriesHistogram extends Series<{ buckets: number[]; sum: number; count: number }> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[], registry: Registry) {
    super(name, help, labelNames, registry);
    this.bounds = [...bounds].sort((a, b) => a - b);
  }

  labels(labels: Labels): { observe(value: number): void } {
    const s = this.series(labels);
    const { bounds } = this;
    return {
      observe: (value) => {
        // A value that is not a number of seconds (NaN, ±Infinity) is not counted: no sum could hold it.
        if (!Number.isFinite(value)) return;
        s.sum += value;
        s.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]!) {
            s.buckets[i]!++;
            return;
          }
        }
      },
    };
  }

  protected fresh(): { buckets: number[]; sum: number; count: number } {
    return { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
  }

  async get() {
    const values: Array<{ labels: Record<string, string | number>; sharedLabels: Labels; value: number; metricName: string }> = [];
    for (const s of this.all()) {
      let below = 0;
      this.bounds.forEach((le, i) => {
        below += s.buckets[i]!;
        values.push({ labels: { le }, sharedLabels: s.labels, value: below, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
