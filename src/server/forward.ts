/**
 * Whole-URL drop-in: every request the bridge does not serve itself goes to Odoo unchanged,
 * streamed both ways (no buffering), with the hop-by-hop headers removed, `X-Forwarded-For`,
 * `-Proto` and `-Host` set and Host rewritten to the upstream's. Status, headers and cookies come
 * back as Odoo sent them; an Odoo that cannot be reached is a 502 with a short text. Websocket
 * upgrades (`/websocket`) are piped through a raw socket.
 */
import type { IncomingMessage, IncomingHttpHeaders, ServerResponse } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import type { UpstreamOptions } from '../upstream/odoo-client.ts';
import { loggedPath, methodLabel, routeFamily, statusClass } from './forward-route.ts';
import { requestIdOf } from './request-id.ts';

/** One forwarded request, for metrics (labels from fixed sets: see forward-route.ts). */
export interface ForwardSample {
  route: string;
  method: string;
  status: string;
  seconds: number;
}

/** RFC 9110 §7.6.1 hop-by-hop headers, plus `expect` (node answers 100-continue itself). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

function connectionTokens(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): Set<string> {
  const c = headers['connection'];
  const value = Array.isArray(c) ? c.join(',') : (c ?? '');
  return new Set(
    value
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Headers minus the hop-by-hop ones (and those the Connection header names). */
export function endToEnd(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
  keep: readonly string[] = [],
): Record<string, string | string[]> {
  const named = connectionTokens(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (value === undefined || ((HOP_BY_HOP.has(n) || named.has(n)) && !keep.includes(n))) continue;
    if (n.startsWith('proxy-') && !keep.includes(n)) continue;
    out[n] = value;
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export class Forwarder {
  private readonly origin: URL;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly log: Logger;
  /** Open upgraded connections (client side, upstream side). */
  private readonly tunnels = new Set<[Duplex, Socket]>();
  /** Told of every forwarded request once it ends (metrics). */
  observer: ((s: ForwardSample) => void) | undefined;

  constructor(opts: UpstreamOptions, log: Logger) {
    this.origin = new URL(opts.odooUrl);
    this.basePath = this.origin.pathname.replace(/\/+$/, '');
    this.log = log;
    this.pool = new Pool(this.origin.origin, {
      connections: opts.connections ?? 64,
      connect: { timeout: opts.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      headersTimeout: opts.upstreamTimeoutMs,
      bodyTimeout: opts.upstreamTimeoutMs,
    });
  }

  /** The request headers sent upstream: end-to-end ones, Host rewritten, X-Forwarded-* set. */
  upstreamHeaders(
    req: IncomingMessage,
    requestId: string,
    keep: readonly string[] = [],
  ): Record<string, string | string[]> {
    const headers = endToEnd(req.headers, keep);
    headers['x-request-id'] = requestId;
    const client = req.socket.remoteAddress ?? '';
    const xff = first(req.headers['x-forwarded-for']);
    headers['x-forwarded-for'] = xff ? `${xff}, ${client}` : client;
    headers['x-forwarded-proto'] =
      first(req.headers['x-forwarded-proto']) ??
      ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
    const host = first(req.headers['x-forwarded-host']) ?? req.headers.host;
    if (host !== undefined) headers['x-forwarded-host'] = host;
    headers['host'] = this.origin.host;
    return headers;
  }

  async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    const method = req.method ?? 'GET';
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const abort = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    let answer;
    try {
      answer = await this.pool.request({
        method: method as 'GET',
        path: this.basePath + (req.url ?? '/'),
        headers: this.upstreamHeaders(req, requestId),
        body: hasBody ? req : null,
        signal: abort.signal,
      });
    } catch (e) {
      const code = (e as { code?: string }).code ?? (e as Error).name;
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, {
          'Content-Type': 'text/plain; charset=utf-8',
          Connection: 'close',
          'X-Request-Id': requestId,
        });
        res.end(`502 Bad Gateway: odoo-rpc-bridge could not reach Odoo (${code})\n`);
      } else res.destroy();
      req.resume();
      this.done(req, requestId, started, undefined, 'unreachable', code);
      return;
    }
    const headers = endToEnd(answer.headers);
    headers['x-request-id'] ??= requestId;
    res.writeHead(answer.statusCode, headers);
    try {
      await pipeline(answer.body, res);
    } catch (e) {
      // Odoo or the client went away mid-answer: cut the connection so nothing reads as complete.
      res.destroy();
      this.done(req, requestId, started, answer.statusCode, 'cut off', (e as Error).message);
      return;
    }
    this.done(req, requestId, started, answer.statusCode, 'ok');
  }

  /** One log line and one metrics sample per forwarded request; the path without its query. */
  private done(
    req: IncomingMessage,
    requestId: string,
    started: bigint,
    status: number | undefined,
    outcome: 'ok' | 'cut off' | 'unreachable' | 'upgraded',
    error?: string,
  ): void {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const url = req.url ?? '/';
    this.observer?.({
      route: routeFamily(url),
      method: methodLabel(req.method),
      status: statusClass(status),
      seconds,
    });
    const line = {
      requestId,
      forwarded: loggedPath(url),
      httpMethod: req.method,
      status,
      outcome,
      ...(error !== undefined ? { err: error } : {}),
      client: req.socket.remoteAddress,
      userAgent: req.headers['user-agent'],
      ms: Math.round(seconds * 10_000) / 10,
    };
    if (outcome === 'ok' || outcome === 'upgraded') this.log.info(line, 'forwarded request');
    else this.log.warn(line, 'forwarded request failed');
  }

  /** A websocket (or other) upgrade: the request re-sent upstream, then both sockets piped. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    const port = Number(this.origin.port) || (this.origin.protocol === 'https:' ? 443 : 80);
    const host = this.origin.hostname.replace(/^\[(.*)\]$/, '$1');
    const up: Socket =
      this.origin.protocol === 'https:'
        ? tlsConnect({ host, port, servername: host, ALPNProtocols: ['http/1.1'] })
        : netConnect({ host, port });
    let connected = false;
    const fail = (e: Error): void => {
      if (!connected) this.done(req, requestId, started, undefined, 'unreachable', e.message);
      else this.log.warn({ requestId, err: e.message }, 'forwarded upgrade failed');
      if (!connected && socket.writable)
        socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      up.destroy();
    };
    up.once('error', fail);
    socket.once('error', () => up.destroy());
    up.once(this.origin.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      connected = true;
      const headers = this.upstreamHeaders(req, requestId, ['upgrade']);
      headers['connection'] = 'Upgrade';
      let text = `${req.method ?? 'GET'} ${this.basePath}${req.url ?? '/'} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(headers))
        for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
      up.write(text + '\r\n');
      if (head.length > 0) up.write(head);
      socket.pipe(up);
      up.pipe(socket);
      const tunnel: [Duplex, Socket] = [socket, up];
      this.tunnels.add(tunnel);
      const end = (): void => {
        if (this.tunnels.has(tunnel)) this.done(req, requestId, started, 101, 'upgraded');
        this.tunnels.delete(tunnel);
        socket.destroy();
        up.destroy();
      };
      up.once('close', end);
      socket.once('close', end);
    });
  }

  /** Closes every upgraded connection (websockets are not calls: shutdown does not wait for them). */
  closeTunnels(): void {
    for (const [socket, up] of this.tunnels) {
      socket.destroy();
      up.destroy();
    }
    this.tunnels.clear();
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
