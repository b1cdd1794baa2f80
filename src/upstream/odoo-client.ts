/**
 * The bridge's client for Odoo's API: JSON-2 calls, `/web/version` and `/doc-bearer`, on one
 * keep-alive undici pool (web-database.ts has the database manager's, server/forward.ts the
 * pass-through's). Every transport failure (refused, reset, timeout, oversized or cut-off answer)
 * becomes an `UpstreamFault`: an `OdooFault` whose message says what failed, typed with how it
 * failed (`failure`, for metrics and retries) and whether the request provably never reached Odoo
 * (`preSend`). HTTP error statuses are returned as answers, for json2-errors.ts to map. Failures
 * that retry.ts deems safe to retry are retried (within the call's timeout and the retry budget).
 */
import type { Tracing } from '../server/tracing.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import { OdooFault, UPSTREAM_ERROR } from '../errors.ts';
import { checkedUtf8, textOf, type Utf8Bytes } from '../utf8-bytes.ts';
import type { UpstreamEndpoint, UpstreamErrorKind } from './kinds.ts';
import {
  backoffMs,
  isReadOnly,
  PRE_SEND_CODES,
  RetryBudget,
  retryReason,
  type AttemptFailure,
  type RetryReason,
} from './retry.ts';

export interface UpstreamOptions {
  odooUrl: string;
  dbHeader: 'auto' | 'never';
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  maxUpstreamBytes: number;
  /** Most connections open to Odoo at once (BRIDGE_UPSTREAM_CONNECTIONS). */
  connections: number;
  /** Retries of one request (BRIDGE_RETRY_MAX; 0: never retry). */
  retryMax: number;
  /** Base delay before a retry, jittered (BRIDGE_RETRY_BACKOFF_MS). */
  retryBackoffMs: number;
  /** Retries per request allowed over the last 10 s (BRIDGE_RETRY_BUDGET_RATIO). */
  retryBudgetRatio: number;
  /** Retries per second allowed whatever the traffic (BRIDGE_RETRY_BUDGET_PER_SECOND). */
  retryBudgetPerSecond: number;
}

/** A retry about to happen (`granted`), or refused because the retry budget is spent. */
export interface RetryEvent {
  endpoint: UpstreamEndpoint;
  /** `/json/2/<model>/<method>`, `/web/version` or `/doc-bearer/<model>.json` (no secrets). */
  path: string;
  reason: RetryReason;
  /** How the attempt failed: a transport kind, or `status <n>`. */
  failure: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  granted: boolean;
}

export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string;
  /** The body as it came, checked to be UTF-8 (bad bytes replaced by U+FFFD). */
  readonly bytes: Utf8Bytes;
  /** The body as text (decoded when first asked for: a large JSON answer never is). */
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** An answer whose text is decoded from its bytes only when asked for. */
class CollectedAnswer implements UpstreamAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly bytes: Utf8Bytes;
  readonly headers: Record<string, string | string[] | undefined>;
  private decoded: string | undefined;

  constructor(
    status: number,
    contentType: string,
    bytes: Utf8Bytes,
    headers: Record<string, string | string[] | undefined>,
  ) {
    this.status = status;
    this.contentType = contentType;
    this.bytes = bytes;
    this.headers = headers;
  }

  get text(): string {
    return (this.decoded ??= textOf(this.bytes));
  }
}

export interface RequestOptions {
  db?: string | undefined;
  apiKey?: string | undefined;
  /** A JSON text; a large one as UTF-8 chunks (sent as they are, with their length). */
  body?: string | Utf8Bytes | undefined;
  requestId?: string | undefined;
  /** Where the time spent waiting for Odoo's answers to the request (all attempts) is added, in ms. */
  timing?: { upstreamMs?: number } | undefined;
  /** A larger answer fails the request (default: BRIDGE_MAX_UPSTREAM_BYTES). */
  maxBytes?: number | undefined;
}

/** How a request to Odoo failed at the transport (`status` and `garbage` describe answers, never a fault). */
export type TransportFailure = Exclude<UpstreamErrorKind, 'status' | 'garbage'>;

