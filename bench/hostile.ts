/**
 * What hostile clients cost the bridge (issue 17), measured on a bridge process run as the image
 * runs it, in front of the JSON-2 stand-in (which refuses keys starting with `refused-`):
 *
 * 1. float: an XML-RPC `<double>` of 80,000 digits ending in `x`, unauthenticated: the time to its
 *    fault, and the slowest `/_bridge/livez` answer while it is served (polled every ms).
 * 2. memory: 4 × execute_kw with a wrong key and one 100 MiB `<string>`, at once: the bridge's
 *    peak RSS over its RSS just before; then 6 such calls with a good key, within the default
 *    in-flight budget: how many were served, how many told to retry, and the peak RSS.
 * 3. guesses: 40 parallel authenticate('bench', 'nobodyN', key) from one address: how many were
 *    checked (the stand-in's 401s), how many throttled.
 * 4. flood: a legitimate caller (another address, a verified key, one read at a time) alone, then
 *    during a flood of guesses on 1,000 connections from another process: its median and p99.
 *
 *   npm run build && node bench/hostile.ts
 *
 * Settings (environment): BENCH_FLOOD_SECONDS (10), BENCH_BIG_MIB (100), and bench/procs.ts's.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import autocannon from 'autocannon';
import { peakRssDuring, procStatus, startBridge, startStandIn, type Child } from './procs.ts';
import { KEY, median, mib } from './small-calls.ts';

const FLOOD_SECONDS = Number(process.env['BENCH_FLOOD_SECONDS'] ?? 10);
const BIG_MIB = Number(process.env['BENCH_BIG_MIB'] ?? 100);

function xmlCall(method: string, params: string[]): string {
  const values = params.map(
    (p) => `<param><value>${p.startsWith('<') ? p : `<string>${p}</string>`}</value></param>`,
  );
  return `<?xml version='1.0'?>\n<methodCall>\n<methodName>${method}</methodName>\n<params>\n${values.join('\n')}\n</params>\n</methodCall>\n`;
}

interface Posted {
  ms: number;
  body: string;
}

/** POSTs `head` + `size` bytes of 'A' + `tail`, streamed; answers the time to the whole answer. */
function post(url: string, head: string, size = 0, tail = '', localAddress?: string): Promise<Posted> {
  const started = performance.now();
  const chunk = Buffer.alloc(64 * 1024, 'A');
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'text/xml',
        'content-length': String(Buffer.byteLength(head) + size + Buffer.byteLength(tail)),
      },
      ...(localAddress ? { localAddress } : {}),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ ms: performance.now() - started, body: Buffer.concat(parts).toString() }),
      );
    });
    let left = size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once('drain', pump);
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
}

