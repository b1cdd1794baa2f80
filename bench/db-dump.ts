/**
 * Benchmark of the db service's streamed backups (`npm run bench:db`): a 1 GiB backup through
 * the bridge, with the bridge's memory watched.
 *
 * 1. db.dump over /xmlrpc/2/db and /jsonrpc: a stub Odoo streams BENCH_DUMP_BYTES (default 1 GiB)
 *    of pseudo-random bytes from /web/database/backup (chunked, as Odoo sends it); the client
 *    reads the answer as it comes and checks its envelope and the sha256 of its base64.
 * 2. db.restore over /xmlrpc/2/db: the client streams a request carrying the base64 of the same
 *    bytes; the stub takes the multipart upload and checks the sha256 of the file part.
 *
 * The bridge runs as its own process, as the image runs it (bench/procs.ts `bridgeCommand`); its peak RSS is VmHWM from
 * /proc/<pid>/status (reset before each run through /proc/<pid>/clear_refs), and its CPU time
 * is read from /proc/<pid>/stat. The stub Odoo runs in a worker thread, the client in the main
 * thread, so that neither shares the bridge's CPU.
 *
 * Knobs: BENCH_DUMP_BYTES (backup size), BENCH_ONLY (run the cases whose name contains it),
 * BENCH_NODE_ARGS and BENCH_BRIDGE_MAIN (see bench/procs.ts),
 * BENCH_BRIDGE_LOG (a file for the bridge's output, e.g. with `--trace-gc`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startBridge } from './procs.ts';

const SIZE = Number(process.env['BENCH_DUMP_BYTES'] ?? 1024 ** 3);
const MASTER = 'bench-master';
const CHUNK = 64 * 1024;
const POOL_SIZE = 8 * 1024 * 1024;

/** The backup: deterministic pseudo-random bytes, the same on both sides, made cheaply. */
function pool(): Buffer {
  const b = Buffer.allocUnsafe(POOL_SIZE);
  let x = 0x9e3779b9;
  for (let i = 0; i < POOL_SIZE; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

function* backupChunks(size: number, p: Buffer): Generator<Buffer> {
  for (let k = 0, sent = 0; sent < size; k++) {
    const n = Math.min(CHUNK, size - sent);
    const at = (k * 65_537 * 7) % (POOL_SIZE - CHUNK);
    yield p.subarray(at, at + n);
    sent += n;
  }
}

// ------------------------------------------------------------------------------------------------
// The stub Odoo (worker thread)

if (!isMainThread) {
  const { size } = workerData as { size: number };
  const p = pool();
  let lastRestore: { sha256: string; bytes: number } | undefined;
  const page = (banner: string): string =>
    `<html><body>${banner}<div class="list-group"></div></body></html>`;
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/web/database/manager') {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(''));
      return;
    }
    if (url === '/web/database/backup') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const error = (msg: string): void => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          res.end(page(`<div class="alert alert-danger">Database backup error: ${msg}</div>`));
        };
        if (form.get('master_pwd') !== MASTER) return error('Access Denied');
        if (form.get('name') !== 'big')
          return error(`Database &#39;${form.get('name') ?? ''}&#39; is not known`);
        res.writeHead(200, { 'content-type': 'application/octet-stream; charset=binary' });
        const it = backupChunks(size, p);
        const pump = (): void => {
          for (let r = it.next(); !r.done; r = it.next())
            if (!res.write(r.value)) return void res.once('drain', pump);
          res.end();
        };
        pump();
      });
      return;
    }
    if (url === '/web/database/restore') {
      const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
      void receiveRestore(req, boundary).then((r) => {
        lastRestore = r;
        res.writeHead(303, { location: '/web/database/manager', 'content-type': 'text/html' });
        res.end();
      });
      return;
    }
    req.resume();
    res.writeHead(404);
    res.end();
  });
  server.listen(0, '127.0.0.1', () =>
    parentPort?.postMessage({ port: (server.address() as AddressInfo).port }),
  );
  parentPort?.on('message', () => parentPort?.postMessage({ restore: lastRestore }));
}

