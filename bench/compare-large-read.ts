/**
 * Two builds of the bridge compared on the large read (a 20,000-record res.partner search_read,
 * XML-RPC and JSON-RPC), in one run: both bridges in front of one stand-in, the reads alternated
 * A, B, A, B… so that both see the same moments of the machine. Each read's wall time and the
 * bridge's CPU for it; B ÷ A of the medians.
 *
 *   npm run build && BENCH_A=.bench-tmp/before/main.js npx node bench/compare-large-read.ts
 *
 * Settings (environment): BENCH_A (required), BENCH_B (default dist/main.js), BENCH_RECORDS
 * (20000), BENCH_REPS (15 per build and protocol).
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';
import { request } from 'undici';
import { cpuSeconds, startBridge, startStandIn, type Child } from './procs.ts';
import { jsonExecuteKw, median, xmlExecuteKw } from './small-calls.ts';

const A = process.env['BENCH_A'];
const B = process.env['BENCH_B'] ?? 'dist/main.js';
const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 20_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 15);
const TMP = new URL('../.bench-tmp/', import.meta.url).pathname;

async function read(url: string, body: string, contentType: string): Promise<number> {
  const t = performance.now();
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.includes('<fault>') || text.includes('"error"'))
    throw new Error(`bad answer: ${text.slice(0, 300)}`);
  return performance.now() - t;
}

async function main(): Promise<void> {
  if (!A) throw new Error('BENCH_A: the entry point of the build to compare against');
  mkdirSync(TMP, { recursive: true });
  const path = `${TMP}records-${RECORDS}.json`;
  await promisify(execFile)(
    'python3',
    [new URL('py_marshal.py', import.meta.url).pathname, String(RECORDS), path, '1'],
    {
      maxBuffer: 1 << 20,
    },
  );
  const upstream = await startStandIn(path);
  const bridges: Child[] = [];
  try {
    for (const main of [A, B]) {
      process.env['BENCH_BRIDGE_MAIN'] = main;
      bridges.push(await startBridge(upstream.url));
    }
    const xmlBody = xmlExecuteKw(
      'search_read',
      '<array><data>\n<value><array><data>\n</data></array></value>\n</data></array>',
      '<struct></struct>',
    );
    const jsonBody = jsonExecuteKw('search_read', [[]], {});
    for (const [protocol, suffix, body, type] of [
      ['xmlrpc', '/xmlrpc/2/object', xmlBody, 'text/xml'],
      ['jsonrpc', '/jsonrpc', jsonBody, 'application/json'],
    ] as const) {
      const ms: number[][] = [[], []];
      const cpu: number[][] = [[], []];
      for (const b of bridges) for (let i = 0; i < 3; i++) await read(b.url + suffix, body, type); // warm up
      for (let i = 0; i < REPS; i++)
        for (const [k, b] of bridges.entries()) {
          const c0 = cpuSeconds(b.pid);
          ms[k]?.push(await read(b.url + suffix, body, type));
          cpu[k]?.push((cpuSeconds(b.pid) - c0) * 1000);
        }
      const [ma, mb] = [median(ms[0] ?? []), median(ms[1] ?? [])];
      const [ca, cb] = [median(cpu[0] ?? []), median(cpu[1] ?? [])];
      console.log(
        `${protocol}: ${RECORDS}-record read, medians of ${REPS}: wall A ${ma.toFixed(0)} ms, B ${mb.toFixed(0)} ms (B ÷ A ${(mb / ma).toFixed(3)}); bridge CPU A ${ca.toFixed(0)} ms, B ${cb.toFixed(0)} ms (B ÷ A ${(cb / ca).toFixed(3)})`,
      );
    }
  } finally {
    for (const b of bridges) await b.stop();
    await upstream.stop();
  }
}

await main();
