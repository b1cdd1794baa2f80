/**
 * Small calls: a one-record `read` (`execute_kw res.partner read [[7]] {fields: [name]}`) at
 * concurrency 1, 16, 64 and 256, through the bridge over XML-RPC and over JSON-RPC, against a
 * plain Node pass-through proxy in front of the same upstream stand-in, and against the stand-in
 * directly; all measured in the same run, with autocannon (requests/s, p50 and p99 latency, and
 * the serving process's CPU time per call), each counted after a one-second warm-up on the same
 * connections. The bridge-to-proxy throughput ratio is taken within each round (runs seconds
 * apart) and its median over the rounds reported: this machine's speed drifts too much between
 * minutes for a ratio of medians. The bridge's peak RSS (warm-up included) is read during each of
 * its runs.
 *
 * Run alone: `npx node bench/small-calls.ts` (npm run bench runs it too). Settings (environment):
 * BENCH_SECONDS (each run, default 2, after a 1 s warm-up), BENCH_ROUNDS (runs per figure,
 * default 7), BENCH_CONCURRENCY (e.g. `16` or `1,256`), BENCH_TARGETS (e.g. `xmlrpc,proxy`),
 * BENCH_NODE_ARGS and BENCH_BRIDGE_MAIN (how the bridge is run: bench/procs.ts).
 */
import autocannon from 'autocannon';
import { request } from 'undici';
import {
  cpuSeconds,
  peakRssDuring,
  startBridge,
  startPlainProxy,
  startStandIn,
  type Child,
} from './procs.ts';

export const KEY = 'b'.repeat(40);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 2);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,16,64,256').split(',').map(Number);
const TARGET_NAMES = (process.env['BENCH_TARGETS'] ?? 'direct,proxy,xmlrpc,jsonrpc').split(',');

export type TargetName = 'direct' | 'proxy' | 'xmlrpc' | 'jsonrpc';

interface Target {
  name: TargetName;
  label: string;
  url: string;
  body: string;
  headers: Record<string, string>;
  /** A fragment of the right answer (checked once before the runs). */
  expect: string;
}

export interface LoadResult {
  rps: number;
  /** CPU time (user + system) of the process serving the target, per call answered, in µs. */
  cpuUs: number;
  p50: number;
  p99: number;
  errors: number;
  calls: number;
}

export interface MatrixRow {
  connections: number;
  results: Partial<Record<TargetName, LoadResult>>;
  /**
   * The bridge's requests/s ÷ the plain proxy's, round by round (each bridge run over the proxy run
   * of the same round, a few seconds apart), in round order.
   */
  ratios: Partial<Record<'xmlrpc' | 'jsonrpc', number[]>>;
  /** The bridge's peak RSS (bytes) during its runs at this concurrency, by protocol. */
  peakRss: Partial<Record<'xmlrpc' | 'jsonrpc', number>>;
}

/** An XML-RPC `execute_kw` call as Python's xmlrpc.client writes it. */
export function xmlExecuteKw(method: string, args: string, kw: string, model = 'res.partner'): string {
  return (
    `<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n` +
    ['bench', '<int>2</int>', KEY, model, method]
      .map((v) => `<param>\n<value>${v.startsWith('<') ? v : `<string>${v}</string>`}</value>\n</param>\n`)
      .join('') +
    `<param>\n<value>${args}</value>\n</param>\n<param>\n<value>${kw}</value>\n</param>\n</params>\n</methodCall>\n`
  );
}

/** A JSON-RPC `execute_kw` call as Odoo's documentation writes it. */
export function jsonExecuteKw(
  method: string,
  args: unknown[],
  kw: Record<string, unknown>,
  model = 'res.partner',
): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    method: 'call',
    id: 1,
    params: {
      service: 'object',
      method: 'execute_kw',
      args: ['bench', 2, KEY, model, method, args, kw],
    },
  });
}

/**
 * `ir.attachment` `create([{'name': 'bench.bin', 'datas': datas}])` or `read([[1]], ['datas'])`,
 * over XML-RPC (as xmlrpc.client writes it) or JSON-RPC: the large-payload benchmarks' calls.
 */
