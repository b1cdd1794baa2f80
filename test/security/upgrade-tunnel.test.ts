/**
 * Attack: POST /xmlrpc/2/common (or any path) with `Connection: Upgrade`, `Upgrade: websocket`
 * made the bridge pipe a raw socket to Odoo before seeing its answer: later requests on that
 * socket reached Odoo unlogged, Host and X-Forwarded-For unrewritten; an idle tunnel lived 150 s+.
 * Now: only GET /websocket upgrades, only on Odoo's 101, with an idle timeout; any other Upgrade
 * request is served as the ordinary request it is.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../support/harness.ts';

/** Reads from `sock` until `done(text)` holds or the socket closes; answers the text. */
async function readUntil(sock: Socket, done: (text: string) => boolean): Promise<string> {
  let text = '';
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('data', (c: Buffer) => (text += c.toString('latin1')));
  while (!done(text)) {
    const more = await Promise.race([once(sock, 'data').then(() => true), closed.then(() => false)]);
    if (!more) break;
  }
  return text;
}

describe('upgrades', () => {
  let odoo: Server;
  let s: Stack;
  /** What the upstream received: upgrade requests (method, path, headers) and whether it answered 101. */
  const seen: Array<{ method: string; url: string; xff: string; host: string }> = [];
  let answer101 = true;
  const sockets = new Set<import('node:stream').Duplex>();
  beforeAll(async () => {
    odoo = createServer((req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        xff: String(req.headers['x-forwarded-for']),
        host: String(req.headers.host),
      });
      res.writeHead(400, { 'content-type': 'text/plain', 'content-length': '19' });
      res.end('Empty or missing!!\n');
    });
    odoo.on('upgrade', (req, socket) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        xff: String(req.headers['x-forwarded-for']),
        host: String(req.headers.host),
      });
      if (!answer101) {
        socket.end(
          'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 7\r\n\r\nupgrade',
        );
        return;
      }
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (c: Buffer) => socket.write(`echo:${c.toString()}`));
      socket.on('error', () => undefined);
      socket.on('end', () => socket.destroy());
      sockets.add(socket);
    });
    await new Promise<void>((r) => odoo.listen(0, '127.0.0.1', () => r()));
    const { port } = odoo.address() as { port: number };
    s = await startStack({ odooUrl: `http://127.0.0.1:${port}`, config: { tunnelIdleTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await s.close();
    odoo.closeAllConnections();
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((r) => odoo.close(() => r()));
  });

  const open = async (): Promise<Socket> => {
    const { port } = new URL(s.bridge.url);
    const sock = connect(Number(port), '127.0.0.1');
    sock.on('error', () => undefined);
    await once(sock, 'connect');
    return sock;
  };

  it('an Upgrade header on a legacy path is ignored: the call is served, and so is the next one on the socket', async () => {
    const before = seen.length;
    const sock = await open();
    const body =
      "<?xml version='1.0'?><methodCall><methodName>set_loglevel</methodName><params><param><value>x</value></param></params></methodCall>";
    const post = `POST /xmlrpc/2/common HTTP/1.1\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    sock.write(post);
    const first = await readUntil(sock, (t) => t.includes('</methodResponse>'));
    expect(first).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(first).toContain('<boolean>1</boolean>');
    // The same socket carries on as HTTP with the bridge, not as a tunnel to Odoo.
    sock.write(
      `POST /xmlrpc/2/common HTTP/1.1\r\nHost: b\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    const second = await readUntil(sock, (t) => t.includes('</methodResponse>'));
    expect(second).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(second).toContain('<boolean>1</boolean>');
    sock.destroy();
    expect(seen.length).toBe(before);
    expect(s.logs.filter((l) => l.includes('"call":"set_loglevel"')).length).toBeGreaterThanOrEqual(2);
  });

  it("GET /websocket tunnels only on Odoo's 101, with X-Forwarded-For and Host rewritten, and is logged", async () => {
    const sock = await open();
    sock.write(
      'GET /websocket HTTP/1.1\r\nHost: bridge.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    const text = await readUntil(sock, (t) => t.includes('\r\n\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 101 /);
    const last = seen.at(-1);
    expect(last?.url).toBe('/websocket');
    expect(last?.xff).toBe('127.0.0.1');
    expect(last?.host).not.toBe('bridge.example');
    sock.write('ping');
    expect(await readUntil(sock, (t) => t.includes('echo:ping'))).toContain('echo:ping');
    sock.destroy();
  });

  it('an idle tunnel is closed after BRIDGE_TUNNEL_IDLE_TIMEOUT_SECONDS', async () => {
    const sock = await open();
    sock.write('GET /websocket HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    await readUntil(sock, (t) => t.includes('\r\n\r\n'));
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    await closed; // 300 ms of silence in this stack
    await new Promise((r) => setTimeout(r, 20));
    expect(s.logs.some((l) => l.includes('"outcome":"upgraded"') && l.includes('"err":"idle"'))).toBe(true);
  });

  it("Odoo's refusal of an upgrade is relayed as it came and the connection closed: nothing more reaches Odoo", async () => {
    answer101 = false;
    try {
      const sock = await open();
      sock.write('GET /websocket HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      const text = await readUntil(sock, () => false);
      expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text.endsWith('upgrade')).toBe(true);
      expect(sock.destroyed || sock.readableEnded).toBe(true);
    } finally {
      answer101 = true;
    }
  });
  it('a refused upgrade whose client never closes its side gives its place back at once, and its socket after LINGER_MS', async () => {
    // Found by review: the place was given back only on close, and a silent half-open client never
    // closed, so a few addresses could hold every place.
    answer101 = false;
    try {
      const { port } = new URL(s.bridge.url);
      const socks: Socket[] = [];
      const ended: Array<Promise<unknown>> = [];
      for (let i = 0; i < 6; i++) {
        const sock = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
        sock.on('error', () => undefined);
        ended.push(once(sock, 'end'));
        await once(sock, 'connect');
        sock.write('GET /websocket HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        sock.resume();
        socks.push(sock);
      }
      await Promise.all(ended);
      for (let i = 0; i < 50 && s.bridge.parts.admission.calls > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(s.bridge.parts.admission.calls).toBe(0);
      // The client never ends its side; the bridge destroys its socket after LINGER_MS (5 s).
      const open = (): Promise<number> =>
        new Promise((r, e) => s.bridge.server.getConnections((err, n) => (err ? e(err) : r(n))));
      expect(await open()).toBeGreaterThanOrEqual(socks.length);
      for (let i = 0; i < 80 && (await open()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await open()).toBe(0);
      for (const sock of socks) sock.destroy();
    } finally {
      answer101 = true;
    }
  });
});
