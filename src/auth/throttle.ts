/**
 * Brute-force throttling: failed verifications are counted per account (db + login, or db + uid
 * when the login is not known) and per client address over a sliding window. Once either count
 * reaches its limit, further attempts are refused without being verified until enough failures
 * have left the window. A success clears the account's count, not the client's (an attacker with
 * one valid login must not be able to reset the count of the address they guess from).
 *
 * Verifications in flight count against the account's limit (so that a burst of parallel guesses
 * is not all admitted before the first one fails), not against the client's (an integration may
 * log many users in at once).
 *
 * Memory is bounded: at most `maxTracked` accounts and clients are remembered (least recently
 * failed first out), each with at most `limit` timestamps. It is also only what failures use: the
 * windows are plain maps (an LRU cache sized for 50,000 entries allocates them all up front: about
 * 3 MB that V8's old generation carried for nothing).
 */

export interface ThrottleOptions {
  /** Failures per account within the window before it is throttled. */
  maxPerAccount: number;
  /** Failures per client address within the window before it is throttled. */
  maxPerClient: number;
  windowMs: number;
  maxTracked?: number;
  now?: () => number;
}

export interface Blocked {
  /** Which count is at its limit. */
  by: 'account' | 'client';
  /** Whole seconds until the next attempt will be verified (at least 1). */
  retryInSeconds: number;
}

export interface FailureCounts {
  account: number;
  client: number;
}

class Window {
  /** Failure times by key; a key's last failure moves it to the end (Map order: least recent first). */
  private readonly log = new Map<string, number[]>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly max: number;

  constructor(limit: number, windowMs: number, max: number) {
    this.limit = Math.max(1, limit);
    this.windowMs = Math.max(1, windowMs);
    this.max = Math.max(1, max);
  }

  private recent(key: string, now: number): number[] {
    const times = this.log.get(key);
    return times ? times.filter((t) => t > now - this.windowMs) : [];
  }

  /** Milliseconds until `key` is below its limit again, or 0; `inFlight` attempts count as failures. */
  waitMs(key: string, now: number, inFlight = 0): number {
    const times = this.recent(key, now);
    if (times.length + inFlight < this.limit) return 0;
    // Verifications still running decide within a second or so.
    if (times.length < this.limit) return 1000;
    // The oldest of the last `limit` failures must leave the window.
    const oldest = times[times.length - this.limit] ?? now;
    return Math.max(1, oldest + this.windowMs - now);
  }

  add(key: string, now: number): number {
    const times = [...this.recent(key, now), now].slice(-this.limit);
    this.log.delete(key);
    this.log.set(key, times);
    this.prune(now);
    return times.length;
  }

  count(key: string, now: number): number {
    return this.recent(key, now).length;
  }

  clear(key: string): void {
    this.log.delete(key);
  }

  /** Drops the least recent keys past the cap, and those whose last failure has left the window. */
  private prune(now: number): void {
    for (const [key, times] of this.log) {
      const last = times[times.length - 1] ?? 0;
      if (this.log.size <= this.max && last > now - this.windowMs) return;
      this.log.delete(key);
    }
  }
}

export class Throttle {
  private readonly accounts: Window;
  private readonly clients: Window;
  private readonly now: () => number;
  /** Verifications running per account: parallel guesses must not all slip in before the first fails. */
  private readonly running = new Map<string, number>();

  constructor(opts: ThrottleOptions) {
    const max = opts.maxTracked ?? 50_000;
    this.accounts = new Window(opts.maxPerAccount, opts.windowMs, max);
    this.clients = new Window(opts.maxPerClient, opts.windowMs, max);
    this.now = opts.now ?? Date.now;
  }

  /** Whether an attempt for `account` from `client` must be refused unverified, and for how long. */
  blocked(account: string, client: string | undefined): Blocked | undefined {
    const now = this.now();
    const a = this.accounts.waitMs(account, now, this.running.get(account) ?? 0);
    const c = client === undefined ? 0 : this.clients.waitMs(client, now);
    if (a === 0 && c === 0) return undefined;
    return { by: a >= c ? 'account' : 'client', retryInSeconds: Math.ceil(Math.max(a, c) / 1000) };
  }

  /** A verification for `account` starts (admitted by `blocked`); `end` when it is decided. */
  begin(account: string): void {
    this.running.set(account, (this.running.get(account) ?? 0) + 1);
  }

  end(account: string): void {
    const n = (this.running.get(account) ?? 1) - 1;
    if (n > 0) this.running.set(account, n);
    else this.running.delete(account);
  }

  /** Counts a failed verification; answers the counts within the window, this one included. */
  failed(account: string, client: string | undefined): FailureCounts {
    const now = this.now();
    return {
      account: this.accounts.add(account, now),
      client: client === undefined ? 0 : this.clients.add(client, now),
    };
  }

  succeeded(account: string): void {
    this.accounts.clear(account);
  }

  counts(account: string, client: string | undefined): FailureCounts {
    const now = this.now();
    return {
      account: this.accounts.count(account, now),
      client: client === undefined ? 0 : this.clients.count(client, now),
    };
  }
}
