/**
 * Whole-URL drop-in: every request the bridge does not serve itself goes to Odoo unchanged,
 * streamed both ways (no buffering), with the hop-by-hop headers removed, `X-Forwarded-For`,
 * `-Proto` and `-Host` set and Host rewritten to the upstream's. Status, headers and cookies come
 * back as Odoo sent them; an Odoo that cannot be reached is a 502 with a short text. Websocket
 * upgrades (`/websocket`) are piped through a raw socket.
 */
import type { IncomingMessage, IncomingHttpHeaders, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { Readable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { Pool, type Dispatcher } from 'undici';
import { clientAddressOf, forwardedFor, isTrustedPeer, type TrustedProxies } from './client-address.ts';
import { loggedPath, methodLabel, routeFamily, statusClass } from './forward-route.ts';
import { requestIdOf } from './request-id.ts';

/** One forwarded request, for metrics (labels from fixed sets: see forward-route.ts). */
export interface ForwardSample {
  route: string;
  method: string;
  status: string;
  seconds: number;
}

/** Connections to Odoo for forwarded requests, at most (a pool of its own: docs/configuration.md, BRIDGE_UPSTREAM_CONNECTIONS). */
const FORWARD_CONNECTIONS = 64;

/** What the forwarder takes from the settings. */
export interface ForwarderOptions {
  odooUrl: string;
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** BRIDGE_TRUSTED_PROXIES: whose X-Forwarded-For names the client in the log line. */
  trustedProxies: TrustedProxies | undefined;
  /** BRIDGE_TUNNEL_IDLE_TIMEOUT_SECONDS, in ms. */
  tunnelIdleTimeoutMs: number;
}

interface Started {
  at: bigint;
  requestId: string;
  client: string | undefined;
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
  readonly origin: URL;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly log: Logger;
  /** Open upgraded connections (client side, upstream side). */
  private readonly tunnels = new Set<[Duplex, Socket]>();
  private readonly tunnelIdleMs: number;
  private readonly connectTimeoutMs: number;
  /** BRIDGE_TRUSTED_PROXIES: whose X-Forwarded-For names the client in the log line. */
  private readonly trusted: TrustedProxies | undefined;
  /** Told of every forwarded request once it ends (metrics). */
  observer: ((s: ForwardSample) => void) | undefined;

  constructor(opts: ForwarderOptions, log: Logger) {
    this.trusted = opts.trustedProxies;
    this.tunnelIdleMs = opts.tunnelIdleTimeoutMs;
    this.connectTimeoutMs = opts.connectTimeoutMs;
    this.origin = new URL(opts.odooUrl);
    this.basePath = this.origin.pathname.replace(/(?<!\/)\/+$/, '');
    this.log = log;
    this.pool = new Pool(this.origin.origin, {
      connections: FORWARD_CONNECTIONS,
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
    // What a client says of itself is believed only from a trusted proxy (BRIDGE_TRUSTED_PROXIES):
    // Odoo's proxy_mode takes the Host, scheme and (last) address it is given, for dbfilter,
    // redirects and its own login cooldown.
    const peer = req.socket.remoteAddress ?? '';
    const fromProxy = isTrustedPeer(this.trusted, peer);
    headers['x-forwarded-for'] = forwardedFor(req, this.trusted);
    const proto = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
    headers['x-forwarded-proto'] = (fromProxy ? first(req.headers['x-forwarded-proto']) : undefined) ?? proto;
    const host = (fromProxy ? first(req.headers['x-forwarded-host']) : undefined) ?? req.headers.host;
    if (host !== undefined) headers['x-forwarded-host'] = host;
    else delete headers['x-forwarded-host'];
    headers['host'] = this.origin.host;
    return headers;
  }

  async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.start(req);
    const requestId = started.requestId;
    if (!(req.url ?? '').startsWith('/')) {
      // An absolute-form target (`GET http://other.host/web/login`) would reach Odoo as is, and
      // werkzeug would take its Host from it: only origin-form paths are forwarded.
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end('400 Bad Request: odoo-rpc-bridge forwards origin-form request targets only (/path?query)\n');
      req.resume();
      this.done(req, started, 400, 'refused', 'absolute-form target');
      return;
    }
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
      this.done(req, started, undefined, 'unreachable', code);
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
      this.done(req, started, answer.statusCode, 'cut off', (e as Error).message);
      return;
    }
    this.done(req, started, answer.statusCode, 'ok');
  }

  /**
   * A legacy call sent on as it came, to a native upstream (src/server/native-route.ts): the same
   * path, the client's headers (hop-by-hop ones dropped, X-Forwarded-* as `forward` sets them), its
   * body (read already, or still arriving). Answers Odoo's answer, to be streamed back; throws
   * when Odoo cannot be reached.
   */
  legacy(
    req: IncomingMessage,
    path: string,
    requestId: string,
    body: Buffer | AsyncIterable<Buffer>,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<Dispatcher.ResponseData> {
    return this.pool.request({
      method: 'POST',
      path: this.basePath + path,
      headers: this.upstreamHeaders(req, requestId),
      body: Buffer.isBuffer(body) ? body : Readable.from(body, { objectMode: false }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal,
    });
  }

  /**
   * One JSON-RPC call of the bridge's own to a native upstream (`db.list`, `common.version`):
   * its `result`, or throws (HTTP error, an `error` answer, more than 1 MiB, not JSON).
   */
  async jsonrpc(service: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
    const answer = await this.pool.request({
      method: 'POST',
      path: `${this.basePath}/jsonrpc`,
      headers: { 'content-type': 'application/json', host: this.origin.host },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: 1 }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of answer.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 1 << 20) {
        answer.body.destroy();
        throw new Error(`${service}.${method}: the answer is larger than 1 MiB`);
      }
      chunks.push(chunk);
    }
    if (answer.statusCode !== 200) throw new Error(`${service}.${method}: HTTP ${answer.statusCode}`);
    const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      result?: unknown;
      error?: { message?: string };
    };
    if (doc.error) throw new Error(`${service}.${method}: ${String(doc.error.message ?? 'error')}`);
    return doc.result;
  }

  /** What a forwarded request's log line needs, taken while its socket is still attached. */
  private start(req: IncomingMessage): Started {
    return {
      at: process.hrtime.bigint(),
      requestId: requestIdOf(req),
      client: clientAddressOf(req, this.trusted),
    };
  }

  /** One log line and one metrics sample per forwarded request; the path without its query. */
  private done(
    req: IncomingMessage,
    started: Started,
    status: number | undefined,
    outcome: 'ok' | 'cut off' | 'unreachable' | 'upgraded' | 'refused',
    error?: string,
  ): void {
    const seconds = Number(process.hrtime.bigint() - started.at) / 1e9;
    const url = req.url ?? '/';
    this.observer?.({
      route: routeFamily(url),
      method: methodLabel(req.method),
      status: statusClass(status),
      seconds,
    });
    const line = {
      requestId: started.requestId,
      forwarded: loggedPath(url),
      httpMethod: req.method,
      status,
      outcome,
      ...(error !== undefined ? { err: error } : {}),
      client: started.client,
      userAgent: req.headers['user-agent'],
      ms: Math.round(seconds * 10_000) / 10,
    };
    if (outcome === 'ok' || outcome === 'upgraded') this.log.info(line, 'forwarded request');
    else if (outcome === 'refused') this.log.warn(line, 'forwarded request refused');
    else this.log.warn(line, 'forwarded request failed');
  }

  /**
   * A websocket upgrade, for Odoo's bus only (`GET /websocket`; the server's shouldUpgradeCallback
   * sends every other request with an Upgrade header the ordinary way). The request goes to Odoo
   * on a connection of its own; only if Odoo answers 101 are the two sockets joined, with
   * BRIDGE_TUNNEL_IDLE_TIMEOUT_SECONDS of silence both ways closing them (Odoo pings an idle
   * websocket every 40-55 s). Any other answer is relayed as it came and the connection closed:
   * nothing the client sends afterwards reaches Odoo unseen.
   */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = this.start(req);
    const requestId = started.requestId;
    socket.on('error', () => socket.destroy());
    if (!isWebsocketUpgrade(req)) {
      // Only reached where the server cannot choose which upgrades it takes (Node < 24.9).
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      this.done(req, started, 400, 'refused', 'upgrade outside /websocket');
      return;
    }
    const headers = this.upstreamHeaders(req, requestId, ['upgrade']);
    headers['connection'] = 'Upgrade';
    const send = this.origin.protocol === 'https:' ? httpsRequest : httpRequest;
    const up = send({
      protocol: this.origin.protocol,
      hostname: this.origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.origin.port,
      method: 'GET',
      path: this.basePath + (req.url ?? '/'),
      headers,
      agent: false,
      timeout: this.connectTimeoutMs,
    });
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      up.destroy();
      if (socket.writable)
        socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else socket.destroy();
      this.done(req, started, undefined, 'unreachable', e.message);
    };
    up.once('error', fail);
    up.once('timeout', () => fail(new Error('timed out connecting to Odoo')));
    socket.once('close', () => {
      if (!settled) {
        settled = true;
        up.destroy();
      }
    });
    up.once('response', (answer: IncomingMessage) => {
      // Not upgraded: Odoo's answer goes back as it is, and the connection ends with it.
      if (settled) return;
      settled = true;
      const status = answer.statusCode ?? 502;
      const out = endToEnd(answer.headers);
      out['x-request-id'] ??= requestId;
      out['connection'] = 'close';
      socket.write(responseHead(status, answer.statusMessage ?? '', out));
      answer.pipe(socket);
      answer.once('end', () => this.done(req, started, status, 'ok'));
      answer.once('error', () => socket.destroy());
    });
    up.once('upgrade', (answer: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      if (settled) {
        upstream.destroy();
        return;
      }
      settled = true;
      socket.write(
        responseHead(101, answer.statusMessage ?? 'Switching Protocols', rawPairs(answer.rawHeaders)),
      );
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      const tunnel: [Duplex, Socket] = [socket, upstream];
      this.tunnels.add(tunnel);
      const end = (why?: string): void => {
        if (!this.tunnels.delete(tunnel)) return;
        socket.destroy();
        upstream.destroy();
        this.done(req, started, 101, 'upgraded', why);
      };
      // Silence both ways for the idle timeout closes the tunnel: data either way resets both.
      const idle = (): void => end('idle');
      const activity = (): void => {
        (socket as Socket).setTimeout?.(this.tunnelIdleMs);
        upstream.setTimeout(this.tunnelIdleMs);
      };
      (socket as Socket).setTimeout?.(this.tunnelIdleMs, idle);
      upstream.setTimeout(this.tunnelIdleMs, idle);
      socket.on('data', activity);
      upstream.on('data', activity);
      upstream.on('error', () => end());
      socket.pipe(upstream);
      upstream.pipe(socket);
      // Either side ending ends the tunnel (websockets close in band; a half-open tunnel would
      // only hold two sockets).
      upstream.once('end', () => end());
      socket.once('end', () => end());
      upstream.once('close', () => end());
      socket.once('close', () => end());
    });
    up.end();
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

/** Whether `req` is the upgrade Odoo serves: `GET /websocket` (its bus), any query string. */
export function isWebsocketUpgrade(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return req.method === 'GET' && (q < 0 ? url : url.slice(0, q)) === '/websocket';
}

/** An HTTP/1.1 response head, header values with CR/LF dropped. */
function responseHead(
  status: number,
  message: string,
  headers: Record<string, string | string[]> | Array<[string, string]>,
): string {
  const clean = (v: string): string => v.replace(/[\r\n]/g, '');
  let text = `HTTP/1.1 ${status} ${clean(message)}\r\n`;
  const pairs = Array.isArray(headers)
    ? headers
    : Object.entries(headers).flatMap(([n, v]) =>
        (Array.isArray(v) ? v : [v]).map((x): [string, string] => [n, x]),
      );
  for (const [name, value] of pairs) text += `${clean(name)}: ${clean(value)}\r\n`;
  return text + '\r\n';
}

/** Raw headers (name, value, name, value, …) as pairs, names as Odoo wrote them. */
function rawPairs(raw: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
}
