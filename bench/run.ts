/**
 * End-to-end benchmark of the bridge (npm run bench). In one run, on this machine:
 *
 * 1. large read: a 20,000-record res.partner search_read (10 fields) through the bridge over
 *    XML-RPC and JSON-RPC. The bridge's own time is (time through the bridge) − (time of the same
 *    JSON-2 call made directly), compared with CPython's `xmlrpc.client.dumps` of the same records
 *    (the marshalling legacy Odoo itself does for that answer) and, added to real Odoo 19's JSON-2
 *    time, with real Odoo 19's own legacy endpoints (reference figures below).
 * 2. small calls: a one-record `read` at concurrency 1, 16, 64 and 256 through the bridge
 *    (XML-RPC, JSON-RPC), a plain Node pass-through proxy and the upstream directly
 *    (bench/small-calls.ts), on a second, fresh bridge process.
 * 3. memory: the bridge's peak RSS during the large reads, during the 256-connection runs, and
 *    during 256 concurrent calls on the first bridge right after its large reads.
 *
 * Each server is its own process, as in production: the bridge (run as the image runs it,
 * `MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=100
 * dist/main.js`, default settings,
 * info-level logging: one line per call), the plain proxy, and the JSON-2 upstream stand-in,
 * which answers recorded JSON-2 texts from memory (bench/stand-in.ts).
 * Settings (environment): BENCH_RECORDS (20000), BENCH_REPS (7), and those of
 * bench/small-calls.ts and bench/procs.ts.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { request } from 'undici';
import { peakRssDuring, startBridge, startPlainProxy, startStandIn } from './procs.ts';
import {
  KEY,
  jsonExecuteKw,
  median,
  mib,
  printMatrix,
  rpsRatio,
  smallCallMatrix,
  xmlExecuteKw,
  xmlRpcLoadPeak,
  type MatrixRow,
} from './small-calls.ts';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 20_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 7);
const TMP = new URL('../.bench-tmp/', import.meta.url).pathname;
const RSS_TARGET = 200e6;

/**
 * Real Odoo 19 on a 2-core machine (issue 7): 20k × 10-field search_read and a one-record read,
 * through its own legacy endpoints and through JSON-2.
 */
const ODOO19 = { largeXmlRpc: 1208, largeJsonRpc: 469, largeJson2: 291, readXmlRpc: 9.0, readJson2: 6.7 };

const fmt = (n: number, d = 1): string => n.toFixed(d);
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');

async function pythonDumps(): Promise<{
  dumps_ms: number[];
  xml_bytes: number;
  json_bytes: number;
  path: string;
}> {
  mkdirSync(TMP, { recursive: true });
  const path = `${TMP}records-${RECORDS}.json`;
  const { stdout } = await promisify(execFile)(
    'python3',
    [new URL('py_marshal.py', import.meta.url).pathname, String(RECORDS), path, String(REPS)],
    { maxBuffer: 1 << 20 },
  );
  return { ...(JSON.parse(stdout) as { dumps_ms: number[]; xml_bytes: number; json_bytes: number }), path };
}