export function attachmentCall(protocol: 'xmlrpc' | 'jsonrpc', op: 'read' | 'create', datas = ''): string {
  if (protocol === 'jsonrpc')
    return jsonExecuteKw(
      op,
      op === 'read' ? [[1], ['datas']] : [{ name: 'bench.bin', datas }],
      {},
      'ir.attachment',
    );
  const args =
    op === 'read'
      ? '<array><data>\n<value><array><data>\n<value><int>1</int></value>\n</data></array></value>\n' +
        '<value><array><data>\n<value><string>datas</string></value>\n</data></array></value>\n</data></array>'
      : '<array><data>\n<value><struct>\n<member>\n<name>name</name>\n<value><string>bench.bin</string></value>\n</member>\n' +
        `<member>\n<name>datas</name>\n<value><string>${datas}</string></value>\n</member>\n</struct></value>\n</data></array>`;
  return xmlExecuteKw(op, args, '<struct>\n</struct>', 'ir.attachment');
}

/** The small call: `execute_kw(db, 2, key, 'res.partner', 'read', [[7]], {'fields': ['name']})`, as xmlrpc.client writes it. */
export const READ_XML = xmlExecuteKw(
  'read',
  '<array><data>\n<value><array><data>\n<value><int>7</int></value>\n</data></array></value>\n</data></array>',
  '<struct>\n<member>\n<name>fields</name>\n<value><array><data>\n<value><string>name</string></value>\n</data></array></value>\n</member>\n</struct>',
);
/** The same call over JSON-RPC. */
export const READ_JSON = jsonExecuteKw('read', [[7]], { fields: ['name'] });

function targets(upstream: string, proxy: string, bridge: string): Target[] {
  const j2 = {
    'content-type': 'application/json',
    authorization: `bearer ${KEY}`,
    'x-odoo-database': 'bench',
  };
  const j2Body = '{"ids": [7], "fields": ["name"]}';
  const all: Target[] = [
    {
      name: 'direct',
      label: 'JSON-2 directly (stand-in)',
      url: `${upstream}/json/2/res.partner/read`,
      body: j2Body,
      headers: j2,
      expect: '"Partner 7',
    },
    {
      name: 'proxy',
      label: 'plain Node proxy → JSON-2',
      url: `${proxy}/json/2/res.partner/read`,
      body: j2Body,
      headers: j2,
      expect: '"Partner 7',
    },
    {
      name: 'xmlrpc',
      label: 'bridge, XML-RPC',
      url: `${bridge}/xmlrpc/2/object`,
      body: READ_XML,
      headers: { 'content-type': 'text/xml', 'user-agent': 'Python-xmlrpc/3.11' },
      expect: '<string>Partner 7 &amp; Co &lt;7&gt;</string>',
    },
    {
      name: 'jsonrpc',
      label: 'bridge, JSON-RPC',
      url: `${bridge}/jsonrpc`,
      body: READ_JSON,
      headers: { 'content-type': 'application/json' },
      expect: '"result": [{"id": 7, "name": "Partner 7',
    },
  ];
  return all.filter((t) => TARGET_NAMES.includes(t.name));
}

async function check(t: Target): Promise<void> {
  const res = await request(t.url, { method: 'POST', body: t.body, headers: t.headers });
  const text = await res.body.text();
  if (res.statusCode !== 200 || !text.includes(t.expect))
    throw new Error(`${t.label}: unexpected answer ${res.statusCode}: ${text.slice(0, 300)}`);
}

/**
 * One autocannon run of `warmup + seconds` on the same connections; only what is answered after
 * the warm-up counts (requests/s, latency from each response: autocannon's own histogram keeps
 * whole milliseconds, too coarse at low concurrency), and the serving process's CPU time over the
 * same window. The warm-up takes in opening the connections and growing the servers' pools and
 * heaps to the concurrency.
 */
