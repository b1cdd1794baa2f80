/**
 * The migration inventory shared by the replicas in Redis (BRIDGE_REDIS_URL).
 *
 * Each replica records its calls in memory as before (no Redis on a call's path) and publishes
 * its whole inventory, as the inventory file saves it, under its own key every few seconds when
 * it changed (`BRIDGE_INVENTORY_SHARE_SECONDS`), touching its place in a sorted set of replicas
 * otherwise. Reading (`view`) merges this replica's live inventory with the others' last
 * published ones (src/inventory/store.ts `merge`): counts summed per client and kind of call.
 *
 * Nothing is lost when Redis goes away: a replica keeps recording, and publishes everything again
 * when Redis is back (also when Redis came back empty). A replica that stopped publishing for
 * `staleMs` (it was stopped, or its pod replaced) is taken over by a live one, which merges its
 * inventory into its own and deletes it, leaving a mark so that the stopped one, if it was only
 * cut off, starts afresh instead of publishing the same calls twice. A replica that shuts down
 * cleanly publishes one last time and marks itself stale at once. Published inventories expire
 * after the retention period; at most `MAX_REPLICAS` are read, the most recently published first.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DAY_MS } from '../inventory/entries.ts';
import { Inventory } from '../inventory/store.ts';
import type { SharedState } from './redis.ts';

/** Published inventories read by `view`, at most (the most recently published first). */
export const MAX_REPLICAS = 32;
/**
 * A published inventory larger than this is published without its example bodies (a reader skips
 * one still larger); a view reads at most MAX_VIEW_BYTES of them, yielding between two.
 */
const MAX_DOC_BYTES = 16 * 1024 * 1024;
const MAX_VIEW_BYTES = 64 * 1024 * 1024;
/** Stale replicas taken over by one publishing pass, at most. */
const TAKE_OVER_PER_PASS = 4;
/** A merged view is reused for this long (page loads in parallel cost one merge). */
const VIEW_REUSE_MS = 1000;

const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)`;

// KEYS: this replica's inventory, the replicas' set, this replica's taken-over mark.
// ARGV: the inventory's JSON ('' when unchanged: only say it is alive), ttl ms, replica id,
// '1' once this process has published. Answers 1: done; 0: taken over (start afresh);
// 2: unchanged but absent (Redis lost it): publish it whole.
const PUBLISH = `${NOW}
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DEL', KEYS[3])
  return 0
