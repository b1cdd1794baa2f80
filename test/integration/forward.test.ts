/**
 * Whole-URL drop-in: paths the bridge does not serve go to Odoo unchanged, streamed both ways,
 * with hop-by-hop headers removed, X-Forwarded-* set and cookies passed back; a websocket upgrade
 * is piped through; an Odoo that is down is a 502.
 */
import { createServer as createHttpServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTrustedProxies } from '../../src/server/client-address.ts';
import { endToEnd } from '../../src/server/forward.ts';
import { closedPortUrl, startStack, type Stack } from '../support/harness.ts';

/** A raw request with node's http client (fetch refuses hop-by-hop request headers). */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('whole-URL drop-in', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('/web/session/authenticate then /web/dataset/call_kw with the session cookie', async () => {
    const auth = await raw(`${stack.bridge.url}/web/session/authenticate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'call',
        id: 1,
        params: { db: 'lab', login: 'admin', password: 'admin' },
      }),
    });
    expect(auth.status).toBe(200);
    expect(auth.headers['content-type']).toBe('application/json; charset=utf-8');
    const setCookie = auth.headers['set-cookie'] ?? [];
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^session_id=[^;]+; Expires=.*; HttpOnly; Path=\//);
    expect(JSON.parse(auth.body)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { uid: 2, db: 'lab' } });
    const sid = (setCookie[0] ?? '').split(';')[0] ?? '';

    const callKw = (cookie?: string): ReturnType<typeof raw> =>
      raw(`${stack.bridge.url}/web/dataset/call_kw/res.partner/search_read`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(cookie ? { Cookie: cookie } : {}) },
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'call',
          id: 2,
          params: {
            model: 'res.partner',
            method: 'search_read',
            args: [[['id', '=', 3]]],
            kwargs: { fields: ['name'] },
          },
        }),
      });
    const answer = await callKw(sid);
    expect(answer.status).toBe(200);
    const result = (JSON.parse(answer.body) as { result: { id: number; name: string }[] }).result;
    expect(result).toHaveLength(1);
    expect(result[0]?.id).toBe(3);
    expect(typeof result[0]?.name).toBe('string');

    const sent = stack.odoo.requests.filter((r) => r.path.startsWith('/web/dataset/call_kw'));
    expect(sent[0]?.path).toBe('/web/dataset/call_kw/res.partner/search_read');
    expect(sent[0]?.headers['cookie']).toBe(sid);
  });

  it('sets X-Forwarded-*, rewrites Host and removes hop-by-hop request headers', async () => {
    const bridgeHost = new URL(stack.bridge.url).host;
    const r = await raw(`${stack.bridge.url}/web/version?x=1`, {
      headers: {
        Connection: 'keep-alive, X-Hop',
        'X-Hop': 'drop me',
        'Keep-Alive': 'timeout=5',
        TE: 'trailers',
        'Proxy-Authorization': 'Basic eDp5',
        'X-End-To-End': 'keep me',
      },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ version: '19.0' });
    const sent = stack.odoo.requests.filter((q) => q.path === '/web/version?x=1').at(-1);
    const h = sent?.headers ?? {};
    expect(h['host']).toBe(new URL(stack.odoo.url).host);
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(bridgeHost);
    expect(h['x-end-to-end']).toBe('keep me');
    for (const name of ['x-hop', 'keep-alive', 'te', 'proxy-authorization']) expect(h[name]).toBeUndefined();
  });

  /*
   * Attack: a client's own X-Forwarded-Host / -Proto reached Odoo as they were, and Odoo's
   * proxy_mode took its Host (dbfilter's %d) and scheme from them.
   * Now: they are believed only from a trusted proxy (BRIDGE_TRUSTED_PROXIES).
   */
  it("appends to an incoming X-Forwarded-For, and sets X-Forwarded-Host/-Proto itself: a client's own are not believed", async () => {
    await raw(`${stack.bridge.url}/web/version?x=2`, {
      headers: {
        'X-Forwarded-For': '203.0.113.7',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'erp.example.com',
      },
    });
    const h = stack.odoo.requests.filter((q) => q.path === '/web/version?x=2').at(-1)?.headers ?? {};
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(new URL(stack.bridge.url).host);
  });

  it('keeps X-Forwarded-Host/-Proto of a trusted proxy in front, and ends X-Forwarded-For with the client it names', async () => {
    const behind = await startStack({ config: { trustedProxies: parseTrustedProxies('loopback') } });
    try {
      await raw(`${behind.bridge.url}/web/version?x=3`, {
        headers: {
          'X-Forwarded-For': '198.51.100.1, 203.0.113.7, 127.0.0.9',
          'X-Forwarded-Proto': 'https',
          'X-Forwarded-Host': 'erp.example.com',
        },
      });
      const h = behind.odoo.requests.filter((q) => q.path === '/web/version?x=3').at(-1)?.headers ?? {};
      // Odoo's proxy mode takes the last hop: the client, not a proxy.
      expect(h['x-forwarded-for']).toBe('198.51.100.1, 203.0.113.7');
      expect(h['x-forwarded-proto']).toBe('https');
      expect(h['x-forwarded-host']).toBe('erp.example.com');
    } finally {
      await behind.close();
    }
  });

  it('refuses an absolute-form request target (werkzeug would take its Host from it)', async () => {
    const own = await startStack();
    try {
      const { port } = new URL(own.bridge.url);
      const sock = connect(Number(port), '127.0.0.1');
      await once(sock, 'connect');
      sock.write('GET http://victim.example/web/login HTTP/1.1\r\nHost: bridge\r\n\r\n');
      const [data] = (await once(sock, 'data')) as [Buffer];
      expect(data.toString()).toMatch(/^HTTP\/1\.1 400 /);
      sock.destroy();
      expect(own.odoo.requests.some((q) => q.path.includes('victim'))).toBe(false);
    } finally {
      await own.close();
    }
  });

  it('removes hop-by-hop answer headers', () => {
    expect(
      endToEnd({
        connection: 'close, x-private',
        'x-private': '1',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        trailer: 'x',
        upgrade: 'h2c',
        'proxy-authenticate': 'Basic',
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'text/plain',
      }),
    ).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'content-type': 'text/plain' });
  });

  it('one log line per forwarded request, X-Request-Id accepted, forwarded and echoed, no query string', async () => {
    const r = await raw(`${stack.bridge.url}/web/version?token=s3cr3t-in-query`, {
      headers: { 'X-Request-Id': 'fwd-req-42', 'User-Agent': 'forward-test/1.0' },
    });
    expect(r.status).toBe(200);
    expect(r.headers['x-request-id']).toBe('fwd-req-42');
    const sent = stack.odoo.requests.filter((q) => q.path.startsWith('/web/version?token=')).at(-1);
    expect(sent?.headers['x-request-id']).toBe('fwd-req-42');
    const line = stack.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['requestId'] === 'fwd-req-42');
    expect(line).toMatchObject({
      msg: 'forwarded request',
      forwarded: '/web/version',
      httpMethod: 'GET',
      status: 200,
      outcome: 'ok',
      userAgent: 'forward-test/1.0',
      client: '127.0.0.1',
    });
    expect(typeof line?.['ms']).toBe('number');
    expect(stack.logs.join('\n')).not.toContain('s3cr3t-in-query');

    // Without an id, the bridge makes one and still sends it both ways.
    const r2 = await raw(`${stack.bridge.url}/web/version?x=3`);
    const id = r2.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(
      stack.odoo.requests.filter((q) => q.path === '/web/version?x=3').at(-1)?.headers['x-request-id'],
    ).toBe(id);
  });

  it('forwarded requests are counted in /_bridge/metrics by route family, method and status class', async () => {
    await raw(`${stack.bridge.url}/web/webclient/version_info`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    await raw(`${stack.bridge.url}/some/unknown/path?x=${'a'.repeat(50)}`);
    const text = await (await fetch(`${stack.bridge.url}/_bridge/metrics`)).text();
    expect(text).toMatch(
      /odoo_bridge_forwarded_requests_total\{route="\/web\/version",method="GET",status="2xx"\} [1-9]/,
    );
    expect(text).toMatch(
      /odoo_bridge_forwarded_requests_total\{route="\/web\/webclient",method="POST",status="\dxx"\} 1/,
    );
    expect(text).toMatch(/odoo_bridge_forwarded_requests_total\{route="other",method="GET",status="4xx"\} 1/);
    expect(text).toMatch(/odoo_bridge_forwarded_duration_seconds_count\{route="\/web\/version"\} [1-9]/);
    expect(text).not.toContain('/some/unknown/path');
  });

  it("streams a 50 MiB download at the client's pace (nothing buffered)", async () => {
    const MiB = 1024 * 1024;
    const start = stack.odoo.bigDownloadWritten();
    let received = 0;
    let paused = false;
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
      request(`${stack.bridge.url}/web/content/big-download?mb=50`, resolve).on('error', reject).end(),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(50 * MiB));
    expect(res.headers['content-disposition']).toBe('attachment; filename=big.bin');
    // Read 1 MiB, then stop reading: Odoo must be held back (backpressure through the bridge).
    res.on('data', (c: Buffer) => {
      received += c.length;
      if (!paused && received >= MiB) {
        paused = true;
        res.pause();
      }
    });
    while (received < MiB) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 500));
    const writtenWhilePaused = stack.odoo.bigDownloadWritten() - start;
    expect(writtenWhilePaused).toBeLessThan(20 * MiB);
    const done = once(res, 'end');
    res.resume();
    await done;
    expect(received).toBe(50 * MiB);
    expect(stack.odoo.bigDownloadWritten() - start).toBe(50 * MiB);
  });

  it('streams a request body through (a 20 MiB upload)', async () => {
    const body = 'y'.repeat(20 * 1024 * 1024);
    const r = await raw(`${stack.bridge.url}/web/binary/upload_attachment`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    expect(r.status).toBe(404);
    const sent = stack.odoo.requests.filter((q) => q.path === '/web/binary/upload_attachment').at(-1);
    expect(sent?.body.length).toBe(body.length);
  });
});

describe('websocket upgrade', () => {
  let upstream: Server;
  let stack: Stack;
  beforeAll(async () => {
    upstream = createHttpServer((_req, res) => res.end('not an upgrade'));
    upstream.on('upgrade', (req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `X-Seen-Path: ${req.url}\r\nX-Seen-Host: ${req.headers.host}\r\nX-Seen-Xff: ${String(req.headers['x-forwarded-for'])}\r\n\r\n`,
      );
      socket.on('data', (c: Buffer) => socket.write(`echo:${c.toString()}`));
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const { port } = upstream.address() as { port: number };
    stack = await startStack({ odooUrl: `http://127.0.0.1:${port}` });
  });
  afterAll(async () => {
    await stack.odoo.close();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });

  it('/websocket is piped through both ways', async () => {
    const { port } = new URL(stack.bridge.url);
    const sock = connect(Number(port), '127.0.0.1');
    await once(sock, 'connect');
    sock.write(
      'GET /websocket?version=19 HTTP/1.1\r\nHost: bridge.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString()));
    while (!got.includes('\r\n\r\n')) await once(sock, 'data');
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(got).toContain('X-Seen-Path: /websocket?version=19');
    expect(got).toContain(`X-Seen-Host: 127.0.0.1:${(upstream.address() as { port: number }).port}\r\n`);
    expect(got).toContain('X-Seen-Xff: 127.0.0.1');
    sock.write('hello');
    while (!got.includes('echo:hello')) await once(sock, 'data');
    sock.destroy();
  });

  it('shutdown closes open websockets at once', async () => {
    const { port } = new URL(stack.bridge.url);
    const sock = connect(Number(port), '127.0.0.1');
    await once(sock, 'connect');
    sock.write('GET /websocket HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await once(sock, 'data');
    const closed = once(sock, 'close');
    const t0 = Date.now();
    expect(await stack.bridge.close()).toBe(true);
    await closed;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('upstream down', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ odooUrl: await closedPortUrl() });
  });
  afterAll(() => stack.close());

  it('a forwarded request answers 502 with a short text', async () => {
    const r = await fetch(`${stack.bridge.url}/web/login`);
    expect(r.status).toBe(502);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await r.text()).toMatch(
      /^502 Bad Gateway: odoo-rpc-bridge could not reach Odoo \(ECONNREFUSED\)\n$/,
    );
    const line = stack.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['forwarded'] === '/web/login');
    expect(line).toMatchObject({
      msg: 'forwarded request failed',
      outcome: 'unreachable',
      err: 'ECONNREFUSED',
    });
    const text = await (await fetch(`${stack.bridge.url}/_bridge/metrics`)).text();
    expect(text).toMatch(
      /odoo_bridge_forwarded_requests_total\{route="\/web",method="GET",status="unreachable"\} 1/,
    );
  });
});
