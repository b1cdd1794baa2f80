/**
 * End-to-end benchmark of the bridge (npm run bench). In one run, on this machine:
 *
 * 1. large read: a 20,000-record res.partner search_read (10 fields) through the bridge over
 *    XML-RPC and JSON-RPC, against a local upstream that answers the recorded JSON instantly.
 *    The bridge's own time is (time through the bridge) − (time of the same JSON-2 call made
 *    directly), compared with CPython's `xmlrpc.client.dumps` of the same records, i.e. the
 *    marshalling legacy Odoo itself does for that answer.
 * 2. small calls: requests/s of a one-record `read` through the bridge (XML-RPC) with autocannon,
 *    against the same JSON-2 call made directly, concurrency 16.
 *
 * The bridge runs as its own process (`node src/main.ts`), as in production.
 */
import autocannon from 'autocannon';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { request } from 'undici';

const RECORDS = Number(process.env['BENCH_RECORDS'] ?? 20_000);
const REPS = Number(process.env['BENCH_REPS'] ?? 7);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const KEY = 'b'.repeat(40);
const TMP = new URL('../.bench-tmp/', import.meta.url).pathname;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const fmt = (n: number, d = 1): string => n.toFixed(d);

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
    {
      maxBuffer: 1 << 20,
    },
  );
  return { ...(JSON.parse(stdout) as { dumps_ms: number[]; xml_bytes: number; json_bytes: number }), path };
}

function startUpstream(bigJson: string): Promise<Server> {
  const one =
    '[{"id": 7, "name": "Partner 7 & Co <7>", "email": "partner7@example.com", "credit_limit": 8.75}]';
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      let body = '{}';
      if (req.url === '/json/2/res.users/context_get')
        body = '{"lang": "en_US", "tz": "Europe/Brussels", "uid": 2}';
      else if (req.url === '/json/2/res.partner/search_read') body = bigJson;
      else if (req.url === '/json/2/res.partner/read') body = one;
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function startBridge(odooUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return startChild(
    [new URL('../src/main.ts', import.meta.url).pathname, '--listen', '127.0.0.1:0'],
    odooUrl,
  );
}

async function startPlainProxy(odooUrl: string): Promise<{ child: ChildProcess; url: string }> {
  return startChild([new URL('plain-proxy.ts', import.meta.url).pathname, odooUrl], odooUrl);
}

async function startChild(args: string[], odooUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    // Default log level (info): one JSON line per call, as in production; the lines are read and dropped.
    env: { ...process.env, ODOO_URL: odooUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const keep = (c: Buffer): void => {
    out += c.toString();
  };
  child.stdout?.on('data', keep);
  const url = await waitForUrl(child, () => out);
  child.stdout?.off('data', keep);
  child.stdout?.resume();
  return { child, url };
}

async function waitForUrl(child: ChildProcess, out: () => string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const m = /"url":"([^"]+)"/.exec(out());
    if (m?.[1]) return m[1];
    await new Promise((r) => setTimeout(r, 50));
    if (child.exitCode !== null) throw new Error('bridge exited');
  }
  throw new Error('bridge did not start');
}

const xmlCall = (method: string, args: string, kw: string): string =>
  `<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n` +
  ['bench', '<int>2</int>', KEY, 'res.partner', method]
    .map((v) => `<param>\n<value>${v.startsWith('<') ? v : `<string>${v}</string>`}</value>\n</param>\n`)
    .join('') +
  `<param>\n<value>${args}</value>\n</param>\n<param>\n<value>${kw}</value>\n</param>\n</params>\n</methodCall>\n`;

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

