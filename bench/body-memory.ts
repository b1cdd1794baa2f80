/**
 * What one large verified call holds in memory: a fresh bridge per case (nothing left over from
 * earlier calls), the in-flight budget unbounded, one `create` whose one string is `mib` MiB, and
 * the bridge's peak RSS over its RSS just before. Two kinds of text: base64-like (plain: kept as
 * the bytes it came in, protocol/large-texts.ts) and the same with an `&amp;` (XML-RPC) or `\n`
 * (JSON-RPC) every 1,000 characters (decoded as a string, as any text was before).
 *
 *   npm run build && node bench/body-memory.ts
 *   npm run build && BENCH_A=.bench-tmp/before/main.js node bench/body-memory.ts
 *
 * Settings (environment): BENCH_A (another build, measured the same way after this one), BENCH_B
 * (default dist/main.js), BENCH_SIZES_MIB (`16,32,64,100`).
 */
import { request } from 'undici';
import { peakRssDuring, procStatus, startBridge, startStandIn } from './procs.ts';
import { attachmentCall } from './small-calls.ts';

const B = process.env['BENCH_B'] ?? new URL('../dist/main.js', import.meta.url).pathname;
const A = process.env['BENCH_A'];
const SIZES = (process.env['BENCH_SIZES_MIB'] ?? '16,32,64,100').split(',').map(Number);

function body(protocol: 'xmlrpc' | 'jsonrpc', text: string): string {
  return attachmentCall(protocol, 'create', text);
}

async function post(url: string, payload: string, type: string): Promise<void> {
  const res = await request(url, { method: 'POST', body: payload, headers: { 'content-type': type } });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.includes('<fault>') || text.includes('"error"'))
    throw new Error(`bad answer: ${text.slice(0, 300)}`);
}

async function main(): Promise<void> {
  const upstream = await startStandIn();
  try {
    for (const [name, main] of A
      ? [
          ['B', B],
          ['A', A],
        ]
      : [['B', B]]) {
      process.env['BENCH_BRIDGE_MAIN'] = main;
      for (const protocol of ['xmlrpc', 'jsonrpc'] as const)
        for (const kind of ['plain', 'escaped'] as const)
          for (const mib of SIZES) {
            const n = mib * 2 ** 20;
            let text = 'QUJD'.repeat(n / 4);
            if (kind === 'escaped') {
              const mark = protocol === 'xmlrpc' ? '&amp;' : '\\n';
              text = text.replace(/(.{1000})/g, `$1${mark}`).slice(0, n);
            }
            const payload = body(protocol, text);
            if (protocol === 'jsonrpc' && kind === 'escaped') JSON.parse(payload); // the escapes are JSON's own
            const bridge = await startBridge(upstream.url, {
              BRIDGE_MAX_BODY_BYTES: String(4 * n),
              BRIDGE_MAX_INFLIGHT_BYTES: String(4 * n),
              BRIDGE_LOG_LEVEL: 'info',
            });
            try {
              const url = bridge.url + (protocol === 'xmlrpc' ? '/xmlrpc/2/object' : '/jsonrpc');
              const type = protocol === 'xmlrpc' ? 'text/xml' : 'application/json';
              await post(url, body(protocol, 'small'), type); // warm: the key is verified
              await new Promise((r) => setTimeout(r, 300));
              const before = procStatus(bridge.pid, 'VmRSS');
              const { peak } = await peakRssDuring(bridge.pid, () => post(url, payload, type));
              const grew = (peak - before) / 2 ** 20;
              console.log(
                `build ${name}, ${protocol}, ${kind} ${mib} MiB text (body ${(payload.length / 2 ** 20).toFixed(0)} MiB): ` +
                  `RSS ${(before / 2 ** 20).toFixed(0)} → peak ${(peak / 2 ** 20).toFixed(0)} MiB, +${grew.toFixed(0)} MiB (${(grew / (payload.length / 2 ** 20)).toFixed(1)}× the body)`,
              );
            } finally {
              await bridge.stop();
            }
          }
    }
  } finally {
    await upstream.stop();
  }
}

await main();
