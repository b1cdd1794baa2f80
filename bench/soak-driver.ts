/**
 * The soak: the bridge (in this process) in front of the fake Odoo, mixed legacy calls at a
 * steady concurrency, and every few seconds an upstream fault of a rotating kind. It checks that
 * memory stays flat, that connections return to their baseline, that writes are never sent
 * twice, and that every fault a client saw is one an injected fault explains.
 *
 * Used by bench/soak.ts (`npm run soak -- --minutes 10`) and test/soak/soak-short.test.ts.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import xmlrpc from 'xmlrpc';
import { startBridge, type RunningBridge } from '../src/bridge.ts';
import { createLogger } from '../src/log.ts';
import { startFakeOdoo, type FakeFault, type FakeOdoo } from '../test/support/fake-odoo.ts';
import { KEYS, testConfig } from '../test/support/harness.ts';

export interface SoakOptions {
  durationMs: number;
  /** Clients calling at once. */
  concurrency: number;
  /** Pause of each client between two calls. */
  thinkMs: number;
  /** A fault is injected every this many ms, and held for `faultHoldMs`. */
  faultEveryMs: number;
  faultHoldMs: number;
  sampleEveryMs: number;
  upstreamTimeoutMs: number;
  /** Size of the `big-garbage` answers. */
  garbageBytes: number;
  /** Allowed growth of the median RSS from the second quarter to the last (heap after GC: 10 MB). */
  rssToleranceMb: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export const SHORT_SOAK: SoakOptions = {
  durationMs: 22_000,
  concurrency: 4,
  thinkMs: 20,
  faultHoldMs: 800,
  sampleEveryMs: 1_000,
  upstreamTimeoutMs: 2_000,
  garbageBytes: 10 * 1024 * 1024,
  // A short run ends before RSS plateaus (V8 grows its spaces under the 10 MB answers,
  // malloc keeps freed arenas): the short run holds heap-after-GC to 10 MB, RSS only loosely.
  rssToleranceMb: 64,
  faultEveryMs: 1_800,
};

export const LONG_SOAK: SoakOptions = {
  ...SHORT_SOAK,
  durationMs: 10 * 60_000,
  concurrency: 8,
  thinkMs: 10,
  faultEveryMs: 10_000,
  faultHoldMs: 1_500,
  sampleEveryMs: 5_000,
  rssToleranceMb: 20,
};

interface Sample {
  t: number;
  rssMb: number;
  /** heapUsed right after a full GC. */
  heapMb: number;
  heapTotalMb: number;
  externalMb: number;
}

interface Window {
  kind: string;
  from: number;
  to: number;
}

export interface SoakReport {
  seconds: number;
  calls: number;
  ok: number;
  /** Faults (and client errors) by call kind and message class. */
  faults: Record<string, number>;
  /** Faults no injected fault explains (at most 20 kept). */
  unexpected: string[];
  unexpectedCount: number;
  /**
   * Timeouts outside the fault windows that overlap a stall of this process (its timers late by
   * more than half the upstream timeout: the machine is shared), and the longest stall seen.
   */
  stallTimeouts: number;
  stalls: number;
  longestStallMs: number;
  injected: Record<string, number>;
  /** create requests Odoo received more than once (must be 0). */
  duplicateCreates: number;
  retries: Record<string, number>;
  budgetExhausted: number;
  samples: Sample[];
  memory: { rssQ2Mb: number; rssQ4Mb: number; heapQ2Mb: number; heapQ4Mb: number };
  sockets: {
    baseline: number;
    end: number;
    bridgeConnectionsEnd: number;
    pool: { connected: number; pending: number; running: number };
    fds: { baseline: number; end: number };
  };
  logLines: Record<string, number>;
  problems: string[];
}

type Outcome = { ok: true } | { ok: false; message: string };

/** `gc()` without --expose-gc (enabled for the contexts created after the flag is set). */
function getGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const tcpSockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