async function rps(
  url: string,
  body: string,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const r = await autocannon({
    url,
    method: 'POST',
    body,
    headers: { 'content-type': contentType, ...headers },
    connections: 16,
    duration: SECONDS,
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

async function main(): Promise<void> {
  console.log(
    `odoo-rpc-bridge benchmark — node ${process.version}, ${RECORDS} records, ${REPS} repetitions, ${SECONDS}s load runs`,
  );
  const py = await pythonDumps();
  const bigJson = readFileSync(py.path, 'utf8');
  const upstream = await startUpstream(bigJson);
  const odooUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const bridge = await startBridge(odooUrl);
  const proxy = await startPlainProxy(odooUrl);
  try {
    const direct = `${odooUrl}/json/2/res.partner/search_read`;
    const j2Headers = { authorization: `bearer ${KEY}`, 'x-odoo-database': 'bench' };
    const j2Body = '{"domain": [], "fields": ["name"]}';
    const xmlBody = xmlCall(
      'search_read',
      '<array><data>\n<value><array><data>\n</data></array></value>\n</data></array>',
      '<struct></struct>',
    );
    const jsonBody = JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: {
        service: 'object',
        method: 'execute_kw',
        args: ['bench', 2, KEY, 'res.partner', 'search_read', [[]], {}],
      },
    });

    // Warm up (key cache, JIT, keep-alive).
    for (let i = 0; i < 3; i++) {
      await timePost(direct, j2Body, 'application/json', j2Headers);
      await timePost(`${bridge.url}/xmlrpc/2/object`, xmlBody, 'text/xml');
      await timePost(`${bridge.url}/jsonrpc`, jsonBody, 'application/json');
    }
    const d: number[] = [],
      x: number[] = [],
      j: number[] = [];
    let xmlBytes = 0;
    for (let i = 0; i < REPS; i++) {
      d.push((await timePost(direct, j2Body, 'application/json', j2Headers)).ms);
      const xr = await timePost(`${bridge.url}/xmlrpc/2/object`, xmlBody, 'text/xml');
      x.push(xr.ms);
      xmlBytes = xr.bytes;
      j.push((await timePost(`${bridge.url}/jsonrpc`, jsonBody, 'application/json')).ms);
    }
    const dumps = median(py.dumps_ms);
    const directMs = median(d);
    const xmlOwn = median(x) - directMs;
    const jsonOwn = median(j) - directMs;
    console.log(
      '\n## Large read: search_read of %d records (JSON %s MB, XML %s MB)',
      RECORDS,
      fmt(py.json_bytes / 1e6, 2),
      fmt(xmlBytes / 1e6, 2),
    );
    console.log('| measure | median ms |');
    console.log('|---|---|');
    console.log(`| JSON-2 call made directly (the baseline) | ${fmt(directMs)} |`);
    console.log(`| through the bridge, XML-RPC | ${fmt(median(x))} |`);
    console.log(`| through the bridge, JSON-RPC | ${fmt(median(j))} |`);
    console.log(`| bridge's own time, XML-RPC (bridge − direct) | ${fmt(xmlOwn)} |`);
    console.log(`| bridge's own time, JSON-RPC (bridge − direct) | ${fmt(jsonOwn)} |`);
    console.log(`| CPython xmlrpc.client.dumps of the same records | ${fmt(dumps)} |`);
    console.log(`\nratio bridge XML-RPC own time / CPython dumps: ${fmt(xmlOwn / dumps, 2)} (target ≤ 1.00)`);
    console.log(`ratio bridge XML-RPC own time / JSON-RPC own time: ${fmt(xmlOwn / jsonOwn, 2)}`);

    const readXml = xmlCall(
      'read',
      '<array><data>\n<value><array><data>\n<value><int>7</int></value>\n</data></array></value>\n</data></array>',
      '<struct><member><name>fields</name><value><array><data><value><string>name</string></value></data></array></value></member></struct>',
    );
    const j2Read = '{"ids": [7], "fields": ["name"]}';
    const r1 = await rps(`${odooUrl}/json/2/res.partner/read`, j2Read, 'application/json', j2Headers);
    const r0 = await rps(`${proxy.url}/json/2/res.partner/read`, j2Read, 'application/json', j2Headers);
    const r2 = await rps(`${bridge.url}/xmlrpc/2/object`, readXml, 'text/xml');
    console.log('\n## Small calls: one-record read, 16 connections, %ds each', SECONDS);
    console.log('| target | req/s | p50 ms | p99 ms | errors |');
    console.log('|---|---|---|---|---|');
    console.log(
      `| JSON-2 directly (stub upstream) | ${fmt(r1.rps, 0)} | ${r1.p50} | ${r1.p99} | ${r1.errors} |`,
    );
    console.log(
      `| plain Node pass-through proxy → JSON-2 | ${fmt(r0.rps, 0)} | ${r0.p50} | ${r0.p99} | ${r0.errors} |`,
    );
    console.log(
      `| bridge, XML-RPC execute_kw read | ${fmt(r2.rps, 0)} | ${r2.p50} | ${r2.p99} | ${r2.errors} |`,
    );
    console.log(`\nratio bridge / plain proxy requests/s: ${fmt(r2.rps / r0.rps, 2)} (target ≥ 0.60)`);
    console.log(`ratio bridge / direct requests/s: ${fmt(r2.rps / r1.rps, 2)}`);
  } finally {
    bridge.child.kill('SIGTERM');
    proxy.child.kill('SIGTERM');
    upstream.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
