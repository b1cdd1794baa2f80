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

export type SharedWhat = 'throttle' | 'inventory' | 'freeze';

export interface SharedStateOptions {
  url: string;
  prefix: string;
  log: Logger;
}

export class SharedState {
  readonly redis: Redis;
  /** Every key the bridge writes starts with it. */
  readonly prefix: string;
  /** BRIDGE_REDIS_URL: a secret (it may hold Redis's password), never logged. */
  readonly url: string;
  /** This process, among the replicas: its host name (a pod's name) and a random suffix. */
  readonly replicaId = `${hostname().slice(0, 64)}-${randomBytes(4).toString('hex')}`;
  /** Told each time a user of the shared state fell back to this replica's own (metrics). */
  onFallback: ((what: SharedWhat) => void) | undefined;
  private readonly log: Logger;
  /** Whether the last outage was logged (reset when Redis is ready again). */
  private outage = false;
  private closed = false;

  constructor(opts: SharedStateOptions) {
    this.prefix = opts.prefix;
    this.url = opts.url;
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
      if (this.outage) this.log.info('shared state: Redis is back; replicas share their state again');
      else this.log.info('shared state: Redis connected');
      this.outage = false;
    });
    // ioredis emits an error per failed attempt while it reconnects: one warning per outage.
    this.redis.on('error', (e: Error) => this.down(e));
    this.redis.on('close', () => {
      if (!this.closed) this.down(new Error('connection closed'));
    });
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** A user of the shared state could not reach it and used this replica's own: counted, logged once. */
  fellBack(what: SharedWhat, e?: unknown): void {
    this.onFallback?.(what);
    if (e !== undefined) this.down(e as Error);
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
