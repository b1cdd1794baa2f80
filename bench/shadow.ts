/**
 * What shadow mode costs the client (issue 18: "the client still receives the translated answer
 * in the same time, ± noise"): one build, two bridges loaded at the same time in front of one
 * stand-in (bench/stand-in.ts, which answers the legacy `/jsonrpc` with the same record), A
 * without shadow, B with `shadow: 1` on its upstream (every read compared, at most 8 at once, the
 * rest dropped). Prints, per round and as medians: the clients' latency p50 and p99 on each, and
 * each bridge's CPU per call; then B's shadow outcomes.
 *
 *   npm run build && npx node bench/shadow.ts
 * Settings (environment): BENCH_PROTOCOL (xmlrpc or jsonrpc, default xmlrpc), BENCH_CONNECTIONS
 * (per bridge, default 16), BENCH_CALLS (per bridge per round, default 5000), BENCH_ROUNDS (5).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { cpuSeconds, startBridge, startStandIn, type Child } from './procs.ts';
import { median, READ_JSON, READ_XML } from './small-calls.ts';

const PROTOCOL = process.env['BENCH_PROTOCOL'] ?? 'xmlrpc';
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 5000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const xml = PROTOCOL === 'xmlrpc';

async function load(bridge: Child): Promise<{ p50: number; p99: number }> {
  const r = await autocannon({
    url: bridge.url + (xml ? '/xmlrpc/2/object' : '/jsonrpc'),
    method: 'POST',
    body: xml ? READ_XML : READ_JSON,
    headers: { 'content-type': xml ? 'text/xml' : 'application/json' },
    connections: CONNECTIONS,
    amount: CALLS,
  });
  if (r.errors + r.non2xx + r.timeouts > 0) throw new Error(`${bridge.url}: failed calls`);
  return { p50: r.latency.p50, p99: r.latency.p99 };
}

async function main(): Promise<void> {
  const upstream = await startStandIn();
  const dir = mkdtempSync(join(tmpdir(), 'bench-shadow-'));
  const file = join(dir, 'bridge.yaml');
  writeFileSync(
    file,
    `upstreams:\n  - name: new\n    url: ${upstream.url}\n    databases: ["*"]\n    shadow: 1\n`,
  );
  const a = await startBridge(upstream.url);
  const b = await startBridge(upstream.url, { BRIDGE_CONFIG: file });
  try {
    await Promise.all([load(a), load(b)]); // warm-up
    const rows: Array<{
      a: { p50: number; p99: number; cpu: number };
      b: { p50: number; p99: number; cpu: number };
    }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const a0 = cpuSeconds(a.pid);
      const b0 = cpuSeconds(b.pid);
      const [la, lb] = await Promise.all([load(a), load(b)]);
      const row = {
        a: { ...la, cpu: ((cpuSeconds(a.pid) - a0) * 1e6) / CALLS },
        b: { ...lb, cpu: ((cpuSeconds(b.pid) - b0) * 1e6) / CALLS },
      };
      rows.push(row);
      console.log(
        `round ${round + 1}: latency p50 A ${row.a.p50} ms, B ${row.b.p50} ms; p99 A ${row.a.p99} ms, B ${row.b.p99} ms; CPU/call A ${row.a.cpu.toFixed(1)} µs, B ${row.b.cpu.toFixed(1)} µs`,
      );
    }
    const m = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f));
    const metrics = await (await fetch(`${b.url}/_bridge/metrics`)).text();
    const outcomes = [...metrics.matchAll(/^odoo_bridge_shadow_total\{outcome="(\w+)"\} (\d+)$/gm)].map(
      (x) => `${x[1]} ${x[2]}`,
    );
    console.log(
      `\n${PROTOCOL}, ${CONNECTIONS} connections per bridge, ${CALLS} reads per round (medians of ${ROUNDS}): ` +
        `latency p50 A ${m((r) => r.a.p50)} ms, B (shadow 1) ${m((r) => r.b.p50)} ms; p99 A ${m((r) => r.a.p99)} ms, B ${m((r) => r.b.p99)} ms; ` +
        `CPU per call A ${m((r) => r.a.cpu).toFixed(1)} µs, B ${m((r) => r.b.cpu).toFixed(1)} µs (B ÷ A ${(m((r) => r.b.cpu) / m((r) => r.a.cpu)).toFixed(2)}); ` +
        `B's shadow outcomes: ${outcomes.join(', ')}`,
    );
  } finally {
    await Promise.all([a.stop(), b.stop(), upstream.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
