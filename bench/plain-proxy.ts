/**
 * The yardstick for small calls: a plain Node HTTP pass-through proxy (undici pool, keep-alive,
 * no parsing), the least any bridge must do. Usage: node bench/plain-proxy.ts <upstream url>
 * Prints {"url": ...} once listening.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2] ?? 'http://127.0.0.1:8069';
// As many connections to the upstream as the bridge opens by default (BRIDGE_UPSTREAM_CONNECTIONS).
const pool = new Pool(upstream, { connections: 256 });

/**
 * `stream` (third argument): bodies piped through both ways, never held whole: the least any
 * bridge must do to move a large payload (bench/large-payload.ts).
 */
const streaming = process.argv[3] === 'stream';

function streamThrough(req: IncomingMessage, res: ServerResponse): void {
  pool
    .request({
      method: 'POST',
      path: req.url ?? '/',
      headers: {
        'content-type': req.headers['content-type'] ?? 'application/json',
        'content-length': req.headers['content-length'] ?? '',
        authorization: req.headers['authorization'] ?? '',
        'x-odoo-database': req.headers['x-odoo-database'] ?? '',
      },
      body: req,
    })
    .then((r) => {
      res.writeHead(r.statusCode, {
        'content-type': String(r.headers['content-type'] ?? ''),
        'content-length': String(r.headers['content-length'] ?? ''),
      });
      r.body.pipe(res);
    })
    .catch(() => {
      res.writeHead(502);
      res.end();
    });
}

const server = createServer((req, res) => {
  if (streaming) return streamThrough(req, res);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    pool
      .request({
        method: 'POST',
        path: req.url ?? '/',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/json',
          authorization: req.headers['authorization'] ?? '',
        },
        body: Buffer.concat(chunks),
      })
      .then(async (r) => {
        const body = Buffer.from(await r.body.arrayBuffer());
        res.writeHead(r.statusCode, {
          'content-type': String(r.headers['content-type'] ?? ''),
          'content-length': body.length,
        });
        res.end(body);
      })
      .catch(() => {
        res.writeHead(502);
        res.end();
      });
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
