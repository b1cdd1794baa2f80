/**
 * How the upstream client reads answers:
 * - an answer that is not JSON (an error page, garbage behind a JSON content type) is read only as
 *   far as a fault's message needs: a proxy streaming megabytes of garbage costs no memory;
 * - an answer arriving in many chunks, split inside multi-byte characters, is decoded to the same
 *   text as its bytes decoded at once (large answers are decoded chunk by chunk);
 * - the call's deadline holds for a request still queued for a connection.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { OdooClient } from '../../src/upstream/odoo-client.ts';

let server: Server | undefined;
let client: OdooClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = client = undefined;
});

/** A server answering `first` then 64 KiB chunks of `fill` up to `mb` MiB; counts the bytes it wrote. */
async function serve(
  contentType: string,
  first: string,
  mb: number,
): Promise<{ url: string; written: () => number }> {
  let written = 0;
  const chunk = Buffer.alloc(64 * 1024, 'x');
  server = createServer((_req, res) => {
    const head = Buffer.from(first);
    res.writeHead(200, {
      'content-type': contentType,
      'content-length': String(head.length + mb * 2 ** 20),
    });
    res.write(head);
    written += head.length;
    const pump = (): void => {
      const total = head.length + mb * 2 ** 20;
      while (written < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - written));
        written += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, written: () => written };
}

/** The bridge's defaults (loadConfig), with a 10 s upstream timeout. */
const opts = (odooUrl: string) => {
  const config = loadConfig({ ODOO_URL: odooUrl }, []);
  return {
    ...config,
    connections: config.upstreamConnections,
    connectTimeoutMs: 2000,
    upstreamTimeoutMs: 10_000,
  };
};

describe('answers that are not JSON', () => {
  it('keeps the first 64 KiB of 64 MiB of garbage with a JSON content type, and stops reading', async () => {
    const up = await serve('application/json', '<garbage>', 64);
    client = new OdooClient(opts(up.url));
    const a = await client.json2('res.partner', 'search_count', '{}', {});
    expect(a.status).toBe(200);
    expect(a.text.startsWith('<garbage>xxx')).toBe(true);
    expect(a.text.length).toBe(64 * 1024);
    expect(up.written()).toBeLessThan(16 * 2 ** 20);
  });

  it('does the same for an HTML page', async () => {
    const up = await serve('text/html', '<html><title>502 Bad Gateway</title>', 64);
    client = new OdooClient(opts(up.url));
    const a = await client.json2('res.partner', 'search_count', '{}', {});
    expect(a.text).toMatch(/^<html><title>502 Bad Gateway<\/title>x+$/);
    expect(a.text.length).toBe(64 * 1024);
  });

  it('reads a JSON answer whole, blanks first included', async () => {
    const body = `  \n[${'1,'.repeat(100_000)}1]`;
    const up = await serve('application/json', body, 0);
    client = new OdooClient(opts(up.url));
    const a = await client.json2('res.partner', 'search', '{}', {});
    expect(a.text).toBe(body);
  });
});

/** Serves `bytes` as JSON in pieces of `piece` bytes, each written on its own turn of the event loop. */
async function servePieces(bytes: Buffer, piece: number): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes.length) });
    let at = 0;
    const next = (): void => {
      if (at >= bytes.length) return void res.end();
      res.write(bytes.subarray(at, at + piece));
      at += piece;
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('answer text', () => {
  it('decodes a 200 KB answer written in 997-byte pieces (characters of 2, 3 and 4 bytes cut in two)', async () => {
    const records = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `Société ${i} 日本 😀 ü` }));
    const bytes = Buffer.from(JSON.stringify(records));
    expect(bytes.length).toBeGreaterThan(150_000);
    client = new OdooClient(opts(await servePieces(bytes, 997)));
    const a = await client.json2('res.partner', 'search_read', '{}', {});
    expect(a.text).toBe(bytes.toString('utf8'));
  });

  it('replaces invalid bytes as decoding at once does', async () => {
    const bytes = Buffer.concat([
      Buffer.from('["'),
      Buffer.from('é'.repeat(40_000)),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from('"]'),
    ]);
    client = new OdooClient(opts(await servePieces(bytes, 4099)));
    const a = await client.json2('res.partner', 'search_read', '{}', {});
    expect(a.text).toBe(bytes.toString('utf8'));
    expect(a.text).toContain('\ufffd');
  });
});

describe("the call's deadline", () => {
  it('holds for requests waiting for a connection, which are dropped, never sent, and cost no connection', async () => {
    // One connection, taken by a /web/version that Odoo never answers (its own timeout: 800 ms):
    // the JSON-2 calls wait for it. They must fail at their deadline (300 ms), not when (if ever)
    // the connection frees up; they must never reach Odoo nor take a connection of their own, and
    // the pool must serve the next call at once.
    const seen: string[] = [];
    let connections = 0;
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/web/version') return; // never answered
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('3');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new OdooClient({ ...opts(url), upstreamTimeoutMs: 300, connections: 1, retryMax: 0 });
    const version = client.version(800);
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => client?.json2('res.partner', 'search_count', '{}', {})),
    );
    expect(Date.now() - started).toBeLessThan(700);
    for (const o of outcomes) {
      expect(o.status).toBe('rejected');
      expect(String((o as PromiseRejectedResult).reason.message)).toMatch(
        /did not answer within 300 ms \(BRIDGE_UPSTREAM_TIMEOUT_MS\)/,
      );
    }
    await expect(version).rejects.toThrow(/did not answer within 800 ms/);
    expect(client.poolStats().pending).toBe(0);
    const t = Date.now();
    const a = await client.json2('res.partner', 'search_count', '{}', {});
    expect(a.text).toBe('3');
    expect(Date.now() - t).toBeLessThan(250);
    expect(seen).toEqual(['/web/version', '/json/2/res.partner/search_count']);
    expect(connections).toBe(2); // the hung one (destroyed at its deadline), then the next call's
  });

  it('dispatches the calls that waited once a connection frees up', async () => {
    let answered = 0;
    server = createServer((_req, res) => {
      setTimeout(() => {
        answered++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('3');
      }, 20);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = new OdooClient({ ...opts(url), connections: 2 });
    const calls = Array.from({ length: 10 }, () => client?.json2('res.partner', 'search_count', '{}', {}));
    expect(client.poolStats().pending).toBeGreaterThanOrEqual(8); // counted while they wait
    const texts = await Promise.all(calls);
    expect(texts.map((x) => x?.text)).toEqual(Array(10).fill('3'));
    expect(answered).toBe(10);
    expect(client.poolStats().connected).toBeLessThanOrEqual(2);
  });

  it('settles a call whose metrics observer throws (the error is the answer, nothing hangs)', async () => {
    const up = await serve('application/json', '3', 0);
    client = new OdooClient(opts(up.url));
    client.observer = () => {
      throw new Error('observer failed');
    };
    await expect(client.json2('res.partner', 'search_count', '{}', {})).rejects.toThrow('observer failed');
  });
});
