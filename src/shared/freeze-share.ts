/**
 * Run-time freezes shared by the replicas (BRIDGE_REDIS_URL): `POST /_bridge/freeze/<db>` on any
 * replica freezes the database on all of them.
 *
 * A Redis hash holds them (db → since). Freezing or unfreezing writes it, then every replica
 * reads it again every `POLL_MS` (one HGETALL of at most MAX_RUNTIME_FROZEN fields); the admin
 * endpoint answers only after one more poll interval has passed, so that once it has answered,
 * every replica that reaches Redis refuses the writes. Redis unreachable: a replica keeps the
 * freezes it last read (fail-safe: nothing is unfrozen by an outage), and freezing or unfreezing
 * is refused (503) rather than applied to one replica only.
 */
import type { Redis } from 'ioredis';
import { MAX_RUNTIME_FROZEN, type FreezeState, type RuntimeFreeze } from '../services/freeze.ts';
import type { SharedState } from './redis.ts';

/** How often each replica reads the freezes again. */
export const POLL_MS = 1000;

export class FreezeShare {
  private readonly state: SharedState;
  private readonly redis: Redis;
  private readonly freeze: FreezeState;
  private timer: NodeJS.Timeout | undefined;

  constructor(state: SharedState, freeze: FreezeState) {
    this.state = state;
    this.redis = state.redis;
    this.freeze = freeze;
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Freezes (or unfreezes) `db` on every replica; false when Redis could not be reached. */
  async set(db: string, frozen: boolean): Promise<boolean> {
    if (!this.state.ready) return false;
    try {
      if (frozen) {
        // Bounded like the local set: past the cap, no new field is added.
        const added = await this.redis.eval(
          `if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
           if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
           redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return 1`,
          1,
          this.key,
          db,
          new Date().toISOString(),
          MAX_RUNTIME_FROZEN,
        );
        if (added !== 1) return false;
      } else await this.redis.hdel(this.key, db);
      await this.refresh();
      // Every other replica reads the hash within one poll interval.
      await new Promise((resolve) => setTimeout(resolve, POLL_MS + 200));
      return true;
    } catch (e) {
      this.state.fellBack('freeze', e);
      return false;
    }
  }

  /** Reads the shared freezes into this replica's state; keeps the last ones when it cannot. */
  async refresh(): Promise<void> {
    if (!this.state.ready) return;
    try {
      const all = await this.redis.hgetall(this.key);
      const freezes: RuntimeFreeze[] = Object.entries(all)
        .slice(0, MAX_RUNTIME_FROZEN)
        .map(([db, since]) => ({ db, since }));
      this.freeze.replace(freezes);
    } catch (e) {
      this.state.fellBack('freeze', e);
    }
  }

  private get key(): string {
    return `${this.state.prefix}frozen`;
  }
}