end
if ARGV[1] == '' then
  if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then return 2 end
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('ZADD', KEYS[2], now, ARGV[3])
return 1`;

// KEYS: a replica's inventory, the replicas' set, its taken-over mark. ARGV: its id, stale ms,
// ttl ms. Answers its inventory (now this caller's to merge), or false when it is alive or gone.
const TAKE_OVER = `${NOW}
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not seen or tonumber(seen) > now - tonumber(ARGV[2]) then return false end
local doc = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], '1', 'PX', ARGV[3])
return doc`;

interface InventoryScripts {
  bridgeInventoryPublish(...args: Array<string | number>): Promise<number>;
  bridgeInventoryTakeOver(...args: Array<string | number>): Promise<string | null>;
}

export interface InventoryShareOptions {
  intervalMs: number;
  /** A replica silent for this long is taken over (default 15 minutes). */
  staleMs?: number;
  log: Logger;
}

export class InventoryShare {
  private readonly state: SharedState;
  private readonly redis: Redis & InventoryScripts;
  private readonly inventory: Inventory;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly staleMs: number;
  private timer: NodeJS.Timeout | undefined;
  /** `inventory.changes` when last published; -1: publish it whole next time. */
  private publishedAt = -1;
  private published = false;
  private running: Promise<void> | undefined;
  private viewing: Promise<Inventory> | undefined;
  private lastView: { at: number; inventory: Inventory } | undefined;
  /** Told how each publishing pass went (metrics): ok, or fell back (Redis away). */
  onPublish: ((ok: boolean) => void) | undefined;

  constructor(state: SharedState, inventory: Inventory, opts: InventoryShareOptions) {
    this.state = state;
    this.inventory = inventory;
    this.log = opts.log;
    this.intervalMs = opts.intervalMs;
    this.staleMs = opts.staleMs ?? 15 * 60_000;
    const redis = state.redis as Redis & Partial<InventoryScripts>;
    if (!redis.bridgeInventoryPublish)
      redis.defineCommand('bridgeInventoryPublish', { numberOfKeys: 3, lua: PUBLISH });
    if (!redis.bridgeInventoryTakeOver)
      redis.defineCommand('bridgeInventoryTakeOver', { numberOfKeys: 3, lua: TAKE_OVER });
    this.redis = redis as Redis & InventoryScripts;
  }

  start(): void {
    // A pass still running (Redis slow) is not queued behind: the next tick tries again.
    this.timer = setInterval(() => {
      if (!this.running) void this.publish();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One pass: publish (whole when it changed), then take over stale replicas. Never throws. */
  async publish(): Promise<void> {
    // One pass at a time: a pass asked for while one runs waits for it, then runs.
    while (this.running) await this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    await this.running;
  }

  /** This replica's inventory and every other replica's last published one, merged. */
  async view(): Promise<Inventory> {
    const last = this.lastView;
    if (last && Date.now() - last.at < VIEW_REUSE_MS) return last.inventory;
    this.viewing ??= this.merged().finally(() => {
      this.viewing = undefined;
    });
    return this.viewing;
  }

  /** Stops publishing: one last pass, then this replica is marked stale for the others to take over. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
    if (!this.state.ready) return;
    await this.redis.zadd(this.replicasKey, 0, this.state.replicaId).catch(() => undefined);
  }

  private async pass(): Promise<void> {
    if (!this.state.ready) {
      this.onPublish?.(false);
      this.state.fellBack('inventory');
      return;
    }
    try {
      const changes = this.inventory.changes;
      const whole = changes !== this.publishedAt;
      let r = await this.send(whole);
      if (r === 0) {
        // Another replica took this one's published inventory over while it could not publish:
        // those calls are counted there. Start afresh (from what was recorded since, lost).
        this.log.warn(
          { replica: this.state.replicaId },
          'shared inventory: another replica took over what this one published; starting afresh',
        );
        this.inventory.clear();
        this.published = false;
        r = await this.send(true);
      } else if (r === 2) r = await this.send(true);
      this.published = true;
      this.publishedAt = changes;
      this.onPublish?.(true);
      await this.takeOverStale();
    } catch (e) {
      this.publishedAt = -1;
      this.onPublish?.(false);
      this.state.fellBack('inventory', e);
    }
  }

  private send(whole: boolean): Promise<number> {
    const doc = whole ? this.document() : '';
    return this.redis.bridgeInventoryPublish(
      this.docKey(this.state.replicaId),
      this.replicasKey,
      this.takenKey(this.state.replicaId),
      doc,
      this.ttlMs,
      this.state.replicaId,
      this.published ? '1' : '0',
    );
  }

  /** This replica's inventory as published: without its example bodies when it would be too large. */
  private document(): string {
    const state = this.inventory.toState();
    const doc = JSON.stringify(state);
    if (doc.length <= MAX_DOC_BYTES) return doc;
    for (const c of state.clients) for (const call of c.calls) delete call.example;
    this.log.warn(
      { bytes: doc.length },
      'shared inventory: published without its example bodies (too large); lower BRIDGE_INVENTORY_MAX_CLIENTS or _MAX_CALLS',
    );
    return JSON.stringify(state);
  }

  private async takeOverStale(): Promise<void> {
    const now = Date.now();
    // Scores are Redis's clock; this one only preselects (the script checks again on Redis's).
    const stale = await this.redis.zrangebyscore(
      this.replicasKey,
      '-inf',
      now - this.staleMs,
      'LIMIT',
      0,
      TAKE_OVER_PER_PASS,
    );
    for (const id of stale) {
      if (id === this.state.replicaId) continue;
      const doc = await this.redis.bridgeInventoryTakeOver(
        this.docKey(id),
        this.replicasKey,
        this.takenKey(id),
        id,
        this.staleMs,
        this.ttlMs,
      );
      if (doc === null) continue;
      const clients = this.inventory.merge(parse(doc));
      this.log.info({ replica: id, clients }, 'shared inventory: took over a stopped replica’s inventory');
    }
  }

  private async merged(): Promise<Inventory> {
    const view = new Inventory(this.inventory.limits);
    view.merge(this.inventory.toState());
    if (!this.state.ready) {
      this.state.fellBack('inventory');
      return view;
    }
    try {
      await this.redis.zremrangebyscore(this.replicasKey, '-inf', Date.now() - this.ttlMs);
      const ids = (await this.redis.zrevrange(this.replicasKey, 0, MAX_REPLICAS - 1)).filter(
        (id) => id !== this.state.replicaId,
      );
      // Their sizes first: none larger than MAX_DOC_BYTES, at most MAX_VIEW_BYTES in all.
      const sizes =
        ids.length > 0 ? await this.redis.pipeline(ids.map((id) => ['strlen', this.docKey(id)])).exec() : [];
      let total = 0;
      const chosen: string[] = [];
      ids.forEach((id, i) => {
        const size = Number(sizes?.[i]?.[1] ?? 0);
        if (size === 0 || size > MAX_DOC_BYTES || total + size > MAX_VIEW_BYTES) return;
        total += size;
        chosen.push(id);
      });
      if (chosen.length < ids.length)
        this.log.warn(
          { read: chosen.length, published: ids.length },
          'shared inventory: some replicas left out of the view (too large)',
        );
      const docs = chosen.length > 0 ? await this.redis.mget(chosen.map((id) => this.docKey(id))) : [];
      for (const doc of docs) {
        if (doc !== null) view.merge(parse(doc));
        // Other requests are served between two inventories.
        await new Promise((resolve) => setImmediate(resolve));
      }
      this.lastView = { at: Date.now(), inventory: view };
    } catch (e) {
      this.state.fellBack('inventory', e);
    }
    return view;
  }

  private get ttlMs(): number {
    return this.inventory.limits.retentionDays * DAY_MS;
  }

  private get replicasKey(): string {
    return `${this.state.prefix}inventory:replicas`;
  }

  private docKey(id: string): string {
    return `${this.state.prefix}inventory:replica:${id}`;
  }

  private takenKey(id: string): string {
    return `${this.state.prefix}inventory:taken-over:${id}`;
  }
}

function parse(doc: string): unknown {
  try {
    return JSON.parse(doc);
  } catch {
    return undefined; // not an inventory: merged as nothing
  }
}
