/**
 * Calls per day as a small bar chart, written as inline SVG on the server: no script, no font, no
 * external resource, so the migration page keeps its strict Content-Security-Policy and works
 * offline. Colours are SVG presentation attributes (not `style`), which the policy allows.
 */
import { DAY_MS } from './entries.ts';
import type { DayCounts } from './views.ts';

export interface TrendSize {
  width: number;
  height: number;
}

/** The `days` days ending on the day of `now` (UTC), oldest first, days without a call as zeros. */
function windowOf(daily: readonly DayCounts[], days: number, now: number): DayCounts[] {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const today = Math.floor(now / DAY_MS);
  const window: DayCounts[] = [];
  for (let i = days - 1; i >= 0; i--) {
    const day = new Date((today - i) * DAY_MS).toISOString().slice(0, 10);
    window.push(byDay.get(day) ?? { day, calls: 0, faults: 0 });
  }
  return window;
}

function svg(size: TrendSize, label: string, inner: string): string {
  return (
    `<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}" ` +
    `viewBox="0 0 ${size.width} ${size.height}" preserveAspectRatio="none" role="img" aria-label="${label}">` +
    `<line x1="0" y1="${size.height - 0.5}" x2="${size.width}" y2="${size.height - 0.5}" stroke="#d8dde3"/>` +
    `${inner}</svg>`
  );
}

/**
 * One bar per day of the `days` ending on the day of `now` (UTC), its height the day's calls
 * against the busiest day's, the faulted share drawn over it in red. Each bar carries its day and
 * counts (`data-day`, `data-calls`, `data-faults`, and a `<title>` for a pointer's tooltip).
 */
export function trendSvg(daily: readonly DayCounts[], days: number, now: number, size: TrendSize): string {
  const window = windowOf(daily, days, now);
  const most = Math.max(1, ...window.map((d) => d.calls));
  const step = size.width / days;
  const w = Math.max(1, step - (step > 3 ? 1 : 0)).toFixed(1);
  const bars = window
    .map((d, i) => {
      const x = (i * step).toFixed(1);
      const h = d.calls === 0 ? 0 : Math.max(1, (d.calls / most) * size.height);
      const fh = d.faults === 0 ? 0 : Math.max(1, (d.faults / most) * size.height);
      const rect = (height: number, fill: string) =>
        `<rect x="${x}" y="${(size.height - height).toFixed(1)}" width="${w}" height="${height.toFixed(1)}" fill="${fill}"/>`;
      return (
        `<g data-day="${d.day}" data-calls="${d.calls}" data-faults="${d.faults}">` +
        `<title>${d.day}: ${d.calls} calls, ${d.faults} faults</title>` +
        `<rect x="${x}" y="0" width="${w}" height="${size.height}" fill="transparent"/>` +
        (h ? rect(h, '#714b67') : '') +
        (fh ? rect(fh, '#b42318') : '') +
        `</g>`
      );
    })
    .join('');
  const total = window.reduce((n, d) => n + d.calls, 0);
  return svg(size, `calls per day, last ${days} days: ${total} calls`, bars);
}

/**
 * The same bars as one path (and one for the faults): a sparkline light enough for a row of a
 * table of hundreds of clients.
 */
export function sparklineSvg(
  daily: readonly DayCounts[],
  days: number,
  now: number,
  size: TrendSize,
): string {
  const window = windowOf(daily, days, now);
  const most = Math.max(1, ...window.map((d) => d.calls));
  const step = size.width / days;
  const w = Math.max(1, step - (step > 3 ? 1 : 0)).toFixed(1);
  const path = (of: (d: DayCounts) => number) =>
    window
      .map((d, i) => {
        const n = of(d);
        if (n === 0) return '';
        const h = Math.max(1, (n / most) * size.height).toFixed(1);
        return `M${(i * step).toFixed(1)} ${size.height}v-${h}h${w}v${h}z`;
      })
      .join('');
  const calls = path((d) => d.calls);
  const faults = path((d) => d.faults);
  const total = window.reduce((n, d) => n + d.calls, 0);
  return svg(
    size,
    `calls per day, last ${days} days: ${total} calls`,
    (calls ? `<path d="${calls}" fill="#714b67"/>` : '') +
      (faults ? `<path d="${faults}" fill="#b42318"/>` : ''),
  );
}
