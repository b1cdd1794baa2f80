/**
 * Login throttling counts shared by the replicas in Redis (src/auth/throttle.ts `SharedCounts`):
 * the same sliding window as one replica's, so that N replicas allow what one allows.
 *
 * Each counted name (a throttling account, a client address) has two sorted sets: its failures
 * within the window, and its verifications in flight on any replica (reservations), each member
 * scored by Redis's own clock. Admitting a verification is one script: drop what left the window,
 * refuse when the failures reached the limit (with how long until the oldest of the last `limit`
 * leaves it), say "full" when failures plus reservations reached it, else reserve. A parallel
 * burst of guesses spread over the replicas is thereby capped at the limit too, not only a
 * sequence. A reservation ends when its verification is decided; one left by a replica that died
 * mid-verification expires after `pendingTtlMs`.
 *
 * Why a script and not a rate-limiting library: rate-limiter-flexible (the well-kept one for
 * Redis) counts fixed windows that start at the first attempt and has no reservations, so a
 * burst over three replicas would get three times the limit verified, and a window would not
 * end when a single replica's does. These two scripts keep the single-replica semantics exactly.
 *
 * Names are digests keyed by BRIDGE_REDIS_SECRET (else a secret derived from BRIDGE_REDIS_URL),
 * never the login or the address; Redis holds no password and no key. Every failure answers `undefined` (the caller
 * counts on its own then, and `SharedState` says so once).
 */
import { createHash, createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Reservation, SharedCounts, SharedFailure } from '../auth/throttle.ts';
import type { SharedState } from './redis.ts';

/** Milliseconds since the epoch by Redis's clock (every replica's scores on one clock). */
const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

// KEYS: the failures and reservations set of each name; ARGV: window, reservation ttl, member,
// then each name's limit. Answers {0}: reserved; {1, name index, wait ms}: refused; {2, name index}: full.
const RESERVE = `${NOW}
local window, ttl, names = tonumber(ARGV[1]), tonumber(ARGV[2]), #KEYS / 2
local by, wait, full = 0, 0, 0
for i = 1, names do
  local f, p, limit = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', p, '-inf', now - ttl)
  local failures = redis.call('ZCARD', f)
  if failures >= limit then
    local oldest = redis.call('ZRANGE', f, failures - limit, failures - limit, 'WITHSCORES')
    local w = math.max(1, tonumber(oldest[2]) + window - now)
    if w > wait then by, wait = i, w end
  elseif full == 0 and failures + redis.call('ZCARD', p) >= limit then
    full = i
  end
end
if by > 0 then return {1, by, wait} end
if full > 0 then return {2, full} end
for i = 1, names do
  redis.call('ZADD', KEYS[2 * i], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[2 * i], ttl)
end
return {0}`;

// KEYS: the failures set of each name; ARGV: window, member, then each name's limit.
// Answers, per name, the failures within the window and the ms until one fewer than the limit (0: below it).
const FAIL = `${NOW}
local window, out = tonumber(ARGV[1]), {}
for i = 1, #KEYS do
  local f, limit = KEYS[i], tonumber(ARGV[2 + i])
  redis.call('ZREMRANGEBYSCORE', f, '-inf', now - window)
  redis.call('ZADD', f, now, ARGV[2])
  redis.call('ZREMRANGEBYRANK', f, 0, -(limit + 1))
  redis.call('PEXPIRE', f, window)
  local n, w = redis.call('ZCARD', f), 0
  if n >= limit then
    local oldest = redis.call('ZRANGE', f, n - limit, n - limit, 'WITHSCORES')
    w = math.max(1, tonumber(oldest[2]) + window - now)
  end
  out[2 * i - 1], out[2 * i] = n, w
end
return out`;

const MAX_ORPHANS = 1000;

interface ThrottleScripts {
  bridgeThrottleReserve(...args: Array<string | number>): Promise<number[]>;
  bridgeThrottleFail(...args: Array<string | number>): Promise<number[]>;
}

export interface SharedThrottleOptions {
  maxPerAccount: number;
  maxPerClient: number;
  windowMs: number;
  /**
   * A reservation left by a replica that died mid-verification ends after this long: longer than
   * a verification can take (an API key check waits for Odoo up to BRIDGE_UPSTREAM_TIMEOUT_MS).
   */
  pendingTtlMs?: number;
}

export class RedisThrottleCounts implements SharedCounts {
  private readonly state: SharedState;
  private readonly redis: Redis & ThrottleScripts;
  private readonly opts: Required<SharedThrottleOptions>;
  private readonly secret: string;
  private seq = 0;
  /**
   * Reservations whose answer was lost (a timeout): the script may have run all the same, so they
   * are taken out at the next command that goes through, not left to lock the account until
   * their ttl. At most MAX_ORPHANS kept (past that, their ttl ends them).
   */
  private orphans: Array<{ keys: string[]; ticket: string }> = [];

