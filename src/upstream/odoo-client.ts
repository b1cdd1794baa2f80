/**
 * The only place that talks HTTP to Odoo: JSON-2 calls, `/web/version` and `/doc-bearer`, on one
 * keep-alive undici pool. Every transport failure (refused, reset, timeout, oversized or cut-off
 * answer) becomes an `OdooFault` that says what failed; HTTP error statuses are returned as
 * answers, for json2-errors.ts to map.
 */
import { Pool } from 'undici';
import { OdooFault } from '../errors.ts';
import type { UpstreamEndpoint, UpstreamErrorKind } from '../server/metrics.ts';

export interface UpstreamOptions {
  odooUrl: string;
  dbHeader: 'auto' | 'never';
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  maxUpstreamBytes: number;
  connections?: number;
}

export interface UpstreamAnswer {
  status: number;
  contentType: string;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface RequestOptions {
  db?: string | undefined;
  apiKey?: string | undefined;
  body?: string | undefined;
  requestId?: string | undefined;
}

export function upstreamError(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'odoo_rpc_bridge.UpstreamError', message });
}

/** Told of every request to Odoo when it ends: its time, and how it failed (metrics). */
export type UpstreamObserver = (
  endpoint: UpstreamEndpoint,
  seconds: number,
  error?: UpstreamErrorKind,
) => void;

export class OdooClient {
  readonly baseUrl: string;
  observer: UpstreamObserver | undefined;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly opts: UpstreamOptions;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
    const url = new URL(opts.odooUrl);
    this.baseUrl = opts.odooUrl;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? 64,
      connect: { timeout: opts.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      headersTimeout: opts.upstreamTimeoutMs,
      bodyTimeout: opts.upstreamTimeoutMs,
    });
  }

  /** `POST /json/2/<model>/<method>` with a JSON object body. Names must be validated by the caller. */
  json2(model: string, method: string, body: string, o: RequestOptions): Promise<UpstreamAnswer> {
    return this.send('POST', `/json/2/${model}/${method}`, { ...o, body }, undefined, 'json2');
  }

  /** `GET /web/version`: `{"version_info": [...], "version": "19.0"}`; `timeoutMs` overrides the call timeout. */
  version(timeoutMs?: number): Promise<UpstreamAnswer> {
    return this.send('GET', '/web/version', {}, timeoutMs, 'version');
  }

  /** `GET /doc-bearer/<model>.json`: the server's description of a model and its methods. */
  modelDoc(model: string, o: RequestOptions): Promise<UpstreamAnswer> {
    return this.send('GET', `/doc-bearer/${model}.json`, o, undefined, 'doc');
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    o: RequestOptions,
    timeoutMs: number | undefined,
    endpoint: UpstreamEndpoint,
  ): Promise<UpstreamAnswer> {
    const observer = this.observer;
    if (!observer) return this.request(method, path, o, timeoutMs);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    let answer: UpstreamAnswer;
    try {
      answer = await this.request(method, path, o, timeoutMs);
    } catch (e) {
      observer(endpoint, seconds(), e instanceof OdooFault ? (upstreamFaultKind(e) ?? 'other') : 'other');
      throw e;
    }
    // A JSON-2 error is an answer (json2-errors.ts); an answer that is not JSON is not Odoo's API
    // (checked cheaply: the content type and the first character, not by parsing).
    let kind: UpstreamErrorKind | undefined;
    if (endpoint === 'json2') {
      if (!answer.contentType.includes('json')) kind = answer.status === 200 ? 'garbage' : 'status';
      else if (!JSON_START.test(answer.text)) kind = 'garbage';
    }
    observer(endpoint, seconds(), kind);
    return answer;
  }

  private async request(
    method: 'GET' | 'POST',
    path: string,
    o: RequestOptions,
    timeoutMs: number | undefined,
  ): Promise<UpstreamAnswer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.apiKey !== undefined) headers['authorization'] = `bearer ${o.apiKey}`;
    if (o.db !== undefined && this.opts.dbHeader === 'auto') headers['x-odoo-database'] = o.db;
    if (o.requestId !== undefined) headers['x-request-id'] = o.requestId;
    const where = `${this.baseUrl}${path}`;
    const timeout = timeoutMs ?? this.opts.upstreamTimeoutMs;
    let res;
    try {
      res = await this.pool.request({
        method,
        path: this.basePath + path,
        headers,
        body: o.body,
        signal: AbortSignal.timeout(timeout),
      });
    } catch (e) {
      throw transportFault(e, where, timeout);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > this.opts.maxUpstreamBytes) {
          res.body.destroy();
          throw classified(
            'too_large',
            upstreamError(
              `Odoo's answer to ${where} is larger than BRIDGE_MAX_UPSTREAM_BYTES (${this.opts.maxUpstreamBytes} bytes)`,
            ),
          );
        }
        chunks.push(buf);
      }
    } catch (e) {
      if (e instanceof OdooFault) throw e;
      throw transportFault(e, where, timeout);
    }
    const ct = res.headers['content-type'];
    return {
      status: res.statusCode,
      contentType: (Array.isArray(ct) ? ct[0] : ct) ?? '',
      text: Buffer.concat(chunks, size).toString('utf8'),
      headers: res.headers,
    };
  }
}

/** How a JSON text begins (after blanks); anything else is garbage. */
const JSON_START = /^[\s]*["{[\-0-9tfn]/;

/** The kind of failure of the faults made here, for metrics (a fault's message is for people). */
const FAULT_KINDS = new WeakMap<OdooFault, UpstreamErrorKind>();

function classified(kind: UpstreamErrorKind, fault: OdooFault): OdooFault {
  FAULT_KINDS.set(fault, kind);
  return fault;
}

/** How a request to Odoo failed, when transportFault made the fault (else undefined). */
export function upstreamFaultKind(fault: OdooFault): UpstreamErrorKind | undefined {
  return FAULT_KINDS.get(fault);
}

export function transportFault(e: unknown, where: string, timeoutMs: number): OdooFault {
  const err = e as { code?: unknown; name?: string; message?: string; cause?: { code?: unknown } };
  // undici errors carry a string `code`; an aborted signal is a DOMException named TimeoutError.
  const code =
    typeof err.code === 'string'
      ? err.code
      : typeof err.cause?.code === 'string'
        ? err.cause.code
        : (err.name ?? '');
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return classified('timeout', upstreamError(`cannot reach Odoo at ${where}: connection timed out`));
  if (code === 'ECONNREFUSED')
    return classified('refused', upstreamError(`cannot reach Odoo at ${where}: connection refused`));
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return classified('refused', upstreamError(`cannot reach Odoo at ${where}: unknown host`));
  if (
    code === 'TimeoutError' ||
    code === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    return classified(
      'timeout',
      upstreamError(`Odoo at ${where} did not answer within ${timeoutMs} ms (BRIDGE_UPSTREAM_TIMEOUT_MS)`),
    );
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    return classified(
      'reset',
      upstreamError(`Odoo at ${where} closed the connection before its answer was complete`),
    );
  return classified(
    'other',
    upstreamError(`request to Odoo at ${where} failed: ${code || err.message || 'unknown error'}`),
  );
}