async function openFds(): Promise<number> {
  try {
    const { readdir } = await import('node:fs/promises');
    return (await readdir('/proc/self/fd')).length;
  } catch {
    return -1;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The legacy clients of one soak: XML-RPC (the `xmlrpc` npm client) and JSON-RPC, on one keep-alive agent. */
class Clients {
  readonly agent: Agent;
  private readonly url: URL;

  constructor(base: string, maxSockets: number) {
    this.url = new URL(base);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  xmlrpc(service: string, method: string, params: unknown[]): Promise<{ value?: unknown } & Outcome> {
    const client = xmlrpc.createClient({
      host: this.url.hostname,
      port: Number(this.url.port),
      path: `/xmlrpc/2/${service}`,
      agent: this.agent,
    } as Parameters<typeof xmlrpc.createClient>[0]);
    return new Promise((resolve) =>
      client.methodCall(method, params, (err: unknown, value: unknown) => {
        if (!err) return resolve({ ok: true, value });
        const f = err as { faultString?: string; message?: string; code?: string };
        resolve({
          ok: false,
          message:
            f.faultString !== undefined
              ? (f.faultString.trimEnd().split('\n').at(-1) ?? '')
              : `client error: ${f.code ?? f.message ?? String(err)}`,
        });
      }),
    );
  }

  jsonrpc(service: string, method: string, args: unknown[]): Promise<{ value?: unknown } & Outcome> {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 1 });
    return new Promise((resolve) => {
      const req = request(
        {
          host: this.url.hostname,
          port: this.url.port,
          path: '/jsonrpc',
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => resolve({ ok: false, message: `client error: ${e.message}` }));
          res.on('end', () => {
            try {
              const j = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                result?: unknown;
                error?: { data?: { name?: string; message?: string } };
              };
              if (j.error)
                resolve({
                  ok: false,
                  message: `${j.error.data?.name ?? '?'}: ${j.error.data?.message ?? ''}`,
                });
              else resolve({ ok: true, value: j.result });
            } catch {
              resolve({ ok: false, message: `client error: HTTP ${res.statusCode} not JSON` });
            }
          });
        },
      );
      req.on('error', (e) => resolve({ ok: false, message: `client error: ${e.message}` }));
      req.end(body);
    });
  }
}

/** The faults injected in turn. */
function faultKinds(garbageBytes: number): Array<{ name: string; fault: FakeFault | 'refused' }> {
  return [
    { name: 'reset', fault: { kind: 'reset', times: 4 } },
    { name: 'status 502', fault: { kind: 'status', status: 502, times: 4 } },
    { name: 'slow headers', fault: { kind: 'delay', ms: 3_000, times: 4 } },
    { name: 'reset mid-body', fault: { kind: 'reset-mid-body', times: 4 } },
    { name: 'garbage', fault: { kind: 'garbage', times: 4 } },
    { name: 'refused', fault: 'refused' },
    { name: 'truncated JSON', fault: { kind: 'truncated-json', times: 4 } },
    { name: 'slow body', fault: { kind: 'slow-body', ms: 3_000, times: 4 } },
    { name: '10 MB garbage', fault: { kind: 'big-garbage', bytes: garbageBytes, times: 2 } },
    { name: 'cut short', fault: { kind: 'truncate', times: 4 } },
  ];
}