  constructor(state: SharedState, opts: SharedThrottleOptions) {
    this.state = state;
    this.opts = { pendingTtlMs: 120_000, ...opts };
    const redis = state.redis as Redis & Partial<ThrottleScripts>;
    if (!redis.bridgeThrottleReserve) redis.defineCommand('bridgeThrottleReserve', { lua: RESERVE });
    if (!redis.bridgeThrottleFail) redis.defineCommand('bridgeThrottleFail', { lua: FAIL });
    this.redis = redis as Redis & ThrottleScripts;
    this.secret = accountSecret(state);
    state.secretFingerprint = createHmac('sha256', this.secret).update('fingerprint').digest('base64url');
  }

  async reserve(account: string | undefined, client: string | undefined): Promise<Reservation | undefined> {
    const names = this.names(account, client);
    if (!this.state.ready) return this.fallBack();
    const ticket = this.member();
    this.flushOrphans();
    try {
      const r = await this.redis.bridgeThrottleReserve(
        names.length * 2,
        ...names.flatMap((n) => [n.key + 'f', n.key + 'p']),
        this.opts.windowMs,
        this.opts.pendingTtlMs,
        ticket,
        ...names.map((n) => n.limit),
      );
      const by = names[(r[1] ?? 1) - 1]?.kind ?? 'account';
      if (r[0] === 1) return { kind: 'blocked', by, waitMs: r[2] ?? 1000 };
      if (r[0] === 2) return { kind: 'full', by };
      return { kind: 'reserved', ticket };
    } catch (e) {
      if (this.orphans.length < MAX_ORPHANS)
        this.orphans.push({ keys: names.map((n) => n.key + 'p'), ticket });
      return this.fallBack(e);
    }
  }

  private flushOrphans(): void {
    if (this.orphans.length === 0 || !this.state.ready) return;
    const orphans = this.orphans;
    this.orphans = [];
    const p = this.redis.pipeline();
    for (const o of orphans) for (const key of o.keys) p.zrem(key, o.ticket);
    p.exec().catch(() => {
      // Still unanswered: kept for the next try, within the bound.
      this.orphans = [...orphans, ...this.orphans].slice(0, MAX_ORPHANS);
    });
  }

  release(account: string | undefined, client: string | undefined, ticket: string): void {
    if (!this.state.ready) return;
    const p = this.redis.pipeline();
    for (const n of this.names(account, client)) p.zrem(n.key + 'p', ticket);
    p.exec().catch(() => undefined); // left behind, it ends with its ttl
  }

  async fail(account: string | undefined, client: string | undefined): Promise<SharedFailure[] | undefined> {
    const names = this.names(account, client);
    if (names.length === 0) return [];
    if (!this.state.ready) return this.fallBack();
    try {
      const r = await this.redis.bridgeThrottleFail(
        names.length,
        ...names.map((n) => n.key + 'f'),
        this.opts.windowMs,
        this.member(),
        ...names.map((n) => n.limit),
      );
      return names.map((n, i) => ({ by: n.kind, count: r[2 * i] ?? 0, waitMs: r[2 * i + 1] ?? 0 }));
    } catch (e) {
      return this.fallBack(e);
    }
  }

  clear(account: string): void {
    if (!this.state.ready) return;
    this.redis.del(this.name('account', account).key + 'f').catch(() => undefined);
  }

  private fallBack(e?: unknown): undefined {
    this.state.fellBack('throttle', e);
    return undefined;
  }

  private names(account: string | undefined, client: string | undefined) {
    const names: Array<{ kind: 'account' | 'client'; key: string; limit: number }> = [];
    if (account !== undefined) names.push(this.name('account', account));
    if (client !== undefined) names.push(this.name('client', client));
    return names;
  }

  private name(kind: 'account' | 'client', name: string) {
    const digest = createHmac('sha256', this.secret).update(`${kind}\0${name}`).digest('base64url');
    return {
      kind,
      key: `${this.state.prefix}throttle:${kind}:${digest}:`,
      limit: Math.max(1, kind === 'account' ? this.opts.maxPerAccount : this.opts.maxPerClient),
    };
  }

  /** A member no other replica's attempt has (its replica and a sequence number). */
  private member(): string {
    this.seq = (this.seq + 1) % Number.MAX_SAFE_INTEGER;
    return `${this.state.replicaId}:${this.seq}`;
  }
}

/**
 * The secret the replicas name throttling accounts and addresses with: BRIDGE_REDIS_SECRET, else
 * derived from the Redis URL (weaker: a URL without a password may be known to whoever reads
 * Redis), with the prefix.
 */
export function accountSecret(state: { url: string; prefix: string; secret?: string | undefined }): string {
  return createHash('sha256')
    .update(`odoo-rpc-bridge throttle\0${state.secret ?? state.url}\0${state.prefix}`)
    .digest('base64');
}