/**
 * A request to Odoo that got no usable answer: the fault the legacy client gets
 * (`odoo_rpc_bridge.UpstreamError`, as `upstreamError` makes), with how the request failed
 * (`failure`: the metrics' `kind` label and retry.ts' input) and whether it failed before any byte
 * of it was written (`preSend`: the code was one of retry.ts' PRE_SEND_CODES), so that Odoo never
 * saw it and any method may be sent again.
 */
export class UpstreamFault extends OdooFault {
  readonly failure: TransportFailure;
  readonly preSend: boolean;

  constructor(failure: TransportFailure, message: string, preSend = false) {
    super({ kind: 'generic', name: UPSTREAM_ERROR, message });
    this.failure = failure;
    this.preSend = preSend;
  }
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
  /** Told of each retry and each retry refused by the budget (log line, metrics). */
  onRetry: ((e: RetryEvent) => void) | undefined;
  /** OpenTelemetry, when on (server/tracing.ts): a span per request to Odoo within a call. */
  tracing: Pick<Tracing, 'upstream'> | undefined;
  private readonly basePath: string;
  private readonly pool: Pool;
  /** Requests handed to the pool and not answered yet: at most `connections` (see `request`). */
  private active = 0;
  private readonly maxActive: number;
  /** Requests waiting for one of those places, first come first served. */
  private readonly waiting: Waiting[] = [];
  private readonly opts: UpstreamOptions;
  private readonly retryMax: number;
  private readonly retryBackoffMs: number;
  private readonly budget: RetryBudget;