/** A fault message an upstream failure explains (never an auth, argument or bridge error). */
const UPSTREAM_FAULT = /^odoo_rpc_bridge\.UpstreamError: /;
const TIMEOUT_FAULT = /^odoo_rpc_bridge\.UpstreamError: .* did not answer within \d+ ms/;

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const gc = getGc();
  const say = o.progress ?? ((): void => {});
  const logLines: Record<string, number> = {};
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const m = /"level":(\d+)/.exec(chunk.toString('latin1', 0, 40));
      const level = m?.[1] ?? '?';
      logLines[level] = (logLines[level] ?? 0) + 1;
      done();
    },
  });
  const odoo: FakeOdoo = await startFakeOdoo();
  const config = testConfig(odoo.url, { upstreamTimeoutMs: o.upstreamTimeoutMs, authCacheTtlMs: 30_000 });
  const bridge: RunningBridge = await startBridge(config, createLogger('info', sink), {});
  const problems: string[] = [];
  const faults: Record<string, number> = {};
  const unexpected: string[] = [];
  let unexpectedCount = 0;
  const injected: Record<string, number> = {};
  const windows: Window[] = [];
  let calls = 0;
  let ok = 0;
  let duplicateCreates = 0;
  let createSeq = 0;
  let lastNames = new Set<string>();

  /** Drops the fake's request log (it would grow), checking creates were received at most once. */
  const scanRequests = (): void => {
    const names = new Set<string>();
    for (const r of odoo.requests) {
      if (!r.path.endsWith('/res.partner/create')) continue;
      type Vals = { name?: string };
      const given = (r.json as { vals_list?: Vals | Vals[] } | undefined)?.vals_list ?? [];
      for (const v of Array.isArray(given) ? given : [given]) {
        const name = v.name ?? '';
        if (names.has(name) || lastNames.has(name)) duplicateCreates++;
        names.add(name);
      }
    }
    odoo.requests.length = 0;
    lastNames = names;
  };

  const explained = (start: number, end: number): string | undefined => {
    const grace = o.upstreamTimeoutMs + 500;
    for (let i = windows.length - 1; i >= 0; i--) {
      const w = windows[i] as Window;
      if (start <= w.to + grace && end >= w.from) return w.kind;
    }
    return undefined;
  };

  // Stalls: a 50 ms timer firing late by more than half the upstream timeout means this process
  // was not running (CPU starved on a shared machine, or a long GC): a timeout then is no leak.
  const stallWindows: Array<{ from: number; to: number }> = [];
  let longestStallMs = 0;
  let lastTick = Date.now();
  const ticker = setInterval(() => {
    const now = Date.now();
    const late = now - lastTick - 50;
    if (late > longestStallMs) longestStallMs = late;
    if (late > o.upstreamTimeoutMs / 2) stallWindows.push({ from: lastTick, to: now });
    lastTick = now;
  }, 50);
  const stalled = (start: number, end: number): boolean =>
    stallWindows.some((w) => start <= w.to && end >= w.from);
  let stallTimeouts = 0;

  let clients = new Clients(bridge.url, o.concurrency);
  const key = KEYS.labAdmin;
  const obj = (c: Clients, method: string, args: unknown[], kw?: Record<string, unknown>) =>
    c.xmlrpc('object', 'execute_kw', ['lab', 2, key, 'res.partner', method, args, ...(kw ? [kw] : [])]);

  type Step = (c: Clients) => Promise<Array<[string, Outcome]>>;
  const steps: Array<[number, Step]> = [
    [4, async (c) => [['search_read', await obj(c, 'search_read', [[]], { fields: ['name'], limit: 5 })]]],
    [3, async (c) => [['read', await obj(c, 'read', [[1, 2, 3]], { fields: ['name', 'email'] })]]],
    [2, async (c) => [['search_count', await obj(c, 'search_count', [[]])]]],
    [1, async (c) => [['version', await c.xmlrpc('common', 'version', [])]]],
    [
      2,
      async (c) => [
        [
          'jsonrpc search_read',
          await c.jsonrpc('object', 'execute_kw', [
            'lab',
            2,
            key,
            'res.partner',
            'search_read',
            [[['id', '<', 20]]],
            { fields: ['name'], limit: 3 },
          ]),
        ],
      ],
    ],
    [
      2,
      async (c) => {
        const name = `soak ${++createSeq}`;
        const created = await obj(c, 'create', [{ name }]);
        const out: Array<[string, Outcome]> = [['create', created]];
        if (!created.ok || typeof created.value !== 'number') return out;
        out.push(['write', await obj(c, 'write', [[created.value], { comment: 'soaked' }])]);
        out.push(['unlink', await obj(c, 'unlink', [[created.value]])]);
        return out;
      },
    ],
  ];
  const totalWeight = steps.reduce((n, [w]) => n + w, 0);
  const pick = (): Step => {
    let r = Math.random() * totalWeight;
    for (const [w, s] of steps) if ((r -= w) < 0) return s;
    return (steps[0] as [number, Step])[1];
  };

  let running = true;
  const worker = async (c: Clients, count: boolean): Promise<void> => {
    while (running) {
      const start = Date.now();
      const results = await pick()(c);
      const end = Date.now();
      if (count) {
        for (const [what, r] of results) {
          calls++;
          if (r.ok) {
            ok++;
            continue;
          }
          const cls = r.message
            .replace(/\d+/g, 'N')
            .replace(/Odoo at \S+/, 'Odoo at …')
            .slice(0, 120);
          faults[`${what}: ${cls}`] = (faults[`${what}: ${cls}`] ?? 0) + 1;
          const w = UPSTREAM_FAULT.test(r.message) ? explained(start, end) : undefined;
          if (w === undefined && TIMEOUT_FAULT.test(r.message) && stalled(start, end)) {
            stallTimeouts++;
            continue;
          }
          if (w === undefined) {
            unexpectedCount++;
            if (unexpected.length < 20) unexpected.push(`${what}: ${r.message.slice(0, 300)}`);
          }
        }
      }
      if (o.thinkMs > 0) await sleep(o.thinkMs);
    }
  };
  const runWorkers = (c: Clients, count: boolean): Promise<void[]> =>
    Promise.all(Array.from({ length: o.concurrency }, () => worker(c, count)));

  const quiesce = async (): Promise<{ sockets: number; fds: number }> => {
    clients.agent.destroy();
    for (let i = 0; i < 50; i++) {
      const n = await new Promise<number>((r) => bridge.server.getConnections((_e, k) => r(k)));
      if (n === 0) break;
      await sleep(100);
    }
    await sleep(200);
    gc();
    return { sockets: tcpSockets(), fds: await openFds() };
  };

  try {
    // Warm-up without faults: caches filled, pools at their working size; then the baseline.
    say('warm-up');
    const warm = runWorkers(clients, false);
    await sleep(Math.min(3_000, o.durationMs / 5));
    running = false;
    await warm;
    scanRequests();
    const baseline = await quiesce();
    duplicateCreates = 0;

    clients = new Clients(bridge.url, o.concurrency);
    running = true;
    const t0 = Date.now();
    const samples: Sample[] = [];
    const load = runWorkers(clients, true);
    const kinds = faultKinds(o.garbageBytes);
    let nextFault = t0 + o.faultEveryMs;
    let nextSample = t0;
    let k = 0;
    while (Date.now() - t0 < o.durationMs) {
      const now = Date.now();
      if (now >= nextSample) {
        gc();
        const m = process.memoryUsage();
        samples.push({
          t: (now - t0) / 1000,
          rssMb: m.rss / 2 ** 20,
          heapMb: m.heapUsed / 2 ** 20,
          heapTotalMb: m.heapTotal / 2 ** 20,
          externalMb: m.external / 2 ** 20,
        });
        scanRequests();
        nextSample += o.sampleEveryMs;
        say(
          `t=${Math.round((now - t0) / 1000)}s calls=${calls} ok=${ok} unexpected=${unexpectedCount} rss=${(m.rss / 2 ** 20).toFixed(1)}MB heap=${(m.heapUsed / 2 ** 20).toFixed(1)}/${(m.heapTotal / 2 ** 20).toFixed(1)}MB external=${(m.external / 2 ** 20).toFixed(1)}MB sockets=${tcpSockets()}`,
        );
      }
      // The last fault ends well before the end, so the end state is the recovered one.
      if (now >= nextFault && now + o.faultHoldMs + o.upstreamTimeoutMs < t0 + o.durationMs) {
        const f = kinds[k++ % kinds.length] as (typeof kinds)[number];
        const w: Window = { kind: f.name, from: Date.now(), to: Infinity };
        windows.push(w);
        injected[f.name] = (injected[f.name] ?? 0) + 1;
        if (f.fault === 'refused') await odoo.stopListening();
        else odoo.setFault(f.fault);
        await sleep(o.faultHoldMs);
        if (f.fault === 'refused') await odoo.listenAgain();
        else odoo.setFault(null);
        w.to = Date.now();
        nextFault += o.faultEveryMs;
        continue;
      }
      await sleep(Math.max(1, Math.min(nextSample, nextFault) - Date.now()));
    }
    running = false;
    await load;
    const seconds = (Date.now() - t0) / 1000;
    scanRequests();
    const end = await quiesce();
    const bridgeConnectionsEnd = await new Promise<number>((r) =>
      bridge.server.getConnections((_e, n) => r(n)),
    );
    const pool = bridge.parts.odoo.poolStats();

    const metrics = await bridge.parts.metrics.text();
    const retries: Record<string, number> = {};
    let budgetExhausted = 0;
    for (const line of metrics.split('\n')) {
      const r = /^odoo_bridge_upstream_retries_total\{reason="(\w+)"\} (\d+)/.exec(line);
      if (r) retries[r[1] as string] = Number(r[2]);
      const b = /^odoo_bridge_upstream_retry_budget_exhausted_total\{reason="\w+"\} (\d+)/.exec(line);
      if (b) budgetExhausted += Number(b[1]);
    }

    // Memory: the second quarter (after warm-up) against the last quarter.
    const q = (from: number, to: number, f: (s: Sample) => number): number =>
      median(samples.filter((s) => s.t >= (seconds * from) / 4 && s.t < (seconds * to) / 4).map(f));
    const memory = {
      rssQ2Mb: q(1, 2, (s) => s.rssMb),
      rssQ4Mb: q(3, 4.01, (s) => s.rssMb),
      heapQ2Mb: q(1, 2, (s) => s.heapMb),
      heapQ4Mb: q(3, 4.01, (s) => s.heapMb),
    };
    if (!(memory.rssQ4Mb - memory.rssQ2Mb <= o.rssToleranceMb))
      problems.push(`RSS grew from ${memory.rssQ2Mb.toFixed(1)} to ${memory.rssQ4Mb.toFixed(1)} MB`);
    if (!(memory.heapQ4Mb - memory.heapQ2Mb <= 10))
      problems.push(`heap grew from ${memory.heapQ2Mb.toFixed(1)} to ${memory.heapQ4Mb.toFixed(1)} MB`);
    if (end.sockets > baseline.sockets + 4)
      problems.push(`${end.sockets} TCP sockets open at the end, ${baseline.sockets} after warm-up`);
    if (bridgeConnectionsEnd !== 0)
      problems.push(`${bridgeConnectionsEnd} client connections still open on the bridge`);
    if (pool.pending !== 0 || pool.running !== 0 || pool.connected > o.concurrency + 4)
      problems.push(`upstream pool not back to rest: ${JSON.stringify(pool)}`);
    if (unexpectedCount > 0) problems.push(`${unexpectedCount} faults no injected fault explains`);
    if (duplicateCreates > 0) problems.push(`${duplicateCreates} creates received twice`);
    if (ok === 0) problems.push('no call succeeded');

    return {
      seconds,
      calls,
      ok,
      faults,
      unexpected,
      unexpectedCount,
      stallTimeouts,
      stalls: stallWindows.length,
      longestStallMs,
      injected,
      duplicateCreates,
      retries,
      budgetExhausted,
      samples,
      memory,
      sockets: {
        baseline: baseline.sockets,
        end: end.sockets,
        bridgeConnectionsEnd,
        pool: { connected: pool.connected, pending: pool.pending, running: pool.running },
        fds: { baseline: baseline.fds, end: end.fds },
      },
      logLines,
      problems,
    };
  } finally {
    clearInterval(ticker);
    running = false;
    clients.agent.destroy();
    await bridge.close(1000);
    await odoo.close();
  }
}

