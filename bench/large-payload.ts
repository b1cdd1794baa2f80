/**
 * Large payloads: one attachment read (`ir.attachment` `read([[1]], ['datas'])`) and created
 * (`create([{'name': …, 'datas': …}])`) through the bridge, XML-RPC and JSON-RPC, against the same
 * call made directly to the JSON-2 stand-in, in one run. With BENCH_A, a second build runs beside
 * this one (`B`) and the calls alternate A, B, A, B… so that both see the same moments of the
 * machine.
 *
 *   npm run build && node bench/large-payload.ts
 *   npm run build && BENCH_A=.bench-tmp/before/main.js node bench/large-payload.ts
 *
 * Printed per size, protocol and operation: the median of the wall time; the mean of the bridge's
 * CPU time for the call (read from /proc in 10 ms ticks, hence a mean), and of its own work (that
 * CPU time less what a proxy that only pipes the bytes through spends on the same call: sockets,
 * HTTP) and what that is in MB/s of base64 text; the bridge's peak RSS over two calls. The
 * codecs' own work alone, without sockets, is bench/large-codec.ts'. The direct JSON-2 call, and the same call through the piping
 * proxy, are timed the same way from the same client.
 *
 * Settings (environment): BENCH_A, BENCH_B (default dist/main.js), BENCH_SIZES_MIB (`20,100`),
 * BENCH_REPS (7 per build, protocol and operation), BENCH_OPS (`read,create`), BENCH_PROTOCOLS
 * (`xmlrpc,jsonrpc`).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import {
  cpuSeconds,
  peakRssDuring,
  procStatus,
  startBridge,
  startPlainProxy,
  startStandIn,
  type Child,
} from './procs.ts';
import { attachmentCall, KEY, median } from './small-calls.ts';

const A = process.env['BENCH_A'];
const B = process.env['BENCH_B'] ?? new URL('../dist/main.js', import.meta.url).pathname;
const SIZES = (process.env['BENCH_SIZES_MIB'] ?? '20,100').split(',').map(Number);
const REPS = Number(process.env['BENCH_REPS'] ?? 7);
/** Odoo refuses requests over 128 MiB (werkzeug's max_content_length in Odoo 19), less the call around the text. */
const ODOO_MAX_REQUEST = 127 * 2 ** 20;
const OPS = (process.env['BENCH_OPS'] ?? 'read,create').split(',') as Op[];
const PROTOCOLS = (process.env['BENCH_PROTOCOLS'] ?? 'xmlrpc,jsonrpc').split(',') as Protocol[];

type Protocol = 'xmlrpc' | 'jsonrpc';
type Op = 'read' | 'create';

interface Call {
  path: string;
  body: string;
  contentType: string;
}

/** CPU times are read in 10 ms ticks: their mean over the repetitions is finer than a median. */
function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

function legacyCall(protocol: Protocol, op: Op, datas: string): Call {
  return protocol === 'jsonrpc'
    ? { path: '/jsonrpc', body: attachmentCall(protocol, op, datas), contentType: 'application/json' }
    : { path: '/xmlrpc/2/object', body: attachmentCall(protocol, op, datas), contentType: 'text/xml' };
}

function directCall(op: Op, datas: string): Call {
  const body = JSON.stringify(
    op === 'read' ? { ids: [1], fields: ['datas'] } : { vals_list: [{ name: 'bench.bin', datas }] },
  );
  return { path: `/json/2/ir.attachment/${op}`, body, contentType: 'application/json' };
}

/** One call; its wall time in ms and the length of the answer. */
async function time(base: string, call: Call, bearer = false): Promise<{ ms: number; length: number }> {
  const t = performance.now();
  const res = await request(base + call.path, {
    method: 'POST',
    body: call.body,
    headers: {
      'content-type': call.contentType,
      ...(bearer ? { authorization: `bearer ${KEY}`, 'x-odoo-database': 'bench' } : {}),
    },
  });
  const text = await res.body.text();
  const ms = performance.now() - t;
  if (
    res.statusCode !== 200 ||
    text.startsWith('<?xml') !== call.path.startsWith('/xmlrpc') ||
    /<fault>|"error"/.test(text.slice(0, 200))
  )
    throw new Error(`bad answer to ${call.path}: ${res.statusCode} ${text.slice(0, 800)}`);
  return { ms, length: text.length };
}