async function timePost(
  url: string,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const res = await request(url, {
    method: 'POST',
    body,
    headers: { 'content-type': contentType, ...headers },
  });
  const text = await res.body.text();
  const ms = performance.now() - t;
  if (res.statusCode !== 200 || text.includes('<fault>') || text.includes('"error"'))
    throw new Error(`bad answer: ${text.slice(0, 300)}`);
  return { ms, bytes: Buffer.byteLength(text) };
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `odoo-rpc-bridge benchmark — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} at start, ${RECORDS} records, ${REPS} repetitions`,
  );
  const py = await pythonDumps();
  const upstream = await startStandIn(py.path);
  const bridge = await startBridge(upstream.url);
  let fresh: Awaited<ReturnType<typeof startBridge>> | undefined;
  const proxy = await startPlainProxy(upstream.url);
  try {
    // ---------------------------------------------------------------------------------------
    // Large read
    const direct = `${upstream.url}/json/2/res.partner/search_read`;
    const j2Headers = { authorization: `bearer ${KEY}`, 'x-odoo-database': 'bench' };
    const j2Body = '{"domain": [], "fields": ["name"]}';
    const xmlBody = xmlExecuteKw(
      'search_read',
      '<array><data>\n<value><array><data>\n</data></array></value>\n</data></array>',
      '<struct></struct>',
    );
    const jsonBody = jsonExecuteKw('search_read', [[]], {});
    // Warm up (key cache, JIT, keep-alive).
    for (let i = 0; i < 3; i++) {
      await timePost(direct, j2Body, 'application/json', j2Headers);
      await timePost(`${bridge.url}/xmlrpc/2/object`, xmlBody, 'text/xml');
      await timePost(`${bridge.url}/jsonrpc`, jsonBody, 'application/json');
    }
    const d: number[] = [];
    for (let i = 0; i < REPS; i++) d.push((await timePost(direct, j2Body, 'application/json', j2Headers)).ms);
    let xmlBytes = 0;
    const xml = await peakRssDuring(bridge.pid, async () => {
      const x: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const r = await timePost(`${bridge.url}/xmlrpc/2/object`, xmlBody, 'text/xml');
        x.push(r.ms);
        xmlBytes = r.bytes;
      }
      return x;
    });
    const json = await peakRssDuring(bridge.pid, async () => {
      const j: number[] = [];
      for (let i = 0; i < REPS; i++)
        j.push((await timePost(`${bridge.url}/jsonrpc`, jsonBody, 'application/json')).ms);
      return j;
    });
    const dumps = median(py.dumps_ms);
    const directMs = median(d);
    const xmlOwn = median(xml.result) - directMs;
    const jsonOwn = median(json.result) - directMs;
    console.log(
      '\n## Large read: search_read of %d records (JSON %s MB, XML %s MB)',
      RECORDS,
      fmt(py.json_bytes / 1e6, 2),
      fmt(xmlBytes / 1e6, 2),
    );
    console.log('| measure | median ms |');
    console.log('|---|---|');
    console.log(`| JSON-2 call made directly (the baseline) | ${fmt(directMs)} |`);
    console.log(`| through the bridge, XML-RPC | ${fmt(median(xml.result))} |`);
    console.log(`| through the bridge, JSON-RPC | ${fmt(median(json.result))} |`);
    console.log(`| bridge's own time, XML-RPC (bridge − direct) | ${fmt(xmlOwn)} |`);
    console.log(`| bridge's own time, JSON-RPC (bridge − direct) | ${fmt(jsonOwn)} |`);
    console.log(`| CPython xmlrpc.client.dumps of the same records | ${fmt(dumps)} |`);
    console.log(`\nratio bridge XML-RPC own time / CPython dumps: ${fmt(xmlOwn / dumps, 2)} (target ≤ 1.00)`);
    console.log(`bridge peak RSS: XML-RPC ${mib(xml.peak)} MiB, JSON-RPC ${mib(json.peak)} MiB`);

    // ---------------------------------------------------------------------------------------
    // Small calls
    // Memory at 256 connections on the bridge that has just served the large reads (what they
    // left behind included), then the small calls on a fresh bridge, so that neither part's
    // figures carry the other's garbage.
    const afterLarge = await xmlRpcLoadPeak(upstream, bridge, 256);
    console.log(
      `bridge peak RSS during 256 concurrent XML-RPC calls right after the large reads (same process): ${mib(afterLarge.peak)} MiB`,
    );
    await bridge.stop();
    fresh = await startBridge(upstream.url);
    const rows = await smallCallMatrix(upstream, proxy, fresh);
    printMatrix(rows);

    // ---------------------------------------------------------------------------------------
    // Summary: the table of BENCHMARKS.md
    summary(
      {
        directMs,
        xmlOwn,
        jsonOwn,
        dumps,
        xmlPeak: xml.peak,
        jsonPeak: json.peak,
        afterLargePeak: afterLarge.peak,
      },
      rows,
    );
    console.log(
      `\n(load average at the end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}; ` + `${fmt((performance.now() - started) / 1000, 0)} s)`,
    );
  } finally {
    await Promise.all([bridge.stop(), fresh?.stop(), proxy.stop(), upstream.stop()]);
  }
}