/** A few lines for people. */
export function summarize(r: SoakReport): string {
  const mb = (n: number): string => `${n.toFixed(1)} MB`;
  const lines = [
    `soak: ${r.seconds.toFixed(0)} s, ${r.calls} calls (${(r.calls / r.seconds).toFixed(0)}/s), ${r.ok} ok, ${r.calls - r.ok} faults`,
    `injected: ${Object.entries(r.injected)
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ')}`,
    `retries: ${JSON.stringify(r.retries)}, budget exhausted: ${r.budgetExhausted}; creates received twice: ${r.duplicateCreates}`,
    `memory (median, 2nd quarter → last quarter): RSS ${mb(r.memory.rssQ2Mb)} → ${mb(r.memory.rssQ4Mb)}, heap after GC ${mb(r.memory.heapQ2Mb)} → ${mb(r.memory.heapQ4Mb)}; peak RSS ${mb(Math.max(...r.samples.map((s) => s.rssMb)))}`,
    `sockets (TCP, whole process, clients closed): ${r.sockets.baseline} after warm-up → ${r.sockets.end} at the end; bridge client connections ${r.sockets.bridgeConnectionsEnd}; upstream pool ${JSON.stringify(r.sockets.pool)}; fds ${r.sockets.fds.baseline} → ${r.sockets.fds.end}`,
    `log lines by level: ${JSON.stringify(r.logLines)}`,
    'faults seen:',
    ...Object.entries(r.faults)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `  ${n} × ${k}`),
    `process stalls over half the upstream timeout: ${r.stalls} (longest ${r.longestStallMs} ms), timeouts they explain: ${r.stallTimeouts}`,
    `unexpected: ${r.unexpectedCount}`,
    ...r.unexpected.map((u) => `  ${u}`),
    r.problems.length
      ? `PROBLEMS:\n  ${r.problems.join('\n  ')}`
      : 'OK: memory flat, sockets back to baseline, only injected faults',
  ];
  return lines.join('\n');
}