async function livezWhile<T>(
  bridge: Child,
  work: () => Promise<T>,
): Promise<{ result: T; slowest: number; polls: number }> {
  let stop = false;
  let slowest = 0;
  let polls = 0;
  const poller = (async () => {
    while (!stop) {
      const t = performance.now();
      await fetch(`${bridge.url}/_bridge/livez`).then((r) => r.text());
      slowest = Math.max(slowest, performance.now() - t);
      polls++;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const result = await work();
  stop = true;
  await poller;
  return { result, slowest, polls };
}

async function legitLatencies(bridge: Child, n: number): Promise<number[]> {
  const body = xmlCall('execute_kw', [
    'bench',
    '<int>2</int>',
    KEY,
    'res.partner',
    'read',
    '<array><data><value><array><data><value><int>7</int></value></data></array></value></data></array>',
  ]);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(`${bridge.url}/xmlrpc/2/object`, body, 0, '', '127.0.0.2');
    if (r.body.includes('<fault>')) throw new Error(`the legitimate call failed: ${r.body.slice(0, 400)}`);
    times.push(r.ms);
  }
  return times;
}

function getFrom(url: string, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { localAddress }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
}

const p99 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? NaN;

async function main(): Promise<void> {
  const standIn = await startStandIn();
  let bridge = await startBridge(standIn.url);
  const log = (s: string): void => void process.stdout.write(`${s}\n`);
  try {
    // 1. The 80,000-digit float.
    const float = xmlCall('version', [`<double>${'1'.repeat(80_000)}x</double>`]);
    await post(`${bridge.url}/xmlrpc/2/common`, xmlCall('version', [])); // warm
    const floats: number[] = [];
    const faults = new Set<string>();
    const { slowest, polls } = await livezWhile(bridge, async () => {
      for (let i = 0; i < 5; i++) {
        const r = await post(`${bridge.url}/xmlrpc/2/common`, float);
        if (!r.body.includes('<fault>')) throw new Error('the bad double was not refused');
        faults.add(
          /could not convert string to float/.test(r.body)
            ? 'ValueError'
            : /RequestEntityTooLarge/.test(r.body)
              ? '413 (over 64 KiB, no caller named)'
              : 'another fault',
        );
        floats.push(r.ms);
      }
    });
    log(
      `float: 80,000 digits + x refused in ${floats.map((m) => m.toFixed(1)).join(' / ')} ms (median ${median(floats).toFixed(1)}; ${[...faults].join(', ')}); /_bridge/livez meanwhile: ${polls} answers, slowest ${slowest.toFixed(1)} ms`,
    );

    // 2. 4 × 100 MiB with a wrong key, at once.
    const bigHead =
      `<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n` +
      ['bench', '<int>2</int>', 'refused-key', 'res.partner', 'create']
        .map((p) => `<param><value>${p.startsWith('<') ? p : `<string>${p}</string>`}</value></param>\n`)
        .join('') +
      '<param><value><array><data><value><struct><member><name>comment</name><value><string>';
    const bigTail =
      '</string></value></member></struct></value></data></array></value></param>\n</params>\n</methodCall>\n';
    const before = procStatus(bridge.pid, 'VmRSS');
    const { result: answers, peak } = await peakRssDuring(bridge.pid, () =>
      Promise.all(
        Array.from({ length: 4 }, () =>
          post(`${bridge.url}/xmlrpc/2/object`, bigHead, BIG_MIB * 1024 * 1024, bigTail),
        ),
      ),
    );
    const denied = answers.filter((a) => a.body.includes('Access Denied')).length;
    log(
      `memory: 4 × ${BIG_MIB} MiB wrong-key execute_kw at once: ${denied}/4 Access Denied in ${median(answers.map((a) => a.ms)).toFixed(0)} ms (median); RSS ${mib(before)} before, peak ${mib(peak)} MiB: +${mib(peak - before)} MiB`,
    );

    // 2b. Verified large calls in parallel (40 MiB each, 6 at once), within the default in-flight
    // budget; then one call larger than that whole budget.
    const okHead = bigHead.replace('refused-key', KEY);
    const before2 = procStatus(bridge.pid, 'VmRSS');
    const { result: okAnswers, peak: peak2 } = await peakRssDuring(bridge.pid, () =>
      Promise.all(
        Array.from({ length: 6 }, () =>
          post(`${bridge.url}/xmlrpc/2/object`, okHead, 40 * 1024 * 1024, bigTail),
        ),
      ),
    );
    const served = okAnswers.filter((a) => !a.body.includes('<fault>')).length;
    const retry = okAnswers.filter((a) => a.body.includes('503 Service Unavailable')).length;
    const huge = await post(`${bridge.url}/xmlrpc/2/object`, okHead, BIG_MIB * 1024 * 1024, bigTail);
    log(
      `budget: 6 × 40 MiB verified execute_kw at once (default BRIDGE_MAX_INFLIGHT_BYTES): ${served} served, ${retry} told to retry (503); RSS ${mib(before2)} before, peak ${mib(peak2)} MiB; one of ${BIG_MIB} MiB: ${huge.body.includes('413 Request Entity Too Large') ? '413, larger than the whole budget' : 'not refused'}`,
    );

    // 3. 40 parallel guesses at 40 logins from one address, on a fresh bridge.
    await bridge.stop();
    bridge = await startBridge(standIn.url);
    const guesses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(
          `${bridge.url}/xmlrpc/2/common`,
          xmlCall('authenticate', ['bench', `nobody${i}`, `refused-guess-${i}`, '<struct></struct>']),
        ),
      ),
    );
    // From another address: 127.0.0.1 now floods, as far as the bridge can tell, and is shed.
    const metrics = await getFrom(`${bridge.url}/_bridge/metrics`, '127.0.0.2');
    const failures = (reason: string): number =>
      Number(
        new RegExp(`odoo_bridge_auth_failures_total\\{mode="passthrough",reason="${reason}"\\} (\\d+)`).exec(
          metrics,
        )?.[1] ?? 0,
      );
    log(
      `guesses: 40 parallel from one address: ${guesses.filter((g) => g.body.includes('<boolean>0</boolean>')).length}/40 answered False; checked ${failures('API key refused')}, throttled ${failures('throttled')} (per-client limit 20)`,
    );

    // 4. A legitimate caller during a 1,000-connection flood of guesses.
    await bridge.stop();
    bridge = await startBridge(standIn.url);
    await legitLatencies(bridge, 50); // warm
    const alone = await legitLatencies(bridge, 300);
    const flood = spawn(
      process.execPath,
      [new URL(import.meta.url).pathname, 'flood', bridge.url, String(FLOOD_SECONDS)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let floodOut = '';
    flood.stdout.on('data', (c: Buffer) => (floodOut += c.toString()));
    await new Promise((r) => setTimeout(r, 1500)); // the flood's connections open
    const during: number[] = [];
    const until = performance.now() + (FLOOD_SECONDS - 3) * 1000;
    while (performance.now() < until) during.push(...(await legitLatencies(bridge, 10)));
    await new Promise((r) => flood.once('exit', r));
    const f = JSON.parse(floodOut || '{}') as { requests?: number; errors?: number };
    log(
      `flood: legitimate read alone median ${median(alone).toFixed(2)} ms, p99 ${p99(alone).toFixed(2)} ms; during ${f.requests ?? '?'} guesses on 1,000 connections in ${FLOOD_SECONDS} s: median ${median(during).toFixed(2)} ms, p99 ${p99(during).toFixed(2)} ms (${during.length} calls): ${(median(during) / median(alone)).toFixed(2)}× the median`,
    );
  } finally {
    await bridge.stop();
    await standIn.stop();
  }
}

/** The flood, run as its own process (`node bench/hostile.ts flood <url> <seconds>`). */
if (process.argv[2] === 'flood') {
  const [url, seconds] = [process.argv[3] ?? '', Number(process.argv[4] ?? 10)];
  const body = xmlCall('authenticate', ['bench', 'nobody', 'refused-guess', '<struct></struct>']);
  autocannon(
    {
      url: `${url}/xmlrpc/2/common`,
      method: 'POST',
      body,
      headers: { 'content-type': 'text/xml' },
      connections: 1000,
      duration: seconds,
    },
    (err, result) => {
      if (err) throw err;
      process.stdout.write(JSON.stringify({ requests: result.requests.total, errors: result.errors }) + '\n');
      process.exit(0);
    },
  );
} else await main();