async function main(): Promise<void> {
  for (const mib of SIZES) {
    const datas = randomBytes(mib * 1024 * 1024).toString('base64');
    const upstream = await startStandIn(undefined, { STAND_IN_ATTACHMENT_BYTES: String(mib * 1024 * 1024) });
    const limits = {
      BRIDGE_MAX_BODY_BYTES: String(4 * mib * 1024 * 1024),
      BRIDGE_MAX_INFLIGHT_BYTES: String(4 * mib * 1024 * 1024),
    };
    const builds: [string, Child][] = [];
    const proxy = await startPlainProxy(upstream.url, true);
    try {
      for (const [name, main] of A
        ? [
            ['A', A],
            ['B', B],
          ]
        : [['B', B]]) {
        process.env['BENCH_BRIDGE_MAIN'] = main;
        builds.push([name as string, await startBridge(upstream.url, limits)]);
      }
      console.log(
        `## ${mib} MiB attachment (base64: ${(datas.length / 1e6).toFixed(1)} MB), ${REPS} calls each`,
      );
      for (const op of OPS) {
        if (op === 'create' && datas.length > ODOO_MAX_REQUEST) {
          console.log(
            `create: skipped, its request (${(datas.length / 2 ** 20).toFixed(0)} MiB of base64) is over Odoo's own 128 MiB limit`,
          );
          continue;
        }
        const direct = directCall(op, datas);
        for (let i = 0; i < 2; i++) await time(upstream.url, direct, true);
        const directMs: number[] = [];
        for (let i = 0; i < REPS; i++) directMs.push((await time(upstream.url, direct, true)).ms);
        const dm = median(directMs);
        // The floor: the same JSON-2 call through a proxy that only pipes the bytes through.
        for (let i = 0; i < 2; i++) await time(proxy.url, direct, true);
        const proxyMs: number[] = [];
        const proxyCpu: number[] = [];
        for (let i = 0; i < REPS; i++) {
          const c0 = cpuSeconds(proxy.pid);
          proxyMs.push((await time(proxy.url, direct, true)).ms);
          proxyCpu.push((cpuSeconds(proxy.pid) - c0) * 1000);
        }
        const floor = mean(proxyCpu);
        console.log(
          `${op}, direct JSON-2: ${dm.toFixed(0)} ms; through a streaming pass-through proxy: ` +
            `${median(proxyMs).toFixed(0)} ms, proxy CPU ${floor.toFixed(0)} ms`,
        );
        for (const protocol of PROTOCOLS) {
          const call = legacyCall(protocol, op, datas);
          const wall = builds.map((): number[] => []);
          const cpu = builds.map((): number[] => []);
          const peaks: number[] = [];
          const before: number[] = [];
          for (const [, b] of builds) for (let i = 0; i < 2; i++) await time(b.url, call); // warm up
          for (const [k, [, b]] of builds.entries()) {
            before[k] = procStatus(b.pid, 'VmRSS');
            const { peak } = await peakRssDuring(b.pid, async () => {
              for (let i = 0; i < 2; i++) await time(b.url, call);
            });
            peaks[k] = peak;
          }
          for (let i = 0; i < REPS; i++)
            for (const [k, [, b]] of builds.entries()) {
              const c0 = cpuSeconds(b.pid);
              wall[k]?.push((await time(b.url, call)).ms);
              cpu[k]?.push((cpuSeconds(b.pid) - c0) * 1000);
            }
          for (const [k, [name]] of builds.entries()) {
            const w = median(wall[k] ?? []);
            const c = mean(cpu[k] ?? []);
            // The bridge's own work: its CPU beyond what piping the bytes through costs.
            const own = Math.max(c - floor, 1);
            console.log(
              `${op}, ${protocol}, build ${name}: wall ${w.toFixed(0)} ms (${(w / dm).toFixed(2)}× direct), ` +
                `bridge CPU ${c.toFixed(0)} ms, own work ${own.toFixed(0)} ms (${(datas.length / 1e3 / own).toFixed(0)} MB/s, ` +
                `${((100 * own) / dm).toFixed(0)} % of direct), peak RSS ${((peaks[k] ?? NaN) / 2 ** 20).toFixed(0)} MiB ` +
                `(+${(((peaks[k] ?? NaN) - (before[k] ?? NaN)) / 2 ** 20).toFixed(0)} over the ${((before[k] ?? NaN) / 2 ** 20).toFixed(0)} MiB before)`,
            );
          }
        }
      }
    } finally {
      for (const [, b] of builds) await b.stop();
      await proxy.stop();
      await upstream.stop();
    }
  }
}

await main();