function summary(
  large: {
    directMs: number;
    xmlOwn: number;
    jsonOwn: number;
    dumps: number;
    xmlPeak: number;
    jsonPeak: number;
    afterLargePeak: number;
  },
  rows: MatrixRow[],
): void {
  const cmd = '`npm run bench`';
  const out: string[] = ['| scenario | bridge | reference | ratio | command |', '|---|---|---|---|---|'];
  const add = (scenario: string, bridge: string, reference: string, ratio: string): void => {
    out.push(`| ${scenario} | ${bridge} | ${reference} | ${ratio} | ${cmd} |`);
  };
  add(
    `${thousands(RECORDS)}-record search_read, bridge's own time on XML-RPC (bridge − direct JSON-2)`,
    `${fmt(large.xmlOwn, 0)} ms`,
    `CPython \`xmlrpc.client.dumps\` of the same records: ${fmt(large.dumps, 0)} ms`,
    `${fmt(large.xmlOwn / large.dumps, 2)} (target ≤ 1)`,
  );
  add('same, JSON-RPC', `${fmt(large.jsonOwn, 0)} ms`, '—', '—');
  add(
    "same, in front of Odoo 19: Odoo's JSON-2 time (291 ms) + the bridge's own time, XML-RPC",
    `${thousands(ODOO19.largeJson2 + large.xmlOwn)} ms`,
    `Odoo 19's own /xmlrpc/2: ${thousands(ODOO19.largeXmlRpc)} ms`,
    fmt((ODOO19.largeJson2 + large.xmlOwn) / ODOO19.largeXmlRpc, 2),
  );
  add(
    'same, JSON-RPC',
    `${thousands(ODOO19.largeJson2 + large.jsonOwn)} ms`,
    `Odoo 19's own /jsonrpc: ${thousands(ODOO19.largeJsonRpc)} ms`,
    fmt((ODOO19.largeJson2 + large.jsonOwn) / ODOO19.largeJsonRpc, 2),
  );
  const one = rows.find((r) => r.connections === 1);
  const oneX = one?.results.xmlrpc;
  const oneD = one?.results.direct;
  if (oneX && oneD) {
    const own = oneX.p50 - oneD.p50;
    add(
      "one-record read in front of Odoo 19: Odoo's JSON-2 time (6.7 ms) + the bridge's own latency (p50 bridge − direct, 1 connection), XML-RPC",
      `${fmt(ODOO19.readJson2 + own, 1)} ms`,
      `Odoo 19's own /xmlrpc/2: ${fmt(ODOO19.readXmlRpc, 1)} ms`,
      fmt((ODOO19.readJson2 + own) / ODOO19.readXmlRpc, 2),
    );
  }
  for (const row of rows) {
    const p = row.results.proxy;
    for (const proto of ['xmlrpc', 'jsonrpc'] as const) {
      const b = row.results[proto];
      if (!p || !b) continue;
      const name = proto === 'xmlrpc' ? 'XML-RPC' : 'JSON-RPC';
      add(
        `one-record read, ${name}, ${row.connections} connection${row.connections > 1 ? 's' : ''}: requests/s`,
        thousands(b.rps),
        `plain Node proxy: ${thousands(p.rps)}`,
        `${fmt(rpsRatio(row, proto) ?? NaN, 2)} (target ≥ 0.6; rounds ${(row.ratios[proto] ?? []).map((x) => fmt(x, 2)).join(' ')})`,
      );
      add(
        `same, p99 latency`,
        `${fmt(b.p99, 1)} ms`,
        `plain Node proxy: ${fmt(p.p99, 1)} ms`,
        fmt(b.p99 / p.p99, 2),
      );
    }
  }
  const peak = (bytes: number): string => `${fmt(bytes / 1e6, 0)} MB`;
  add(
    `bridge peak RSS during the ${thousands(RECORDS)}-record read, XML-RPC / JSON-RPC`,
    `${peak(large.xmlPeak)} / ${peak(large.jsonPeak)}`,
    'target < 200 MB',
    `${fmt(large.xmlPeak / RSS_TARGET, 2)} / ${fmt(large.jsonPeak / RSS_TARGET, 2)}`,
  );
  const top = rows.find((r) => r.connections === 256) ?? rows[rows.length - 1];
  if (top?.peakRss.xmlrpc !== undefined && top.peakRss.jsonrpc !== undefined)
    add(
      `bridge peak RSS during ${top.connections} concurrent calls, XML-RPC / JSON-RPC`,
      `${peak(top.peakRss.xmlrpc)} / ${peak(top.peakRss.jsonrpc)}`,
      'target < 200 MB',
      `${fmt(top.peakRss.xmlrpc / RSS_TARGET, 2)} / ${fmt(top.peakRss.jsonrpc / RSS_TARGET, 2)}`,
    );
  add(
    'same, XML-RPC, on the bridge that had just served the large reads (what they left behind included)',
    peak(large.afterLargePeak),
    'target < 200 MB',
    fmt(large.afterLargePeak / RSS_TARGET, 2),
  );
  console.log('\n## Summary\n');
  console.log(out.join('\n'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