  constructor(opts: UpstreamOptions) {
    this.opts = opts;
    const url = new URL(opts.odooUrl);
    this.baseUrl = opts.odooUrl;
    // Trailing slashes, tried from the first of a run only (`/\/+$/` rescans a run from each slash).
    this.basePath = url.pathname.replace(/(?<!\/)\/+$/, '');
    this.maxActive = opts.connections;
    this.pool = new Pool(url.origin, {
      connections: this.maxActive,
      connect: { timeout: opts.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      // No timers of undici's own for the answer's head and body: the call's deadline (request(),
      // one timer per call) covers both. Each of undici's is a timer object per request that
      // lives until undici's next sweep, up to a second: under load, thousands of them, all
      // promoted to V8's old generation.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.retryMax = opts.retryMax;
    this.retryBackoffMs = opts.retryBackoffMs;
    this.budget = new RetryBudget({
      ratio: opts.retryBudgetRatio,
      perSecond: opts.retryBudgetPerSecond,
    });
  }

  /** `POST /json/2/<model>/<method>` with a JSON object body. Names must be validated by the caller. */
  json2(model: string, method: string, body: string | Utf8Bytes, o: RequestOptions): Promise<UpstreamAnswer> {
    return this.send('POST', `/json/2/${model}/${method}`, { ...o, body }, undefined, 'json2', method);
  }

  /** `GET /web/version`: `{"version_info": [...], "version": "19.0"}`; `timeoutMs` overrides the call timeout. */
  version(timeoutMs?: number): Promise<UpstreamAnswer> {
    return this.send('GET', '/web/version', {}, timeoutMs, 'version');
  }

  /**
   * `POST /jsonrpc`: a legacy call of the server's own endpoint (shadow mode, src/server/shadow.ts,
   * for read-only calls only). `body` is the JSON-RPC request; its credentials are in its args.
   */
  jsonrpc(body: string, requestId: string, maxBytes: number, timeoutMs?: number): Promise<UpstreamAnswer> {
    return this.send('POST', '/jsonrpc', { body, requestId, maxBytes }, timeoutMs, 'shadow');
  }

  /** `GET /doc-bearer/<model>.json`: the server's description of a model and its methods. */
  modelDoc(model: string, o: RequestOptions): Promise<UpstreamAnswer> {
    return this.send('GET', `/doc-bearer/${model}.json`, o, undefined, 'doc');
  }

  /**
   * The connection pool's counts (connected, free, pending, running, size), for the soak; `pending`
   * and `size` include the requests waiting in this client's own queue (see `request`).
   */
  poolStats(): { connected: number; free: number; pending: number; running: number; size: number } {
    const { connected, free, pending, running, size } = this.pool.stats;
    let waiting = 0;
    for (const w of this.waiting) if (w.start) waiting++;
    return { connected, free, pending: pending + waiting, running, size: size + waiting };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** One request, retried when retry.ts allows it, all attempts within the call's timeout. */
  private async send(
    method: 'GET' | 'POST',
    path: string,
    o: RequestOptions,
    timeoutMs: number | undefined,
    endpoint: UpstreamEndpoint,
    odooMethod?: string,
  ): Promise<UpstreamAnswer> {
    const timeout = timeoutMs ?? this.opts.upstreamTimeoutMs;
    const deadline = Date.now() + timeout;
    this.budget.request();
    for (let attempt = 1; ; attempt++) {
      let answer: UpstreamAnswer | undefined;
      let failure: AttemptFailure | undefined;
      let fault: UpstreamFault | undefined;
      try {
        answer = await this.request(method, path, o, timeout, deadline, endpoint);
        if (answer.status >= 500) failure = { status: answer.status, contentType: answer.contentType };
      } catch (e) {
        if (!(e instanceof UpstreamFault)) throw e;
        fault = e;
        failure = { kind: e.failure, preSend: e.preSend };
      }
      const reason =
        failure && attempt <= this.retryMax
          ? retryReason(failure, isReadOnly(endpoint, odooMethod))
          : undefined;
      const delayMs = reason ? backoffMs(attempt, this.retryBackoffMs) : 0;
      // No retry that could not finish within the call's timeout.
      if (!reason || !failure || Date.now() + delayMs >= deadline) {
        if (fault) throw fault;
        return answer as UpstreamAnswer;
      }
      const granted = this.budget.tryRetry();
      this.onRetry?.({
        endpoint,
        path,
        reason,
        failure: 'status' in failure ? `status ${failure.status}` : failure.kind,
        attempt,
        delayMs,
        granted,
      });
      if (!granted) {
        if (fault) throw fault;
        return answer as UpstreamAnswer;
      }
      await sleep(delayMs);
    }
  }

  /** Tells the observer (metrics) how a request went and how long it took. */
  private observe(
    endpoint: UpstreamEndpoint,
    started: number,
    outcome: UpstreamAnswer | UpstreamFault,
  ): void {
    const observer = this.observer;
    if (!observer) return;
    const seconds = (performance.now() - started) / 1000;
    if (outcome instanceof UpstreamFault) return observer(endpoint, seconds, outcome.failure);
    // A JSON-2 error is an answer (json2-errors.ts); an answer that is not JSON is not Odoo's API
    // (checked cheaply: the content type and the first character, not by parsing).
    let kind: UpstreamErrorKind | undefined;
    if (endpoint === 'json2') {
      if (!outcome.contentType.includes('json')) kind = outcome.status === 200 ? 'garbage' : 'status';
      else if (!startsLikeJson(outcome.bytes)) kind = 'garbage';
    }
    observer(endpoint, seconds, kind);
  }

  /**
   * One request on the pool, its answer collected by an `AnswerCollector` (below). At most as many
   * requests are handed to the pool as it has connections; the others wait here, where a request
   * whose deadline passes is simply dropped. (In undici's own queue it would stay until a
   * connection took it, and aborting it then would destroy that connection.) The deadline holds
   * wherever the request is: waiting here, being written, being answered.
   */
  private request(
    method: 'GET' | 'POST',
    path: string,
    o: RequestOptions,
    timeout: number,
    deadline: number,
    endpoint: UpstreamEndpoint,
  ): Promise<UpstreamAnswer> {
    const started = performance.now();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.apiKey !== undefined) headers['authorization'] = `bearer ${o.apiKey}`;
    if (o.db !== undefined && this.opts.dbHeader === 'auto') headers['x-odoo-database'] = o.db;
    if (o.requestId !== undefined) headers['x-request-id'] = o.requestId;
    // Tracing on (server/tracing.ts): a child span of the call's, its traceparent sent on.
    const span = this.tracing?.upstream(method, path);
    if (span) Object.assign(headers, span.headers);
    let body: Dispatcher.DispatchOptions['body'];
    if (o.body === undefined || typeof o.body === 'string') body = o.body;
    else if (o.body.chunks.length === 1) body = o.body.chunks[0];
    else {
      // Written chunk by chunk, never joined: undici takes any iterable of buffers (its typings
      // leave iterables out) and sends it with the length given.
      body = [...o.body.chunks] as unknown as Dispatcher.DispatchOptions['body'];
      headers['content-length'] = String(o.body.length);
    }
    const maxBytes = Math.min(o.maxBytes ?? this.opts.maxUpstreamBytes, this.opts.maxUpstreamBytes);
    return new Promise((resolve, reject) => {
      let waiting: Waiting | undefined;
      let dispatched = false;
      const collector = new AnswerCollector(Math.min(NON_JSON_KEEP, maxBytes), maxBytes, (e, answer) => {
        clearTimeout(timer);
        if (waiting) waiting.start = undefined; // dropped from the queue, never sent
        if (dispatched) this.finished();
        const outcome =
          answer ??
          (e instanceof AnswerTooLarge
            ? new UpstreamFault(
                'too_large',
                o.maxBytes === undefined
                  ? `Odoo's answer to ${this.baseUrl}${path} is larger than BRIDGE_MAX_UPSTREAM_BYTES (${maxBytes} bytes)`
                  : `Odoo's answer to ${this.baseUrl}${path} is larger than ${maxBytes} bytes`,
              )
            : transportFault(e, `${this.baseUrl}${path}`, timeout));
        span?.end(
          outcome instanceof UpstreamFault ? undefined : outcome.status,
          outcome instanceof UpstreamFault ? outcome.failure : undefined,
        );
        try {
          this.observe(endpoint, started, outcome);
          if (o.timing) {
            const ms = (o.timing.upstreamMs ?? 0) + performance.now() - started;
            o.timing.upstreamMs = Math.round(ms * 10) / 10;
          }
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (outcome instanceof UpstreamFault) reject(outcome);
        else resolve(outcome);
      });
      const timer = setTimeout(
        () => collector.cancel(new DeadlinePassed()),
        Math.max(1, deadline - Date.now()),
      );
      const start = (): void => {
        waiting = undefined;
        dispatched = true;
        this.active++;
        this.pool.dispatch({ method, path: this.basePath + path, headers, body }, collector);
      };
      if (this.active < this.maxActive) start();
      else this.waiting.push((waiting = { start, deadline }));
    });
  }

  /**
   * A request handed to the pool is over: the next one waiting takes its place, unless its
   * deadline has passed (its timer, about to fire, reports it).
   */
  private finished(): void {
    this.active--;
    while (this.waiting.length > 0 && this.active < this.maxActive) {
      const next = this.waiting.shift() as Waiting;
      if (Date.now() < next.deadline) next.start?.();
    }
  }
}

/** A request waiting for a place in the pool; `start` is cleared when it is dropped. */
interface Waiting {
  start: (() => void) | undefined;
  deadline: number;
}

class AnswerTooLarge extends Error {}

/** The call's time is up (named as the timeout that AbortSignal.timeout gives). */
class DeadlinePassed extends Error {
  override name = 'TimeoutError';
}

/**
 * One answer, as undici's dispatcher hands it over: status, headers, then body chunks, kept as
 * they come (no stream, no abort signal in between: the cheapest way undici offers). It reports
 * once: the answer, or why there is none (a transport failure, AnswerTooLarge, or `cancel`'s
 * reason). All of a JSON answer is kept, up to `max` bytes; of an answer that is not JSON (an
 * error page, garbage; it only feeds a fault's message) the first `keep` bytes, and the rest is not
 * read: the request is aborted, so a proxy's endless page costs no memory.
 */
class AnswerCollector implements Dispatcher.DispatchHandler {
  private readonly keep: number;
  private readonly max: number;
  private report: ((e: unknown, answer?: UpstreamAnswer) => void) | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  /** Why the wait ended early, for a request that had not started yet. */
  private cancelled: Error | undefined;
  private status = 0;
  private contentType = '';
  private headers: Record<string, string | string[] | undefined> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  /** Undefined until the body's first non-blank byte says. */
  private notJson: boolean | undefined;

  constructor(keep: number, max: number, report: (e: unknown, answer?: UpstreamAnswer) => void) {
    this.keep = keep;
    this.max = max;
    this.report = report;
  }

  /** Stops waiting: reports `reason` now and aborts the request, now or when it starts. */
  cancel(reason: Error): void {
    if (!this.report) return;
    this.settle(reason);
    this.cancelled = reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.cancelled) controller.abort(this.cancelled);
    else this.controller = controller;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 100 Continue and the like
    const ct = headers['content-type'];
    this.status = statusCode;
    this.headers = headers;
    this.contentType = (Array.isArray(ct) ? ct[0] : ct) ?? '';
    if (!this.contentType.includes('json')) this.notJson = true;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.report) return;
    if (this.notJson === undefined) {
      const starts = jsonStart(chunk);
      if (starts !== undefined) this.notJson = !starts;
    }
    if (this.notJson && this.size + chunk.length > this.keep) {
      this.chunks.push(chunk.subarray(0, this.keep - this.size));
      this.size = this.keep;
      this.settle(undefined);
      controller.abort(new Error('rest of a non-JSON answer not read'));
      return;
    }
    this.size += chunk.length;
    if (this.size > this.max) {
      this.chunks = [];
      this.settle(new AnswerTooLarge());
      controller.abort(new AnswerTooLarge());
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.settle(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, e: Error): void {
    this.settle(e);
  }

  private settle(e: unknown): void {
    const report = this.report;
    if (!report) return;
    this.report = undefined;
    if (e !== undefined) return report(e);
    const bytes = checkedUtf8({ chunks: this.chunks, length: this.size });
    this.chunks = [];
    report(undefined, new CollectedAnswer(this.status, this.contentType, bytes, this.headers));
  }
}

/** How a JSON text begins (after blanks); anything else is garbage. */
const JSON_FIRST_BYTES: ReadonlySet<number> = new Set([...'"{[-0123456789tfn'].map((c) => c.charCodeAt(0)));

/** Whether the chunk's first byte after blanks can begin a JSON text (undefined: blanks only). */
function jsonStart(chunk: Buffer): boolean | undefined {
  const first = chunk.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  return first < 0 ? undefined : JSON_FIRST_BYTES.has(chunk[first] as number);
}

/** Whether the first byte after blanks can begin a JSON text. */
function startsLikeJson(bytes: Utf8Bytes): boolean {
  for (const chunk of bytes.chunks) {
    const starts = jsonStart(chunk);
    if (starts !== undefined) return starts;
  }
  return false;
}

/** How much of an answer that is not JSON is read (for the fault's message). */
const NON_JSON_KEEP = 64 * 1024;

/**
 * A transport failure as the fault that says what failed. undici's errors and the system's carry a
 * string `code` (`UND_ERR_SOCKET`, `ECONNREFUSED`); a `ConnectTimeoutError` made of an
 * `AggregateError` keeps the latter as its `cause`; an abort (the call's deadline, an AbortSignal)
 * has only its `name`.
 */
export function transportFault(e: unknown, where: string, timeoutMs: number): UpstreamFault {
  const err = e as { code?: unknown; name?: string; message?: string; cause?: { code?: unknown } };
  const code =
    typeof err.code === 'string'
      ? err.code
      : typeof err.cause?.code === 'string'
        ? err.cause.code
        : (err.name ?? '');
  const preSend = PRE_SEND_CODES.has(code);
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return new UpstreamFault('timeout', `cannot reach Odoo at ${where}: connection timed out`, preSend);
  if (code === 'ECONNREFUSED')
    return new UpstreamFault('refused', `cannot reach Odoo at ${where}: connection refused`, preSend);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new UpstreamFault('refused', `cannot reach Odoo at ${where}: unknown host`, preSend);
  if (
    code === 'TimeoutError' ||
    code === 'AbortError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    return new UpstreamFault(
      'timeout',
      `Odoo at ${where} did not answer within ${timeoutMs} ms (BRIDGE_UPSTREAM_TIMEOUT_MS)`,
      preSend,
    );
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH')
    return new UpstreamFault(
      'reset',
      `Odoo at ${where} closed the connection before its answer was complete`,
      preSend,
    );
  return new UpstreamFault(
    'other',
    `request to Odoo at ${where} failed: ${code || err.message || 'unknown error'}`,
    preSend,
  );
}
