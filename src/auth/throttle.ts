/**
 * Brute-force throttling: failed verifications are counted per account (db + login, or db + uid
 * when the login is not known) and per client address over a sliding window. Once either count
 * reaches its limit, further attempts are refused without being verified until enough failures
 * have left the window. A success clears the account's count, not the client's (an attacker with
 * one valid login must not be able to reset the count of the address they guess from).
 *
 * Verifications in flight count against both limits, so that a burst of parallel guesses is not
 * all admitted before the first one fails: an attempt that would make failures plus verifications
 * in flight reach a limit waits (`acquire`) until one of them is decided, then is admitted or
 * refused on the failures counted by then. A burst of good logins from one integration only waits;
 * a burst of guesses gets at most the limit verified. At most `maxWaiting` attempts wait at once,
 * and never more than four times its limit for one account or client: past that an attempt is
 * refused.
 *
 * Memory is bounded: at most `maxTracked` accounts and clients are remembered (least recently
 * failed first out), each with at most `limit` timestamps. It is also only what failures use: the
 * windows are plain maps (an LRU cache sized for 50,000 entries allocates them all up front: about
 * 3 MB that V8's old generation carried for nothing).
 *
 * Shared counts (BRIDGE_REDIS_URL, src/shared/throttle-counts.ts): every replica's failures and
 * verifications in flight are also counted in Redis, and an attempt is admitted only when both
 * this replica's counts and the shared ones leave room, so N replicas allow what one allows. When
 * the shared counts cannot be reached, this replica's own decide (and Redis is tried again at the
 * next attempt).
 */

/** A verification's admission by the shared counts. */
export type Reservation =
  | { kind: 'reserved'; ticket: string }
  /** Failures reached the limit on the replicas together. */
  | { kind: 'blocked'; by: 'account' | 'client'; waitMs: number }
  /** Failures plus verifications in flight on the replicas reached it: wait for one. */
  | { kind: 'full'; by: 'account' | 'client' };

/** The shared failures of one name once a failure is counted. */
export interface SharedFailure {
  by: 'account' | 'client';
  count: number;
  /** Milliseconds until the name is below its limit again (0: it is). */
  waitMs: number;
}

/** Counts shared by the replicas; each answers undefined when it could not be reached. */
export interface SharedCounts {
  reserve(account: string | undefined, client: string | undefined): Promise<Reservation | undefined>;
  release(account: string | undefined, client: string | undefined, ticket: string): void;
  fail(account: string | undefined, client: string | undefined): Promise<SharedFailure[] | undefined>;
  clear(account: string): void;
}

/** Longest an attempt waits for other replicas' verifications in flight before it is refused. */
const SHARED_WAIT_MS = 2000;

export interface ThrottleOptions {
  /** Failures per account within the window before it is throttled. */
  maxPerAccount: number;
  /** Failures per client address within the window before it is throttled. */
  maxPerClient: number;
  windowMs: number;
  maxTracked?: number;
  /** Attempts waiting for a verification in flight to be decided, at most. */
  maxWaiting?: number;
  now?: () => number;
  /** Counts shared with the other replicas (BRIDGE_REDIS_URL). */
  shared?: SharedCounts | undefined;
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

