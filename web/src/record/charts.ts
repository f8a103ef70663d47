import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from '../dom.js';
import { formatDate } from '../format.js';
import type { VitalData } from './vitals.js';

const COLOURS = ['#005eb8', '#d5281b'];

/**
 * A small chart per vital sign. The figure's label says in words what the
 * chart shows (count, span, latest value); the table below lists every value.
 */
export function vitalCharts(data: VitalData[]): HTMLElement {
  if (!data.length) return h('p', { class: 'nhsuk-body' }, 'No vital signs recorded.');
  const grid = h('div', { class: 'ccri-charts', id: 'vital-charts' });
  for (const d of data) {
    const n = d.times.length;
    const latest = d.series.map((s) => `${s.label.toLowerCase()} ${s.values[n - 1] ?? '–'}`).join(', ');
    const summary = `${d.vital.label}: ${n} ${n === 1 ? 'reading' : 'readings'} from ${formatDate(iso(d.times[0]!))} to ${formatDate(iso(d.times[n - 1]!))}; latest ${latest} ${d.unit}`;
    const plot = h('div', { class: 'ccri-chart__plot', role: 'img', 'aria-label': summary });
    const figure = h('figure', { class: 'ccri-chart', 'data-vital': d.vital.key, 'data-points': String(n) }, h('figcaption', { class: 'nhsuk-heading-xs ccri-chart__title' }, `${d.vital.label} (${d.unit})`), plot);
    grid.appendChild(figure);
    // Drawn once the figure is in the page, so that it knows its width.
    requestAnimationFrame(() => draw(plot, d));
  }
  return grid;
}

function draw(target: HTMLElement, d: VitalData): void {
  const width = Math.max(260, Math.floor(target.clientWidth || 320));
  const single = d.times.length === 1;
  const opts: uPlot.Options = {
    width,
    height: 180,
    legend: { show: d.series.length > 1, live: false },
    cursor: { show: false },
    // One reading alone would sit on the chart's edge: give it a month either side.
    scales: { x: { time: true, ...(single ? { range: (): uPlot.Range.MinMax => [d.times[0]! - 86400 * 30, d.times[0]! + 86400 * 30] } : {}) } },
    axes: [{ stroke: '#4c6272', grid: { stroke: '#e8edee' } }, { stroke: '#4c6272', grid: { stroke: '#e8edee' }, size: 44 }],
    series: [{}, ...d.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length]!, width: 2, points: { show: true, size: 7, fill: COLOURS[i % COLOURS.length]! } }))],
  };
  new uPlot(opts, [d.times, ...d.series.map((s) => s.values)] as uPlot.AlignedData, target);
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
