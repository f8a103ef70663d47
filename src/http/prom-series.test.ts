import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './prom-series.js';

const BOUNDS = [0.001, 0.01, 0.1, 1, 10];

describe('the series counted without lookups', () => {
  it("render exactly as prom-client's own Counter and Histogram given the same counts", async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const counter = new Counter({ name: 'x_total', help: 'Things, by kind', labelNames: ['kind', 'status'], registers: [theirs] });
    const histogram = new Histogram({ name: 'x_seconds', help: 'Time, by kind', labelNames: ['kind'], buckets: BOUNDS, registers: [theirs] });
    const sc = new SeriesCounter('x_total', 'Things, by kind', ['kind', 'status'], ours);
    const sh = new SeriesHistogram('x_seconds', 'Time, by kind', ['kind'], BOUNDS, ours);
    // Values on the bounds, between them, below the first and above the last; a label that needs escaping.
    const seen: Array<[string, string, number]> = [
      ['read', '200', 0.001],
      ['read', '200', 0.0004],
      ['read', '404', 0.05],
      ['search "type"\\x', '200', 10],
      ['search "type"\\x', '200', 12.5],
      ['read', '200', 0.1],
    ];
    for (const [kind, status, seconds] of seen) {
      counter.labels(kind, status).inc();
      histogram.labels(kind).observe(seconds);
      // Asked again for each observation: the same series is counted, not a second one.
      sc.labels({ kind, status }).inc();
      sh.labels({ kind }).observe(seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    // Merged with another registry, as /metrics serves them.
    expect(await Registry.merge([new Registry(), ours]).metrics()).toBe(await theirs.metrics());
  });

  it('count through the series they hand out, and forget them on reset', async () => {
    const registry = new Registry();
    const sh = new SeriesHistogram('t_seconds', 'Time', ['kind'], BOUNDS, registry);
    const read = sh.labels({ kind: 'read' });
    for (let i = 0; i < 3; i++) read.observe(0.005);
    read.observe(Number.NaN);
    read.observe(Number.POSITIVE_INFINITY);
    const text = await registry.metrics();
    expect(text).toContain('t_seconds_bucket{le="0.001",kind="read"} 0');
    expect(text).toContain('t_seconds_bucket{le="0.01",kind="read"} 3');
    expect(text).toContain('t_seconds_bucket{le="+Inf",kind="read"} 3');
    expect(text).toContain('t_seconds_count{kind="read"} 3');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain('t_seconds_count');
  });

  it('refuse labels they were not made with', () => {
    const sc = new SeriesCounter('u_total', 'Things', ['kind'], new Registry());
    expect(() => sc.labels({ kind: 'a', other: 'b' })).toThrow(TypeError);
    expect(() => sc.labels({})).toThrow(TypeError);
  });
});
