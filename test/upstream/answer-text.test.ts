/**
 * An upstream answer arriving in many chunks, split inside multi-byte characters, is decoded to
 * the same text as its bytes decoded at once (odoo-client.ts decodes large answers chunk by chunk).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OdooClient } from '../../src/upstream/odoo-client.ts';

let server: Server | undefined;
let client: OdooClient | undefined;
afterEach(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = client = undefined;
});

/** Serves `bytes` as JSON in pieces of `piece` bytes, each written on its own turn of the event loop. */
async function serve(bytes: Buffer, piece: number): Promise<string> {
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

const opts = (odooUrl: string) => ({
  odooUrl,
  dbHeader: 'auto' as const,
  connectTimeoutMs: 2000,
  upstreamTimeoutMs: 10_000,
  maxUpstreamBytes: 64 * 2 ** 20,
});

describe('answer text', () => {
  it('decodes a 200 KB answer written in 997-byte pieces (characters of 2, 3 and 4 bytes cut in two)', async () => {
    const records = Array.from({ length: 4000 }, (_, i) => ({ id: i, name: `Société ${i} 日本 😀 ü` }));
    const bytes = Buffer.from(JSON.stringify(records));
    expect(bytes.length).toBeGreaterThan(150_000);
    client = new OdooClient(opts(await serve(bytes, 997)));
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
    client = new OdooClient(opts(await serve(bytes, 4099)));
    const a = await client.json2('res.partner', 'search_read', '{}', {});
    expect(a.text).toBe(bytes.toString('utf8'));
    expect(a.text).toContain('\ufffd');
  });
});
