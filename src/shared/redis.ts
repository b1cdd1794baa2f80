/**
 * The state several replicas share (BRIDGE_REDIS_URL): one Redis connection, and what the bridge
 * does when Redis is away. Unset, none of this exists and every replica keeps its own state.
 *
 * Redis is never on a call's critical path for long: commands fail at once while the connection
 * is down (no offline queue) and after `COMMAND_TIMEOUT_MS` when Redis hangs, and each user of the
 * shared state then falls back to what this replica knows (throttling: its own counts; the
 * inventory: its own, published again once Redis is back). ioredis reconnects on its own, with
 * a backoff capped at 5 s. An outage is logged once when it starts and once when it ends, and
 * counted (`odoo_bridge_shared_state_fallbacks_total{what}`).
 *
 * What goes to Redis holds no secret: throttling keys are SHA-256 digests of [db, login] and of
 * the client address, the inventory is what `/_bridge/inventory` shows (no password, no key).
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** A command that takes longer than this fails (and the caller falls back). */
export const COMMAND_TIMEOUT_MS = 1000;
/** How often Redis is asked whether it answers (a connection can stay open to a Redis that hangs). */
const HEALTH_MS = 1000;
/** Unanswered health checks in a row after which the connection is dropped and made again. */
const RECONNECT_AFTER = 2;

export type SharedWhat = 'throttle' | 'inventory' | 'freeze';

export interface SharedStateOptions {
  url: string;
  prefix: string;
  /** BRIDGE_REDIS_SECRET; default: derived from the URL (src/shared/throttle-counts.ts). */
  secret?: string | undefined;
  log: Logger;
}

export class SharedState {
  readonly redis: Redis;
  /** Every key the bridge writes starts with it. */
  readonly prefix: string;
  /** BRIDGE_REDIS_URL: a secret (it may hold Redis's password), never logged. */
  readonly url: string;
  /** BRIDGE_REDIS_SECRET, if set. */
  readonly secret: string | undefined;
  /** This process, among the replicas: its host name (a pod's name) and a random suffix. */
  readonly replicaId = `${hostname().slice(0, 64)}-${randomBytes(4).toString('hex')}`;
  /** Told each time a user of the shared state fell back to this replica's own (metrics). */
  onFallback: ((what: SharedWhat) => void) | undefined;
  private readonly log: Logger;
  /** Whether the last outage was logged (reset when Redis answers again). */
  private outage = false;
  private closed = false;
  /** Whether the last command or health check was answered (a hung Redis keeps the connection open). */
  private answering = true;
  private unanswered = 0;
  private readonly health: NodeJS.Timeout;

  constructor(opts: SharedStateOptions) {
    this.prefix = opts.prefix;
    this.url = opts.url;
    this.secret = opts.secret;
    this.log = opts.log;
    this.redis = new Redis(opts.url, {
      // A command while disconnected fails at once: a call never waits for Redis to come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * times, 5000),
      // The URL's password (if any) stays in the client: never logged.
      showFriendlyErrorStack: false,
    });
    this.redis.on('ready', () => {
      if (!this.outage) this.log.info('shared state: Redis connected');
      this.back();
      void this.checkSecret();
    });
    // ioredis emits an error per failed attempt while it reconnects: one warning per outage.
    this.redis.on('error', (e: Error) => this.down(e));
    this.redis.on('close', () => {
      if (!this.closed) this.down(new Error('connection closed'));
    });
    // A Redis that stops answering (stopped, overloaded) keeps its connection open: asked every
    // second, it is taken as away at the first unanswered check, and the connection is made
    // again after RECONNECT_AFTER.
    this.health = setInterval(() => void this.check(), HEALTH_MS);
    this.health.unref();
  }

  /** Whether commands can be sent now, and Redis answers them. */
  get ready(): boolean {
    return this.redis.status === 'ready' && this.answering;
  }

  /** Told the fingerprint of the secret the replicas name their counts with (see `checkSecret`). */
  secretFingerprint: string | undefined;

  /**
   * The first replica leaves the fingerprint of its secret in Redis; one whose secret differs
   * (another BRIDGE_REDIS_SECRET, or the same Redis reached by a URL spelled differently) says so:
   * its throttling counts would be apart from the others'.
   */
  private async checkSecret(): Promise<void> {
    const mine = this.secretFingerprint;
    if (mine === undefined) return;
    try {
      const key = `${this.prefix}secret-fingerprint`;
      await this.redis.set(key, mine, 'NX');
      const theirs = await this.redis.get(key);
      if (theirs !== null && theirs !== mine)
        this.log.error(
          'shared state: the replicas do not share one secret (BRIDGE_REDIS_SECRET, or BRIDGE_REDIS_URL spelled differently): their login throttling counts are apart; give every replica the same',
        );
    } catch {
      // Checked again at the next connection.
    }
  }

  private async check(): Promise<void> {
    if (this.closed || this.redis.status !== 'ready') return;
    try {
      await this.redis.ping();
      this.back();
    } catch (e) {
      this.answering = false;
      this.down(e as Error);
      if (++this.unanswered >= RECONNECT_AFTER && !this.closed) {
        this.unanswered = 0;
        this.redis.disconnect(true);
      }
    }
  }

  private back(): void {
    this.answering = true;
    this.unanswered = 0;
    if (this.outage) this.log.info('shared state: Redis is back; replicas share their state again');
    this.outage = false;
  }

  /** A user of the shared state could not reach it and used this replica's own: counted, logged once. */
  fellBack(what: SharedWhat, e?: unknown): void {
    this.onFallback?.(what);
    if (e === undefined) return;
    // A command that timed out: Redis does not answer (the health check confirms or clears it).
    if (/timed out/i.test(String((e as Error).message).slice(0, 200))) this.answering = false;
    this.down(e as Error);
  }

  private down(e: Error): void {
    if (this.outage || this.closed) return;
    this.outage = true;
    this.log.warn(
      { problem: safeProblem(e) },
      'shared state: Redis unreachable; each replica throttles with its own counts and keeps its own inventory until it is back',
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.health);
    try {
      await Promise.race([this.redis.quit(), new Promise((r) => setTimeout(r, 500).unref())]);
    } catch {
      // Closing anyway.
    }
    this.redis.disconnect();
  }
}

/** An error's message without anything that may be a URL (which may carry the password). */
function safeProblem(e: Error): string {
  return String(e.message)
    .slice(0, 200)
    .replace(/rediss?:\/\/\S*/g, 'redis://…');
}
