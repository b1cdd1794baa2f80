/**
 * Merging replicas' inventories (src/inventory/store.ts `merge`, entries.ts `mergeClient`): the
 * same client's counts summed, its calls merged kind by kind (the most recent example and fault
 * kept), day buckets summed, the bounds kept; a state that is not an inventory merges as nothing.
 */
import { describe, expect, it } from 'vitest';
import { Inventory, type Observation } from '../../src/inventory/store.ts';
import { struct } from '../../src/values.ts';

const DAY = 86_400_000;

function obs(model: string, over: Partial<Observation> = {}): Observation {
  return {
    protocol: 'xmlrpc/2',
    service: 'object',
    function: 'execute_kw',
    params: undefined,
    notes: { db: 'lab', uid: 2, model, method: 'search_read' },
    json2: { model, method: 'search_read', body: struct({ domain: [] }) },
    fault: undefined,
    userAgent: 'erp/1',
    address: '10.0.0.5',
    ...over,
  };
}

describe('Inventory.merge', () => {
  it("sums the same client's calls across replicas, by kind and by day", () => {
    const start = Date.parse('2026-12-01T10:00:00Z');
    let t = start;
    const a = new Inventory({}, () => t);
    a.record(obs('res.partner'));
    t += DAY;
    a.record(obs('res.partner'));
    let u = start + DAY + 5000;
    const b = new Inventory({}, () => u);
    b.record(
      obs('res.partner', {
        fault: 'AccessError',
        json2: { model: 'res.partner', method: 'search_read', body: struct({ domain: [['id', '=', 7]] }) },
      }),
    );
    b.record(obs('res.users'));
    u += 1000;
    const view = new Inventory({}, () => u);
    expect(view.merge(a.toState())).toBe(1);
    expect(view.merge(b.toState())).toBe(1);
    const [client] = view.snapshot({ dbHeader: true }).clients;
    expect(client?.count).toBe(4);
    expect(client?.errors).toBe(1);
    expect(client?.firstSeen).toBe(new Date(start).toISOString());
    const partner = client?.calls.find((c) => c.model === 'res.partner');
    expect(partner).toMatchObject({ count: 3, errors: 1, lastFault: 'AccessError' });
    // The most recent example (b's) is the one kept.
    expect(JSON.stringify(partner?.replacement)).toContain('7');
    expect(client?.daily.map((d) => [d.day, d.calls])).toEqual([
      ['2026-12-01', 1],
      ['2026-12-02', 3],
    ]);
  });

  it('keeps the bounds: clients past maxClients dropped, least recently seen first', () => {
    let t = Date.parse('2026-12-01T00:00:00Z');
    const view = new Inventory({ maxClients: 2 }, () => t);
    for (const ua of ['one', 'two', 'three']) {
      const r = new Inventory({}, () => (t += 1000));
      r.record(obs('res.partner', { userAgent: ua }));
      view.merge(r.toState());
    }
    expect(view.snapshot({ dbHeader: true }).clients.map((c) => c.userAgent)).toEqual(['three', 'two']);
  });

  it('merges what is not an inventory as nothing', () => {
    const view = new Inventory();
    expect(view.merge(undefined)).toBe(0);
    expect(view.merge({ format: 'something else', clients: [{}] })).toBe(0);
    expect(view.snapshot({ dbHeader: true }).clients).toEqual([]);
  });

  it("keeps an address's most recently seen clients, whichever replica saw them, and counts no eviction", () => {
    const at = (ms: number) => () => ms;
    const old = new Inventory({}, at(Date.parse('2026-12-01T00:00:00Z')));
    const recent = new Inventory({}, at(Date.parse('2026-12-05T00:00:00Z')));
    for (let i = 0; i < 10; i++) {
      old.record(obs('res.partner', { userAgent: `older-${i}` }));
      recent.record(obs('res.partner', { userAgent: `newer-${i}` }));
    }
    const view = new Inventory({}, at(Date.parse('2026-12-05T00:00:01Z')));
    view.merge(recent.toState());
    view.merge(old.toState());
    const inv = view.snapshot({ dbHeader: true });
    expect(inv.clients.map((c) => c.userAgent).every((ua) => ua.startsWith('newer-'))).toBe(true);
    expect(inv.clients).toHaveLength(10);
    expect(inv.evicted.clients).toBe(0);
  });
});