/** The sha256 of the `backup_file` part of a multipart upload, read as it arrives. */
async function receiveRestore(
  req: IncomingMessage,
  boundary: string,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  const marker = '\r\n\r\n';
  let head = Buffer.alloc(0);
  let started = false;
  let held = Buffer.alloc(0);
  let bytes = 0;
  const HOLD = 4096;
  for await (const chunk of req) {
    let c = chunk as Buffer;
    if (!started) {
      head = Buffer.concat([head, c]);
      const file = head.indexOf('name="backup_file"');
      const end = file < 0 ? -1 : head.indexOf(marker, file);
      if (end < 0) continue;
      started = true;
      c = head.subarray(end + marker.length);
    }
    held = Buffer.concat([held, c]);
    if (held.length > HOLD) {
      const out = held.subarray(0, held.length - HOLD);
      hash.update(out);
      bytes += out.length;
      held = Buffer.from(held.subarray(held.length - HOLD));
    }
  }
  const end = held.indexOf(`\r\n--${boundary}`);
  const last = held.subarray(0, end < 0 ? held.length : end);
  hash.update(last);
  bytes += last.length;
  return { sha256: hash.digest('hex'), bytes };
}

// ------------------------------------------------------------------------------------------------
// The client and the measurements (main thread)

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
}

function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface Run {
  seconds: number;
  bytes: number;
  ok: boolean;
  peakRss: number;
  cpu: number;
}

/** Runs `work` while sampling the bridge's RSS; its peak is VmHWM when it could be reset. */
async function measure(pid: number, work: () => Promise<{ bytes: number; ok: boolean }>): Promise<Run> {
  const canReset = resetPeak(pid);
  let sampled = procStatus(pid, 'VmRSS');
  const timer = setInterval(() => (sampled = Math.max(sampled, procStatus(pid, 'VmRSS'))), 20);
  const cpu0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  const r = await work();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(timer);
  const peakRss = canReset ? procStatus(pid, 'VmHWM') : Math.max(sampled, procStatus(pid, 'VmRSS'));
  return { seconds, bytes: r.bytes, ok: r.ok, peakRss, cpu: cpuSeconds(pid) - cpu0 };
}

/** POSTs and reads the answer as it comes: its size, head, tail and the sha256 of what is between. */
function dumpThrough(
  url: string,
  body: string,
  contentType: string,
  head: string,
  tail: string,
): Promise<{ bytes: number; ok: boolean; sha256: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': contentType } }, (res) => {
      const hash = createHash('sha256');
      let seen = 0;
      let first = '';
      let held = Buffer.alloc(0);
      res.on('data', (c: Buffer) => {
        seen += c.length;
        let data = c;
        if (first.length < head.length) {
          const need = head.length - first.length;
          first += data.toString('latin1', 0, need);
          data = data.subarray(need);
        }
        // Everything but the last tail.length bytes seen so far is base64: hashed as it comes.
        if (data.length >= tail.length) {
          hash.update(held);
          hash.update(data.subarray(0, data.length - tail.length));
          held = Buffer.from(data.subarray(data.length - tail.length));
        } else {
          held = Buffer.concat([held, data]);
          hash.update(held.subarray(0, held.length - tail.length));
          held = Buffer.from(held.subarray(Math.max(0, held.length - tail.length)));
        }
      });
      res.on('end', () =>
        resolve({
          bytes: seen,
          ok: first === head && held.toString('latin1') === tail,
          sha256: hash.digest('hex'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function restoreThrough(url: string, p: Buffer): Promise<{ bytes: number; ok: boolean }> {
  const head = `<?xml version='1.0'?>\n<methodCall>\n<methodName>restore</methodName>\n<params>\n<param>\n<value><string>${MASTER}</string></value>\n</param>\n<param>\n<value><string>restored</string></value>\n</param>\n<param>\n<value><string>`;
  const tail = '</string></value>\n</param>\n</params>\n</methodCall>\n';
  const length = head.length + Math.ceil(SIZE / 3) * 4 + tail.length;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'text/xml', 'content-length': length } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ bytes: length, ok: text.includes('<boolean>1</boolean>') }));
      },
    );
    req.on('error', reject);
    const it = backupChunks(SIZE, p);
    let carry = Buffer.alloc(0);
    req.write(head);
    const pump = (): void => {
      for (let r = it.next(); !r.done; r = it.next()) {
        const data = carry.length > 0 ? Buffer.concat([carry, r.value]) : r.value;
        const whole = data.length - (data.length % 3);
        carry = Buffer.from(data.subarray(whole));
        if (!req.write(data.toString('base64', 0, whole))) return void req.once('drain', pump);
      }
      req.end(carry.toString('base64') + tail);
    };
    pump();
  });
}

