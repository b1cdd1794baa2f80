/**
 * When a failed request to Odoo may be sent again (pure; odoo-client.ts applies it).
 *
 * A request is retried only when retrying cannot repeat an effect on Odoo:
 *
 * - `connect`: the failure happened before any byte of the request left the bridge: the
 *   connection was refused (ECONNREFUSED), the host name did not resolve (ENOTFOUND, EAI_AGAIN),
 *   or the TCP connection was not made in time (UND_ERR_CONNECT_TIMEOUT). Any method, writes
 *   included, since Odoo never saw it.
 * - `reset` / `status`: the method is in READ_ONLY_METHODS (or the request is a GET of
 *   `/web/version` or `/doc-bearer`), and the failure is transient at the transport: the
 *   connection was closed or reset before the answer was complete (UND_ERR_SOCKET, ECONNRESET,
 *   a short body), or a proxy answered 502, 503 or 504 with a body that is not JSON (a JSON body is
 *   Odoo's own answer, mapped as such).
 *
 * Never retried: writes and unknown methods (create, write, unlink, action_*, buttons, anything
 * not in the list) once the request may have been sent; timeouts (a slow Odoo is not helped by
 * twice the load, and the client's time is spent); 200 answers that are not JSON, oversized
 * answers, other statuses (they would fail the same way again).
 *
 * A retry budget bounds the extra load: within a sliding window of RETRY_WINDOW_MS, retries may
 * number at most `ratio` × the requests of the window plus `perSecond` × the window's seconds.
 */
import type { UpstreamEndpoint, UpstreamErrorKind } from './kinds.ts';

/** Methods that only read (ORM reads and the web client's read helpers); nothing else is retried after sending. */
export const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  'read',
  'search',
  'search_read',
  'search_count',
  'search_fetch',
  'fields_get',
  'name_search',
  'read_group',
  'formatted_read_group',
  'web_read_group',
  'default_get',
  'check_access_rights',
  'check_access',
  'has_access',
  'web_search_read',
  'web_read',
  'context_get',
  'get_views',
  'exists',
]);

export type RetryReason = 'connect' | 'reset' | 'status';

/** What failed: a transport fault (its kind) or an answer (its status and content type). */
export type AttemptFailure =
  { kind: UpstreamErrorKind; preSend: boolean } | { status: number; contentType: string };

/** Statuses a proxy in front of Odoo answers when Odoo is restarting or unreachable. */
const PROXY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Why this failure may be retried, or undefined when it must not be. `readOnly`: see READ_ONLY_METHODS. */
export function retryReason(failure: AttemptFailure, readOnly: boolean): RetryReason | undefined {
  if ('status' in failure) {
    return readOnly && PROXY_STATUSES.has(failure.status) && !failure.contentType.includes('json')
      ? 'status'
      : undefined;
  }
  if (failure.preSend) return 'connect';
  return readOnly && failure.kind === 'reset' ? 'reset' : undefined;
}

/** undici / system error codes that can only happen before the request was written. */
export const PRE_SEND_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether the JSON-2 method (or a GET endpoint) only reads. */
export function isReadOnly(endpoint: UpstreamEndpoint, method: string | undefined): boolean {
  if (endpoint !== 'json2') return true;
  return method !== undefined && READ_ONLY_METHODS.has(method);
}

/** Delay before retry `attempt` (1 = the first retry): `baseMs × 2^(attempt-1)`, jittered to ±50 %. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const d = baseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(d * (0.5 + random()));
}

export const RETRY_WINDOW_MS = 10_000;
const SLOTS = 10;

export interface RetryBudgetOptions {
  /** Retries allowed per request in the window (0.1: retries add at most 10 % to the load). */
  ratio: number;
  /** Retries allowed per second of the window whatever the traffic (so a quiet bridge may retry). */
  perSecond: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** Sliding-window retry budget: counts requests and retries in one-second slots of the last 10 s. */
export class RetryBudget {
  private readonly ratio: number;
  private readonly perSecond: number;
  private readonly now: () => number;
  private readonly requests = new Array<number>(SLOTS).fill(0);
  private readonly retries = new Array<number>(SLOTS).fill(0);
  private slotStart = 0;
  private slot = 0;

  constructor(o: RetryBudgetOptions) {
    this.ratio = o.ratio;
    this.perSecond = o.perSecond;
    this.now = o.now ?? Date.now;
    this.slotStart = this.now();
  }

  /** Counts a first attempt. */
  request(): void {
    this.advance();
    this.requests[this.slot] = (this.requests[this.slot] ?? 0) + 1;
  }

  /** Takes one retry from the budget; false (and nothing taken) when it is spent. */
  tryRetry(): boolean {
    this.advance();
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < SLOTS; i++) {
      requests += this.requests[i] ?? 0;
      retries += this.retries[i] ?? 0;
    }
    const allowed = this.ratio * requests + (this.perSecond * RETRY_WINDOW_MS) / 1000;
    if (retries + 1 > allowed + 1e-9) return false;
    this.retries[this.slot] = (this.retries[this.slot] ?? 0) + 1;
    return true;
  }

  private advance(): void {
    const slotMs = RETRY_WINDOW_MS / SLOTS;
    const now = this.now();
    const steps = Math.floor((now - this.slotStart) / slotMs);
    if (steps <= 0) return;
    for (let i = 0; i < Math.min(steps, SLOTS); i++) {
      this.slot = (this.slot + 1) % SLOTS;
      this.requests[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
    this.slotStart += steps * slotMs;
  }
}
