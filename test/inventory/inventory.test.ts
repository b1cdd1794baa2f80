/**
 * The inventory store: aggregation per client and per call, logins learnt from authenticate,
 * eviction of the least recently seen within the limits, and the saved state read back
 * (tolerating whatever is malformed in it).
 */
import { describe, expect, it } from 'vitest';
import { Inventory, type Observation } from '../../src/inventory/store.ts';
import { struct } from '../../src/values.ts';

const opts = { dbHeader: true };

function clock(start = Date.parse('2026-01-01T00:00:00Z')): {
  now: () => number;
  tick: (ms?: number) => void;
} {
  let t = start;
  return { now: () => t, tick: (ms = 1000) => (t += ms) };
}

function obs(over: Partial<Observation> = {}): Observation {
  return {
    protocol: 'xmlrpc/2',
    service: 'object',
    function: 'execute_kw',
    params: undefined,
    notes: { db: 'lab', uid: 2, model: 'res.partner', method: 'search_read' },
    json2: { model: 'res.partner', method: 'search_read', body: struct({ domain: [] }) },
    fault: undefined,
    userAgent: 'client/1',
    address: '::ffff:10.0.0.5',
    ...over,
  };
}

describe('Inventory', () => {
  it('counts calls and faults per client and per call, with first and last seen', () => {
    const c = clock();
    const inv = new Inventory({}, c.now);
    inv.record(obs());
    c.tick();
    inv.record(obs({ fault: 'odoo.exceptions.AccessError' }));
    c.tick();
    inv.record(
      obs({
        json2: { model: 'res.partner', method: 'search_read', body: struct({ domain: [['id', '=', 1]] }) },
      }),
    );
    const snap = inv.snapshot(opts);
    expect(snap.clients).toHaveLength(1);
    const [client] = snap.clients;
    expect(client).toMatchObject({
      userAgent: 'client/1',
      address: '10.0.0.5',
      db: 'lab',
      login: null,
      uid: 2,
      count: 3,
      errors: 1,
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:00:02.000Z',
    });
    expect(client?.calls).toHaveLength(1);
    expect(client?.calls[0]).toMatchObject({
      count: 3,
      errors: 1,
      lastFault: 'odoo.exceptions.AccessError',
      firstSeen: '2026-01-01T00:00:00.000Z',
      lastSeen: '2026-01-01T00:00:02.000Z',
    });
    // The example is the last call's.
    expect(client?.calls[0]?.replacement.body).toBe('{"domain": [["id", "=", 1]]}');
    // Taken again at most once a second: a call in the same second leaves it as it is.
    inv.record(obs({ json2: { model: 'res.partner', method: 'search_read', body: struct({ domain: [] }) } }));
    expect(inv.snapshot(opts).clients[0]?.calls[0]?.replacement.body).toBe('{"domain": [["id", "=", 1]]}');
    c.tick();
    inv.record(obs({ json2: { model: 'res.partner', method: 'search_read', body: struct({ domain: [] }) } }));
    expect(inv.snapshot(opts).clients[0]?.calls[0]?.replacement.body).toBe('{"domain": []}');
  });

  it('learns the login of a uid from authenticate and files later calls under it', () => {
    const inv = new Inventory();
    inv.record(
      obs({
        service: 'common',
        function: 'authenticate',
        params: ['lab', 'alice@example.com', 'the-api-key', struct({})],
        notes: { db: 'lab', uid: 7 },
        json2: undefined,
      }),
    );
    inv.record(obs({ notes: { db: 'lab', uid: 7, model: 'res.partner', method: 'read' } }));
    inv.record(obs({ notes: { db: 'lab', uid: 8, model: 'res.partner', method: 'read' } }));
    const clients = inv.snapshot(opts).clients;
    expect(clients.map((c) => [c.login, c.uid, c.count])).toEqual([
      [null, 8, 1],
      ['alice@example.com', 7, 2],
    ]);
    expect(JSON.stringify(inv.snapshot(opts))).not.toContain('the-api-key');
    expect(JSON.stringify(inv.toState())).not.toContain('the-api-key');
  });

  it('takes a login the call context knows (a credential map entry) as it is', () => {
    const inv = new Inventory();
    inv.record(
      obs({ notes: { db: 'lab', uid: 9, login: 'integration', model: 'res.partner', method: 'read' } }),
    );
    expect(inv.snapshot(opts).clients[0]).toMatchObject({ login: 'integration', uid: 9 });
  });

  it('names an object call that failed before it was translated from its parameters', () => {
    const inv = new Inventory();
    inv.record(
      obs({
        params: ['lab', 2, 'wrong', 'sale.order', 'action_confirm', [[1]]],
        notes: { db: 'lab', uid: 2 },
        json2: undefined,
        fault: 'odoo.exceptions.AccessDenied',
      }),
    );
    const call = inv.snapshot(opts).clients[0]?.calls[0];
    expect(call).toMatchObject({ model: 'sale.order', method: 'action_confirm', errors: 1 });
    expect(call?.replacement.request).toBe('POST /json/2/sale.order/action_confirm');
    expect(call?.replacement.body).toBe('{}');
  });

  it('shows the JSON-2 method a shim called in place of the legacy one', () => {
    const inv = new Inventory();
    inv.record(
      obs({
        notes: { db: 'lab', uid: 2, model: 'res.partner', method: 'name_get' },
        json2: { model: 'res.partner', method: 'read', body: struct({ ids: [1], fields: ['display_name'] }) },
      }),
    );
    const call = inv.snapshot(opts).clients[0]?.calls[0];
    expect(call?.method).toBe('name_get');
    expect(call?.replacement.request).toBe('POST /json/2/res.partner/read');
  });

  it('evicts the least recently seen client and call beyond the limits, and counts them', () => {
    const c = clock();
    const inv = new Inventory({ maxClients: 2, maxCalls: 2 }, c.now);
    for (const ua of ['a', 'b', 'a', 'c']) {
      inv.record(obs({ userAgent: ua }));
      c.tick();
    }
    for (const method of ['m1', 'm2', 'm1', 'm3']) {
      inv.record(
        obs({ userAgent: 'a', notes: { db: 'lab', uid: 2, model: 'x.y', method }, json2: undefined }),
      );
      c.tick();
    }
    const snap = inv.snapshot(opts);
    expect(snap.clients.map((x) => x.userAgent)).toEqual(['a', 'c']);
    expect(snap.clients[0]?.calls.map((x) => x.method)).toEqual(['m1', 'm3']);
    expect(snap.evicted).toEqual({ clients: 1, calls: 2 });
  });

  it('bounds what a client sends: long User-Agents, model names and bodies', () => {
    const inv = new Inventory({ maxExampleBytes: 256 });
    inv.record(
      obs({
        userAgent: 'u'.repeat(10_000),
        json2: {
          model: 'res.partner',
          method: 'create',
          body: struct({ vals_list: Array(1000).fill(struct({ name: 'n'.repeat(100) })) }),
        },
      }),
    );
    const [client] = inv.snapshot(opts).clients;
    expect(client?.userAgent.length).toBe(256);
    const r = client?.calls[0]?.replacement;
    expect(r?.truncated).toBe(true);
    expect((r?.body ?? '').length).toBeLessThan(256 + 300);
  });

  it('records nothing when off', () => {
    const inv = new Inventory({ maxClients: 0 });
    inv.record(obs());
    expect(inv.snapshot(opts)).toMatchObject({ enabled: false, clients: [] });
    expect(inv.changes).toBe(0);
  });

  it('reads its saved state back, skipping malformed entries and applying its own limits', () => {
    const c = clock();
    const a = new Inventory({}, c.now);
    for (const ua of ['one', 'two', 'three']) {
      a.record(obs({ userAgent: ua }));
      c.tick();
    }
    a.record(
      obs({
        service: 'common',
        function: 'login',
        params: ['lab', 'bob', 'pw'],
        notes: { db: 'lab', uid: 4 },
        json2: undefined,
      }),
    );
    const state = JSON.parse(JSON.stringify(a.toState())) as { clients: unknown[] };
    state.clients.push({ userAgent: 42 }, null, { userAgent: 'x', address: '', first: 'nope' });
    const b = new Inventory({ maxClients: 3 }, c.now);
    expect(b.restore(state)).toBe(4);
    expect(b.snapshot(opts).clients.map((x) => x.userAgent)).toEqual(['client/1', 'three', 'two']);
    // The uid → login learnt before is known after.
    b.record(
      obs({ userAgent: 'client/1', notes: { db: 'lab', uid: 4, model: 'res.partner', method: 'read' } }),
    );
    expect(b.snapshot(opts).clients[0]).toMatchObject({ login: 'bob', count: 2 });

    expect(new Inventory().restore({ format: 'something else', clients: [] })).toBe(0);
    expect(new Inventory().restore('garbage')).toBe(0);
  });
});