async function main(): Promise<void> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { size: SIZE } });
  const port = await new Promise<number>((resolve) =>
    worker.once('message', (m: { port: number }) => resolve(m.port)),
  );
  const p = pool();
  // What the client must receive: the base64 of the backup, hashed once here.
  const expected = createHash('sha256');
  const carryEnc = { c: Buffer.alloc(0) };
  const rawHash = createHash('sha256');
  for (const chunk of backupChunks(SIZE, p)) {
    rawHash.update(chunk);
    const data = Buffer.concat([carryEnc.c, chunk]);
    const whole = data.length - (data.length % 3);
    expected.update(data.toString('base64', 0, whole));
    carryEnc.c = Buffer.from(data.subarray(whole));
  }
  expected.update(carryEnc.c.toString('base64'));
  const b64Sha = expected.digest('hex');
  const rawSha = rawHash.digest('hex');

  const { child, url } = await startBridge(`http://127.0.0.1:${port}`);
  const pid = child.pid as number;
  await new Promise((r) => setTimeout(r, 300));
  const idle = procStatus(pid, 'VmRSS');
  const rows: string[] = [];
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
  try {
    const xmlHead = '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n<value><string>';
    const xmlTail = '</string></value>\n</param>\n</params>\n\n</methodResponse>\n';
    const xmlBody = `<?xml version='1.0'?>\n<methodCall>\n<methodName>dump</methodName>\n<params>\n<param>\n<value><string>${MASTER}</string></value>\n</param>\n<param>\n<value><string>big</string></value>\n</param>\n<param>\n<value><string>zip</string></value>\n</param>\n</params>\n</methodCall>\n`;
    const jsonBody = JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      params: { service: 'db', method: 'dump', args: [MASTER, 'big', 'zip'] },
      id: 1,
    });
    const cases: Array<[string, () => Promise<{ bytes: number; ok: boolean }>]> = [
      [
        'db.dump, XML-RPC (/xmlrpc/2/db)',
        async () => {
          const r = await dumpThrough(`${url}/xmlrpc/2/db`, xmlBody, 'text/xml', xmlHead, xmlTail);
          return { bytes: r.bytes, ok: r.ok && r.sha256 === b64Sha };
        },
      ],
      [
        'db.dump, JSON-RPC (/jsonrpc)',
        async () => {
          const r = await dumpThrough(
            `${url}/jsonrpc`,
            jsonBody,
            'application/json',
            '{"jsonrpc": "2.0", "id": 1, "result": "',
            '"}',
          );
          return { bytes: r.bytes, ok: r.ok && r.sha256 === b64Sha };
        },
      ],
      [
        'db.restore, XML-RPC (/xmlrpc/2/db)',
        async () => {
          const r = await restoreThrough(`${url}/xmlrpc/2/db`, p);
          worker.postMessage('restore?');
          const got = await new Promise<{ restore?: { sha256: string; bytes: number } }>((resolve) =>
            worker.once('message', resolve),
          );
          return { bytes: r.bytes, ok: r.ok && got.restore?.sha256 === rawSha && got.restore.bytes === SIZE };
        },
      ],
    ];
    const only = process.env['BENCH_ONLY'];
    for (const [name, work] of cases.filter(([n]) => only === undefined || n.includes(only))) {
      const r = await measure(pid, work);
      if (!r.ok) throw new Error(`${name}: the data did not come through intact`);
      rows.push(
        `| ${name} | ${mib(SIZE)} MiB | ${mib(r.bytes)} MiB | ${r.seconds.toFixed(2)} s | ${(SIZE / 1024 / 1024 / r.seconds).toFixed(0)} MiB/s | ${r.cpu.toFixed(2)} s | ${mib(r.peakRss)} MiB |`,
      );
    }
  } finally {
    child.kill('SIGTERM');
    await worker.terminate();
  }
  process.stdout.write(
    [
      `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; bridge RSS when idle: ${mib(idle)} MiB; every byte checked (sha256).`,
      '',
      '| run | backup | on the wire (legacy side) | time | backup throughput | bridge CPU | bridge peak RSS |',
      '|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}

if (isMainThread) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