async function load(
  t: Target,
  connections: number,
  seconds: number,
  pid: number,
  warmup = 1,
): Promise<LoadResult> {
  const times: number[] = [];
  let counting = false;
  let cpu0 = NaN;
  let t0 = NaN;
  const timer = setTimeout(() => {
    counting = true;
    cpu0 = cpuSeconds(pid);
    t0 = performance.now();
  }, warmup * 1000);
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: t.url,
        method: 'POST',
        body: t.body,
        headers: t.headers,
        connections,
        duration: warmup + seconds,
      },
      (err: unknown, result: autocannon.Result) => (err ? reject(err as Error) : resolve(result)),
    );
    instance.on('response', (_client, status: number, _bytes: number, ms: number) => {
      if (counting && status === 200) times.push(ms);
    });
  });
  clearTimeout(timer);
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const calls = times.length;
  times.sort((a, b) => a - b);
  const pct = (p: number): number => times[Math.min(calls - 1, Math.floor((calls * p) / 100))] ?? NaN;
  return {
    rps: calls / elapsed,
    cpuUs: (cpu * 1e6) / calls,
    p50: pct(50),
    p99: pct(99),
    errors: r.errors + r.non2xx + r.timeouts,
    calls,
  };
}

/** The median of `xs` (the mean of the middle two of an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  if (s.length === 0) return NaN;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A row's bridge ÷ proxy requests/s: the median of the rounds' ratios (undefined without a proxy). */
export function rpsRatio(row: MatrixRow, proto: 'xmlrpc' | 'jsonrpc'): number | undefined {
  const r = row.ratios[proto];
  return r && r.length > 0 ? median(r) : undefined;
}

function medianResult(results: LoadResult[]): LoadResult {
  const med = (f: (r: LoadResult) => number): number => median(results.map(f));
  return {
    rps: med((r) => r.rps),
    cpuUs: med((r) => r.cpuUs),
    p50: med((r) => r.p50),
    p99: med((r) => r.p99),
    errors: results.reduce((n, r) => n + r.errors, 0),
    calls: results.reduce((n, r) => n + r.calls, 0),
  };
}

/** One XML-RPC small-call run at `connections` on `bridge`, and the bridge's peak RSS meanwhile. */
export async function xmlRpcLoadPeak(
  upstream: Child,
  bridge: Child,
  connections: number,
  seconds = SECONDS,
): Promise<{ result: LoadResult; peak: number }> {
  const t = targets(upstream.url, bridge.url, bridge.url).find((x) => x.name === 'xmlrpc');
  if (!t) throw new Error('no xmlrpc target');
  return peakRssDuring(bridge.pid, () => load(t, connections, seconds, bridge.pid));
}

/** Runs the matrix with the processes given (the bridge's pid for its memory). */
export async function smallCallMatrix(
  upstream: Child,
  proxy: Child,
  bridge: Child,
  seconds = SECONDS,
): Promise<MatrixRow[]> {
  const list = targets(upstream.url, proxy.url, bridge.url);
  for (const t of list) await check(t);
  const server: Record<TargetName, Child> = { direct: upstream, proxy, xmlrpc: bridge, jsonrpc: bridge };
  // Warm-up: JIT, the bridge's key cache, keep-alive pools.
  for (const t of list) await load(t, 16, 1, server[t.name].pid, 0);
  const rows: MatrixRow[] = [];
  for (const connections of CONCURRENCY) {
    const row: MatrixRow = { connections, results: {}, ratios: {}, peakRss: {} };
    // ROUNDS rounds, the targets one after the other in each: what the machine's other work costs
    // is spread over all targets, and the median of each figure is kept. This machine's speed
    // drifts (by up to 2× within minutes, proxy included), so the bridge-to-proxy ratio is taken
    // within each round, from runs seconds apart, and its median over the rounds is the figure.
    const runs = new Map<TargetName, LoadResult[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const rps: Partial<Record<TargetName, number>> = {};
      for (const t of list) {
        const pid = server[t.name].pid;
        const { result, peak } = await peakRssDuring(pid, () => load(t, connections, seconds, pid));
        runs.set(t.name, [...(runs.get(t.name) ?? []), result]);
        rps[t.name] = result.rps;
        if (t.name === 'xmlrpc' || t.name === 'jsonrpc')
          row.peakRss[t.name] = Math.max(row.peakRss[t.name] ?? 0, peak);
      }
      for (const name of ['xmlrpc', 'jsonrpc'] as const) {
        const b = rps[name];
        if (b !== undefined && rps.proxy) (row.ratios[name] ??= []).push(b / rps.proxy);
      }
    }
    for (const [name, results] of runs) row.results[name] = medianResult(results);
    rows.push(row);
  }
  return rows;
}

