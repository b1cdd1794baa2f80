/**
 * CallSeries (the per-call counter and histograms of /_bridge/metrics) writes exactly what
 * prom-client writes for the same samples: the same text, byte for byte, for random label values
 * (quotes, backslashes, newlines, unicode) and values (bucket bounds, between, beyond the last).
 */
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CallSeries } from '../../src/server/call-series.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const LABELS = ['protocol', 'service', 'outcome'];

const labelValue = fc.oneof(
  fc.constantFrom('xmlrpc/2', 'jsonrpc', 'object', 'ok', 'fault', ''),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.stringMatching(/^[a"\\\n]{0,5}$/),
);
const seconds = fc.oneof(
  fc.constantFrom(...BUCKETS, 0, 121, 1e-9),
  fc.double({ min: 0, max: 200, noNaN: true }),
);
const samples = fc.array(fc.tuple(fc.array(labelValue, { minLength: 3, maxLength: 3 }), seconds), {
  maxLength: 40,
});

/** prom-client's text for one metric alone in a registry (its registry adds a final newline). */
async function promText(feed: (registers: Registry[]) => void): Promise<string> {
  const registry = new Registry();
  feed([registry]);
  return (await registry.metrics()).replace(/\n$/, '');
}

function labelsOf(values: string[]): Record<string, string> {
  return Object.fromEntries(LABELS.map((n, i) => [n, values[i] ?? '']));
}

describe('CallSeries', () => {
  it('writes a histogram exactly as prom-client does', async () => {
    await fc.assert(
      fc.asyncProperty(samples, async (list) => {
        const ours = new CallSeries({
          name: 'x_seconds',
          help: 'Time, by "a"\\b\nc',
          labelNames: LABELS,
          buckets: BUCKETS,
        });
        for (const [values, v] of list) ours.add(values, v);
        const theirs = await promText((registers) => {
          const h = new Histogram({
            name: 'x_seconds',
            help: 'Time, by "a"\\b\nc',
            labelNames: LABELS,
            buckets: BUCKETS,
            registers,
          });
          for (const [values, v] of list) h.observe(labelsOf(values), v);
        });
        expect(ours.text()).toBe(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('writes a counter exactly as prom-client does', async () => {
    await fc.assert(
      fc.asyncProperty(samples, async (list) => {
        const ours = new CallSeries({ name: 'x_total', help: 'Calls', labelNames: LABELS });
        for (const [values] of list) ours.add(values, 1);
        const theirs = await promText((registers) => {
          const c = new Counter({ name: 'x_total', help: 'Calls', labelNames: LABELS, registers });
          for (const [values] of list) c.inc(labelsOf(values));
        });
        expect(ours.text()).toBe(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it('one label: the value is the key (no join), series in first-seen order', () => {
    const s = new CallSeries({ name: 'u_seconds', help: 'h', labelNames: ['endpoint'], buckets: [0.1, 1] });
    s.add(['json2'], 0.05);
    s.add(['doc'], 2);
    s.add(['json2'], 0.5);
    expect(s.text()).toBe(
      [
        '# HELP u_seconds h',
        '# TYPE u_seconds histogram',
        'u_seconds_bucket{le="0.1",endpoint="json2"} 1',
        'u_seconds_bucket{le="1",endpoint="json2"} 2',
        'u_seconds_bucket{le="+Inf",endpoint="json2"} 2',
        'u_seconds_sum{endpoint="json2"} 0.55',
        'u_seconds_count{endpoint="json2"} 2',
        'u_seconds_bucket{le="0.1",endpoint="doc"} 0',
        'u_seconds_bucket{le="1",endpoint="doc"} 0',
        'u_seconds_bucket{le="+Inf",endpoint="doc"} 1',
        'u_seconds_sum{endpoint="doc"} 2',
        'u_seconds_count{endpoint="doc"} 1',
      ].join('\n'),
    );
  });

  it('ignores a value that is not finite (prom-client would throw) and lists no series before the first sample', () => {
    const s = new CallSeries({ name: 'n_seconds', help: 'h', labelNames: ['endpoint'], buckets: [1] });
    s.add(['json2'], Number.NaN);
    s.add(['json2'], Number.POSITIVE_INFINITY);
    expect(s.text()).toBe('# HELP n_seconds h\n# TYPE n_seconds histogram');
  });
});
