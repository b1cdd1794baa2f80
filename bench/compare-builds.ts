/**
 * Two builds of the bridge compared on CPU time per small call, both loaded *at the same time*:
 * one stand-in, two bridges, two autocannon instances in this process (BENCH_CONNECTIONS each),
 * a fixed number of calls per bridge per round. Each round gives the ratio B ÷ A of the two
 * bridges' CPU per call (user + system, /proc/<pid>/stat); both saw the same moment's contention,
 * which runs one after the other do not (on this project's shared machines, the same build against
 * itself, alternating runs: 0.81 and 0.94; loaded at once: 1.01, rounds 0.87–1.10). A difference
 * under about 2 % is still not seen. docs/performance-notes.md, eighth round.
 *
 * Usage (build B defaults to this checkout's dist/; copy a build aside under .bench-tmp/ so that
 * its imports resolve):
 *   npm run build && cp -r dist .bench-tmp/before   # then change, and npm run build again
 *   BENCH_A=.bench-tmp/before/main.js npx node bench/compare-builds.ts
 * Settings (environment): BENCH_A (required), BENCH_B (default dist/main.js), BENCH_PROTOCOL
 * (xmlrpc or jsonrpc, default xmlrpc), BENCH_CONNECTIONS (per bridge, default 32), BENCH_CALLS (per
 * bridge per round, default 20000), BENCH_ROUNDS (default 8), BENCH_NODE_ARGS (both bridges'
 * node flags: bench/procs.ts), BENCH_B_ENV (variables for bridge B only, `NAME=value;NAME=value`:
 * the same build with a feature turned on, e.g. OpenTelemetry; a piece without `=` is an error).
 */
import autocannon from 'autocannon';
import { cpuSeconds, startBridge, startStandIn, type Child } from './procs.ts';
import { median, READ_JSON, READ_XML } from './small-calls.ts';

const A = process.env['BENCH_A'];
const B = process.env['BENCH_B'] ?? 'dist/main.js';
const PROTOCOL = process.env['BENCH_PROTOCOL'] ?? 'xmlrpc';
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const CALLS = Number(process.env['BENCH_CALLS'] ?? 20000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8);
const B_ENV: Record<string, string> = Object.fromEntries(
  (process.env['BENCH_B_ENV'] ?? '')
    .split(';')
    .map((kv) => kv.trim())
    .filter((kv) => kv !== '')
    .map((kv) => {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`BENCH_B_ENV: ${JSON.stringify(kv)} is not NAME=value`);
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
);

const xml = PROTOCOL === 'xmlrpc';
const path = xml ? '/xmlrpc/2/object' : '/jsonrpc';
const body = xml ? READ_XML : READ_JSON;
const headers = { 'content-type': xml ? 'text/xml' : 'application/json' };

async function load(bridge: Child, calls: number): Promise<void> {
  const r = await autocannon({
    url: bridge.url + path,
    method: 'POST',
    body,
    headers,
    connections: CONNECTIONS,
    amount: calls,
  });
  if (r.errors + r.non2xx + r.timeouts > 0)
    throw new Error(`${bridge.url}: ${r.errors + r.non2xx + r.timeouts} failed calls`);
}

async function main(): Promise<void> {
  if (!A)
    throw new Error(
      'BENCH_A: the entry point of the build to compare against (e.g. .bench-tmp/before/main.js)',
    );
  const upstream = await startStandIn();
  const bridges: Child[] = [];
  try {
    for (const [main, env] of [
      [A, {}],
      [B, B_ENV],
    ] as const) {
      process.env['BENCH_BRIDGE_MAIN'] = main;
      bridges.push(await startBridge(upstream.url, env));
    }
    const [a, b] = bridges as [Child, Child];
    await Promise.all([load(a, CALLS), load(b, CALLS)]); // warm-up: JIT, key cache, pools
    const cpu: { a: number[]; b: number[] } = { a: [], b: [] };
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const a0 = cpuSeconds(a.pid);
      const b0 = cpuSeconds(b.pid);
      await Promise.all([load(a, CALLS), load(b, CALLS)]);
      const au = ((cpuSeconds(a.pid) - a0) * 1e6) / CALLS;
      const bu = ((cpuSeconds(b.pid) - b0) * 1e6) / CALLS;
      cpu.a.push(au);
      cpu.b.push(bu);
      ratios.push(bu / au);
      console.log(
        `round ${round + 1}: A ${au.toFixed(1)} µs/call, B ${bu.toFixed(1)} µs/call, B ÷ A ${(bu / au).toFixed(3)}`,
      );
    }
    console.log(
      `\n${PROTOCOL}, ${CONNECTIONS} connections per bridge, ${CALLS} calls per round: CPU per call A ${median(cpu.a).toFixed(1)} µs, B ${median(cpu.b).toFixed(1)} µs (medians); B ÷ A ${median(ratios).toFixed(3)} (the median of the rounds' ratios, ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    );
  } finally {
    await Promise.all([...bridges.map((b) => b.stop()), upstream.stop()]);
  }
}

await main();