const fmt = (n: number | undefined, d = 0): string =>
  n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d);
export const mib = (bytes: number | undefined): string =>
  fmt(bytes === undefined ? undefined : bytes / 2 ** 20);

/** The matrix as a markdown table, ratios to the plain proxy in the same run. */
export function printMatrix(rows: MatrixRow[], seconds = SECONDS): void {
  console.log(
    `\n## Small calls: one-record read; per figure the median of ${ROUNDS} runs of ${seconds} s (after 1 s of warm-up), the targets taking turns; the bridge's req/s ÷ proxy: the median of the ${ROUNDS} rounds' own ratios`,
  );
  console.log(
    '| connections | target | req/s | p50 ms | p99 ms | errors | CPU µs/call | req/s ÷ proxy | p99 ÷ proxy | CPU ÷ proxy |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  const labels: Record<TargetName, string> = {
    direct: 'JSON-2 directly (stand-in)',
    proxy: 'plain Node proxy → JSON-2',
    xmlrpc: 'bridge, XML-RPC execute_kw read',
    jsonrpc: 'bridge, JSON-RPC execute_kw read',
  };
  for (const row of rows) {
    const proxy = row.results.proxy;
    for (const name of ['direct', 'proxy', 'xmlrpc', 'jsonrpc'] as const) {
      const r = row.results[name];
      if (!r) continue;
      const ratio = (f: (x: LoadResult) => number): string => (proxy ? fmt(f(r) / f(proxy), 2) : '—');
      const rps = name === 'xmlrpc' || name === 'jsonrpc' ? fmt(rpsRatio(row, name), 2) : ratio((x) => x.rps);
      console.log(
        `| ${row.connections} | ${labels[name]} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${r.errors} | ${fmt(r.cpuUs)} | ${rps} | ${ratio((x) => x.p99)} | ${ratio((x) => x.cpuUs)} |`,
      );
    }
  }
  console.log(
    "\nbridge ÷ plain proxy, requests/s (target ≥ 0.60): the median of the rounds' ratios, then each round's",
  );
  for (const row of rows) {
    const show = (proto: 'xmlrpc' | 'jsonrpc'): string => {
      const r = row.ratios[proto];
      return r && r.length > 0
        ? `${fmt(rpsRatio(row, proto), 2)} (${r.map((x) => fmt(x, 2)).join(' ')})`
        : '—';
    };
    console.log(
      `  ${String(row.connections).padStart(3)} connections: XML-RPC ${show('xmlrpc')}, JSON-RPC ${show('jsonrpc')}`,
    );
  }
}

async function main(): Promise<void> {
  console.log(`odoo-rpc-bridge small-call benchmark — node ${process.version}`);
  const upstream = await startStandIn();
  const proxy = await startPlainProxy(upstream.url);
  const bridge = await startBridge(upstream.url);
  try {
    const rows = await smallCallMatrix(upstream, proxy, bridge);
    printMatrix(rows);
    for (const row of rows)
      if (row.peakRss.xmlrpc !== undefined || row.peakRss.jsonrpc !== undefined)
        console.log(
          `bridge peak RSS at ${row.connections} connections: XML-RPC ${mib(row.peakRss.xmlrpc)} MiB, JSON-RPC ${mib(row.peakRss.jsonrpc)} MiB`,
        );
  } finally {
    await Promise.all([bridge.stop(), proxy.stop(), upstream.stop()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