  /** Milliseconds until `key` is below its limit again, or 0. */
  waitMs(key: string, now: number): number {
    const times = this.recent(key, now);
    if (times.length < this.limit) return 0;
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

  get size(): number {
    return this.log.size;
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

/** Refused attempts, in multiples of the per-client limit, that make a client shed (`Throttle.shed`). */
export const SHED_AFTER = 5;

/** An attempt waiting for room (see `acquire`). */
interface Waiter {
  wake: () => void;
}

export class Throttle {
  private readonly accounts: Window;
  private readonly clients: Window;
  private readonly now: () => number;
  /** Verifications running per account and per client. */
  private readonly runningAccounts = new Map<string, number>();
  private readonly runningClients = new Map<string, number>();
  private waiting: Waiter[] = [];
  /** Attempts waiting, per account and per client (each capped at four times its limit). */
  private readonly waitingAccounts = new Map<string, number>();
  private readonly waitingClients = new Map<string, number>();
  private waking = false;
  private readonly maxWaiting: number;
  private readonly maxPerAccount: number;
  private readonly maxPerClient: number;
  /**
   * Clients refused as throttled, with how often and until when their failures keep them so.
   * One that goes on trying SHED_AFTER times as often as its limit is `shed` (least recently
   * refused first out past `maxTracked`).
   */
  private readonly refusals = new Map<string, { count: number; until: number }>();
  private readonly maxTracked: number;
  private readonly shared: SharedCounts | undefined;
  /** Shared reservations of this replica's verifications in flight, per account and client. */
  private readonly tickets = new Map<string, string[]>();
  /** Until when the shared counts said an account or client is at its limit (bounded as `refusals`). */
  private readonly sharedUntil = new Map<string, number>();

  constructor(opts: ThrottleOptions) {
    const max = opts.maxTracked ?? 50_000;
    this.accounts = new Window(opts.maxPerAccount, opts.windowMs, max);
    this.clients = new Window(opts.maxPerClient, opts.windowMs, max);
    this.maxPerAccount = Math.max(1, opts.maxPerAccount);
    this.maxPerClient = Math.max(1, opts.maxPerClient);
    this.maxWaiting = opts.maxWaiting ?? 1000;
    this.maxTracked = max;
    this.now = opts.now ?? Date.now;
    this.shared = opts.shared;
  }

  /** An attempt from `client` was refused as throttled (`blocked` said so) for `retryInSeconds`. */
  refused(client: string | undefined, blocked: Blocked): void {
    if (client === undefined) return;
    const now = this.now();
    // Only a client that failed itself is counted: one refused because someone else's guesses
    // blocked an account it uses must not end up shed for it.
    if (this.clients.count(client, now) === 0) return;
    const until = now + blocked.retryInSeconds * 1000;
    const r = this.refusals.get(client);
    const count = r && r.until > now ? r.count + 1 : 1;
    this.refusals.delete(client);
    this.refusals.set(client, { count, until });
    if (this.refusals.size > this.maxTracked) {
      const oldest = this.refusals.keys().next().value;
      if (oldest !== undefined) this.refusals.delete(oldest);
    }
  }

  /**
   * Whether `client` went on trying after it was throttled (its own failures or an account's),
   * SHED_AFTER times as often as its limit within the window: a flood (a guessing tool makes
   * that many in a fraction of a second), not a misconfigured job retrying every second. Its
   * requests are then refused before they are read, its connections as they open, until its
   * failures leave the window.
   */
  shed(client: string): boolean {
    const r = this.refusals.get(client);
    if (r === undefined) return false;
    if (r.until <= this.now()) {
      this.refusals.delete(client);
      return false;
    }
    return r.count >= SHED_AFTER * this.maxPerClient;
  }

  /** Whether any client is shed now (a cheap test before looking one up). */
  get shedding(): boolean {
    return this.refusals.size > 0;
  }

  /** Whether any account has failures counted (a success then has a count to clear). */
  get tracking(): boolean {
    return this.accounts.size > 0;
  }

  /**
   * Whether an attempt must be refused unverified on the failures alone, and for how long.
   * `account` undefined: no per-account limit applies (API keys: see authenticator.ts).
   */
  blocked(account: string | undefined, client: string | undefined): Blocked | undefined {
    const now = this.now();
    let a = account === undefined ? 0 : this.accounts.waitMs(account, now);
    let c = client === undefined ? 0 : this.clients.waitMs(client, now);
    if (this.sharedUntil.size > 0) {
      a = Math.max(a, this.sharedWait(account === undefined ? undefined : `a\0${account}`, now));
      c = Math.max(c, this.sharedWait(client === undefined ? undefined : `c\0${client}`, now));
    }
    if (a === 0 && c === 0) return undefined;
    return { by: a >= c ? 'account' : 'client', retryInSeconds: Math.ceil(Math.max(a, c) / 1000) };
  }

  /**
   * Admits a verification for `account` from `client` (counted in flight until `release`), after
   * waiting for verifications in flight where they could take the counts to a limit; or answers
   * why it is refused. Exactly one `release` must follow an admission.
   */
  async acquire(account: string | undefined, client: string | undefined): Promise<Blocked | undefined> {
    const started = this.now();
    for (;;) {
      const blocked = this.blocked(account, client);
      if (blocked) return blocked;
      const room = this.room(account, client);
      if (room === undefined) {
        this.begin(account, client);
        if (!this.shared) return undefined;
        const r = await this.shared.reserve(account, client);
        if (r === undefined) return undefined; // unreachable: this replica's counts decide
        if (r.kind === 'reserved') {
          push(this.tickets, pair(account, client), r.ticket);
          return undefined;
        }
        this.end(account, client);
        if (r.kind === 'blocked') {
          this.sharedBlocked(r.by === 'account' ? account : client, r.by, r.waitMs);
          return { by: r.by, retryInSeconds: Math.ceil(r.waitMs / 1000) };
        }
        // Other replicas' verifications in flight fill the room: ask again shortly, for a while.
        if (this.now() - started >= SHARED_WAIT_MS) return { by: r.by, retryInSeconds: 1 };
        await new Promise((wake) => setTimeout(wake, 40 + Math.random() * 80));
        continue;
      }
      // Full: wait for a verification in flight to be decided, unless too many wait already.
      const mine =
        room === 'account'
          ? (this.waitingAccounts.get(account as string) ?? 0)
          : (this.waitingClients.get(client as string) ?? 0);
      const cap = 4 * (room === 'account' ? this.maxPerAccount : this.maxPerClient);
      if (this.waiting.length >= this.maxWaiting || mine >= cap) return { by: room, retryInSeconds: 1 };
      if (account !== undefined) inc(this.waitingAccounts, account);
      if (client !== undefined) inc(this.waitingClients, client);
      await new Promise<void>((wake) => this.waiting.push({ wake }));
      if (account !== undefined) dec(this.waitingAccounts, account);
      if (client !== undefined) dec(this.waitingClients, client);
    }
  }

  /** A verification admitted by `acquire` is decided (call `failed` or `succeeded` first). */
  release(account: string | undefined, client: string | undefined): void {
    if (this.shared) {
      const ticket = pop(this.tickets, pair(account, client));
      // On the next turn of the event loop, as the local waiters below: the caller counts a
      // failure after the release (`failed`), and it must reach Redis before the reservation
      // leaves, or another replica could admit one more guess in between.
      const shared = this.shared;
      if (ticket !== undefined) setImmediate(() => shared.release(account, client, ticket));
    }
    this.end(account, client);
  }

  /** A verification in flight on this replica ends (its waiters check again). */
  private end(account: string | undefined, client: string | undefined): void {
    if (account !== undefined) dec(this.runningAccounts, account);
    if (client !== undefined) dec(this.runningClients, client);
    // Everyone waiting checks again, in the order they came (those still without room queue
    // again), on the next turn of the event loop: by then the caller has counted the outcome of
    // the verification that just ended (`failed`), which the waiters must see.
    if (this.waiting.length > 0 && !this.waking) {
      this.waking = true;
      setImmediate(() => {
        this.waking = false;
        const waiting = this.waiting;
        this.waiting = [];
        for (const w of waiting) w.wake();
      });
    }
  }

  /** Which limit failures plus verifications in flight would reach, or undefined: room for one more. */
  private room(account: string | undefined, client: string | undefined): 'account' | 'client' | undefined {
    const now = this.now();
    if (
      account !== undefined &&
      this.accounts.count(account, now) + (this.runningAccounts.get(account) ?? 0) >= this.maxPerAccount
    )
      return 'account';
    if (
      client !== undefined &&
      this.clients.count(client, now) + (this.runningClients.get(client) ?? 0) >= this.maxPerClient
    )
      return 'client';
    return undefined;
  }

  private begin(account: string | undefined, client: string | undefined): void {
    if (account !== undefined) inc(this.runningAccounts, account);
    if (client !== undefined) inc(this.runningClients, client);
  }

  /** Counts a failed verification; answers the counts within the window, this one included. */
  failed(account: string | undefined, client: string | undefined): FailureCounts {
    const now = this.now();
    if (this.shared)
      void this.shared.fail(account, client).then((counts) => {
        for (const c of counts ?? [])
          if (c.waitMs > 0) this.sharedBlocked(c.by === 'account' ? account : client, c.by, c.waitMs);
      });
    return {
      account: account === undefined ? 0 : this.accounts.add(account, now),
      client: client === undefined ? 0 : this.clients.add(client, now),
    };
  }

  succeeded(account: string): void {
    this.accounts.clear(account);
    if (this.shared) {
      this.sharedUntil.delete(`a\0${account}`);
      this.shared.clear(account);
    }
  }

  /** The shared counts said `name` is at its limit for `waitMs`: kept for `blocked`. */
  private sharedBlocked(name: string | undefined, by: 'account' | 'client', waitMs: number): void {
    if (name === undefined) return;
    const key = `${by === 'account' ? 'a' : 'c'}\0${name}`;
    this.sharedUntil.delete(key);
    this.sharedUntil.set(key, this.now() + waitMs);
    if (this.sharedUntil.size > this.maxTracked) {
      const oldest = this.sharedUntil.keys().next().value;
      if (oldest !== undefined) this.sharedUntil.delete(oldest);
    }
  }

  private sharedWait(key: string | undefined, now: number): number {
    if (key === undefined) return 0;
    const until = this.sharedUntil.get(key);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.sharedUntil.delete(key);
    return 0;
  }

  counts(account: string | undefined, client: string | undefined): FailureCounts {
    const now = this.now();
    return {
      account: account === undefined ? 0 : this.accounts.count(account, now),
      client: client === undefined ? 0 : this.clients.count(client, now),
    };
  }

  /** Attempts waiting for room, for tests. */
  get waitingCount(): number {
    return this.waiting.length;
  }
}

function pair(account: string | undefined, client: string | undefined): string {
  return `${account ?? ''}\0${client ?? ''}`;
}

function push(m: Map<string, string[]>, key: string, value: string): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}

function pop(m: Map<string, string[]>, key: string): string | undefined {
  const list = m.get(key);
  const value = list?.pop();
  if (list?.length === 0) m.delete(key);
  return value;
}

function dec(m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 1) - 1;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}

function inc(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
