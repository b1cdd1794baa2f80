/**
 * The counter and histograms every legacy call touches (requests, call time, upstream time),
 * counted in a plain map and written in Prometheus' text format only when scraped, in exactly the
 * text prom-client writes for the same counts (test/server/call-series.test.ts compares them).
 *
 * prom-client checks and hashes a sample's labels on every `inc` and `observe` (an object, a
 * sorted key list and a string per sample): about 1 µs per call in all, measured as about 3 % of
 * the bridge's CPU per small call (docs/performance-notes.md, eighth round). Here a sample costs one map look-up
 * by its label values; the checks are the caller's (metrics.ts passes fixed label sets).
 */

/** One labelled series: its labels as written (`a="x",b="y"`), its count and, for histograms, sum and buckets. */
interface Series {
  labels: string;
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative), by the index of the bucket's upper bound. */
  buckets: number[];
}

export class CallSeries {
  readonly name: string;
  private readonly help: string;
  private readonly labelNames: readonly string[];
  /** Upper bounds for a histogram; undefined for a counter. */
  private readonly bounds: readonly number[] | undefined;
  private readonly series = new Map<string, Series>();

  constructor(opts: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets?: readonly number[];
  }) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelNames = opts.labelNames;
    this.bounds = opts.buckets;
  }

  /** Counts one sample: `values` are the label values in `labelNames`' order, `value` the amount observed (counters: added). */
  add(values: readonly string[], value: number): void {
    if (!Number.isFinite(value)) return;
    // Joined with NUL, which no label value holds but a client's db name could (with
    // BRIDGE_METRICS_MODELS): two such values would at worst share a series.
    const key = values.length === 1 ? (values[0] as string) : values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: this.formatLabels(values), count: 0, sum: 0, buckets: [] };
      if (this.bounds) s.buckets = this.bounds.map(() => 0);
      this.series.set(key, s);
    }
    if (!this.bounds) {
      s.count += value;
      return;
    }
    s.sum += value;
    s.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (s.buckets[i] as number)++;
        break;
      }
    }
  }

  /** The metric in Prometheus' text format (version 0.0.4), without a trailing newline. */
  text(): string {
    const name = escapeText(this.name);
    const lines = [
      `# HELP ${name} ${escapeText(this.help)}`,
      `# TYPE ${name} ${this.bounds ? 'histogram' : 'counter'}`,
    ];
    for (const s of this.series.values()) {
      const braces = s.labels === '' ? '' : `{${s.labels}}`;
      if (!this.bounds) {
        lines.push(`${this.name}${braces} ${s.count}`);
        continue;
      }
      const after = s.labels === '' ? '' : `,${s.labels}`;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += s.buckets[i] as number;
        lines.push(`${this.name}_bucket{le="${bound}"${after}} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{le="+Inf"${after}} ${s.count}`);
      lines.push(`${this.name}_sum${braces} ${s.sum}`);
      lines.push(`${this.name}_count${braces} ${s.count}`);
    }
    return lines.join('\n');
  }

  private formatLabels(values: readonly string[]): string {
    return this.labelNames
      .map((n, i) => `${n}="${escapeText(values[i] ?? '').replace(/"/g, '\\"')}"`)
      .join(',');
  }
}

/** Backslashes and newlines escaped, as in HELP text and label values. */
function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
