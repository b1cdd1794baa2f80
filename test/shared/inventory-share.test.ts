/**
 * The inventory shared by replicas (src/shared/inventory-share.ts) against a real Debian
 * redis-server: two or three `Inventory`s, each with its own `InventoryShare`, stand for replicas.
 *
 * Promises pinned: any replica's view holds every replica's calls, counts summed; a replica that
 * stops is taken over once (its calls counted once, by the taker); one taken over while it was
 * only cut off starts afresh instead of publishing the same calls twice; Redis losing its data
 * gets every inventory again; a clean shutdown hands over at once.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Observation } from '../../src/inventory/store.ts';
import { Inventory } from '../../src/inventory/store.ts';
import { InventoryShare } from '../../src/shared/inventory-share.ts';
import { SharedState } from '../../src/shared/redis.ts';
import { struct } from '../../src/values.ts';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.ts';

let redis: TestRedis;
const opened: SharedState[] = [];
const log = pino({ level: 'silent' });

interface Replica {
  inventory: Inventory;
  share: InventoryShare;
  state: SharedState;
}

async function replica(prefix: string, staleMs = 60_000): Promise<Replica> {
  const state = new SharedState({ url: redis.url, prefix, log });
  opened.push(state);
  for (let i = 0; i < 100 && !state.ready; i++) await new Promise((r) => setTimeout(r, 20));
  const inventory = new Inventory();
  return {
    inventory,
    state,
    share: new InventoryShare(state, inventory, { intervalMs: 60_000, staleMs, log }),
  };
}

function call(model: string, ua = 'erp/1'): Observation {
  return {
    protocol: 'xmlrpc',
    service: 'object',
    function: 'execute_kw',
    params: ['lab', 2, 'secret', model, 'search_count', [[]]],
    notes: { db: 'lab', uid: 2, model, method: 'search_count' },
    json2: { model, method: 'search_count', body: struct({ domain: [] }) },
    fault: undefined,
    userAgent: ua,
    address: '10.1.0.1',
  };
}

function record(r: Replica, model: string, times: number, ua?: string): void {
  for (let i = 0; i < times; i++) r.inventory.record(call(model, ua));
}

/** Calls per `model.method` of client `ua` in `r`'s merged view. */
async function counts(r: Replica, ua = 'erp/1'): Promise<Record<string, number>> {
  await new Promise((w) => setTimeout(w, 1100)); // past the view's reuse
  const inv = (await r.share.view()).snapshot({ dbHeader: true });
  const client = inv.clients.find((c) => c.userAgent === ua);
  return Object.fromEntries((client?.calls ?? []).map((c) => [`${c.model}.${c.method}`, c.count]));
}

describe.skipIf(skipWithoutRedis)('the shared inventory (real redis-server)', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await redis?.close();
  });

  it("any replica's view sums every replica's calls", async () => {
    const [a, b, c] = [await replica('i1:'), await replica('i1:'), await replica('i1:')];
    record(a, 'res.partner', 2);
    record(b, 'res.partner', 3);
    record(c, 'res.users', 1);
    for (const r of [a, b, c]) await r.share.publish();
    for (const r of [a, b, c])
      expect(await counts(r)).toEqual({ 'res.partner.search_count': 5, 'res.users.search_count': 1 });
    // A replica's own calls are in its view at once, before it publishes them.
    record(a, 'res.company', 1);
    expect(await counts(a)).toMatchObject({ 'res.company.search_count': 1 });
    // Secrets: the password of the legacy call is nowhere in Redis.
    const docs = await a.state.redis.mget(await a.state.redis.keys('i1:inventory:replica:*'));
    expect(docs.join('')).not.toContain('secret');
  });

  it('a stopped replica is taken over once; one only cut off starts afresh, counting nothing twice', async () => {
    const a = await replica('i2:', 300);
    const b = await replica('i2:', 300);
    record(a, 'res.partner', 2);
    record(b, 'res.partner', 5);
    await a.share.publish();
    await b.share.publish();
    await new Promise((w) => setTimeout(w, 400)); // b goes silent past staleMs
    await a.share.publish(); // a takes b over
    expect(await a.state.redis.exists(`i2:inventory:replica:${b.state.replicaId}`)).toBe(0);
    expect(a.inventory.snapshot({ dbHeader: true }).clients[0]?.count).toBe(7); // merged into a's own
    // b was only cut off: it records one more call, then publishes again.
    record(b, 'res.partner', 1);
    await b.share.publish();
    expect(b.inventory.snapshot({ dbHeader: true }).clients).toEqual([]); // started afresh
    record(b, 'res.partner', 1);
    await b.share.publish();
    await a.share.publish();
    expect(await counts(a)).toEqual({ 'res.partner.search_count': 8 });
  });

  it('Redis losing its data gets every inventory again at the next pass', async () => {
    const a = await replica('i3:');
    record(a, 'res.partner', 4);
    await a.share.publish();
    await a.state.redis.flushall();
    await a.share.publish(); // unchanged since: still published whole, as Redis has nothing
    const b = await replica('i3:');
    expect(await counts(b)).toEqual({ 'res.partner.search_count': 4 });
  });

  it('a clean shutdown publishes once more and hands over at once', async () => {
    const a = await replica('i4:', 60_000);
    const b = await replica('i4:', 60_000);
    record(b, 'res.users', 3);
    await b.share.close();
    await a.share.publish();
    expect(a.inventory.snapshot({ dbHeader: true }).clients[0]?.count).toBe(3);
    expect(await counts(a)).toEqual({ 'res.users.search_count': 3 });
  });

  it('Redis away: the view is this replica’s own, and nothing recorded meanwhile is lost', async () => {
    const a = await replica('i5:');
    let fellBack = 0;
    a.state.onFallback = () => fellBack++;
    await redis.kill();
    try {
      for (let i = 0; i < 100 && a.state.ready; i++) await new Promise((w) => setTimeout(w, 20));
      record(a, 'res.partner', 2);
      await a.share.publish();
      expect(await counts(a)).toEqual({ 'res.partner.search_count': 2 });
      expect(fellBack).toBeGreaterThanOrEqual(2);
    } finally {
      await redis.start();
    }
    for (let i = 0; i < 200 && !a.state.ready; i++) await new Promise((w) => setTimeout(w, 25));
    await a.share.publish();
    const b = await replica('i5:');
    expect(await counts(b)).toEqual({ 'res.partner.search_count': 2 });
  });
});
