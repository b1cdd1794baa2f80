/**
 * What the migration page's overview is made of (issue 22): calls per day and per hour kept per
 * client within the retention period, the last 24 hours and 7 days, kinds of call and clients
 * counted as migrated after `migratedAfterDays` without a call, clients and calls forgotten after
 * `retentionDays`, the counts saved and read back, and the trends drawn as SVG.
 */
import { describe, expect, it } from 'vitest';
import { Inventory, type Observation } from '../../src/inventory/store.ts';
import { sparklineSvg, trendSvg } from '../../src/inventory/trend.ts';
import { struct } from '../../src/values.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const opts = { dbHeader: true };

function clock(start = Date.parse('2026-03-01T12:00:00Z')) {
  let t = start;
  return { now: () => t, tick: (ms: number) => (t += ms) };
}

function obs(method: string, over: Partial<Observation> = {}): Observation {
  return {
    protocol: 'xmlrpc/2',
    service: 'object',
    function: 'execute_kw',
    params: undefined,
    notes: { db: 'lab', uid: 2, model: 'res.partner', method },
    json2: { model: 'res.partner', method, body: struct({ domain: [] }) },
    fault: undefined,
    userAgent: 'client/1',
    address: '10.0.0.5',
    ...over,
  };
}

describe('the inventory over days', () => {
  it('counts calls and faults per day and per hour; 24 h and 7 days add them up', () => {
    const c = clock();
    const inv = new Inventory({}, c.now);
    inv.record(obs('search_read')); // 2026-03-01 12:00
    c.tick(DAY); // 03-02 12:00
    inv.record(obs('search_read', { fault: 'builtins.TypeError' }));
    inv.record(obs('write'));
    c.tick(3 * DAY + 20 * HOUR); // 03-06 08:00
    inv.record(obs('search_read'));
    const [client] = inv.snapshot(opts).clients;
    expect(client?.daily).toEqual([
      { day: '2026-03-01', calls: 1, faults: 0 },
      { day: '2026-03-02', calls: 2, faults: 1 },
      { day: '2026-03-06', calls: 1, faults: 0 },
    ]);
    expect(client?.last24h).toEqual({ calls: 1, faults: 0 });
    expect(client?.last7d).toEqual({ calls: 4, faults: 1 });
    c.tick(6 * DAY); // 03-12 08:00: 03-06 is within the last 7 days, 03-02 no longer
    const later = inv.snapshot(opts);
    expect(later.clients[0]?.last7d).toEqual({ calls: 1, faults: 0 });
    expect(later.clients[0]?.last24h).toEqual({ calls: 0, faults: 0 });
  });

  it('a kind of call not seen for migratedAfterDays is migrated; a client with no call left, since its last call', () => {
    const c = clock();
    const inv = new Inventory({ migratedAfterDays: 7 }, c.now);
    inv.record(obs('write'));
    c.tick(2 * DAY);
    inv.record(obs('search_read'));
    c.tick(6 * DAY); // write: 8 days ago, search_read: 6
    let snap = inv.snapshot(opts);
    expect(snap.clients[0]?.calls.map((k) => [k.method, k.status])).toEqual([
      ['search_read', 'remaining'],
      ['write', 'migrated'],
    ]);
    expect(snap.clients[0]).toMatchObject({
      status: 'calling',
      migratedOn: null,
      callKinds: { total: 2, remaining: 1, migrated: 1 },
    });
    c.tick(2 * DAY);
    snap = inv.snapshot(opts);
    expect(snap.clients[0]).toMatchObject({ status: 'migrated', migratedOn: '2026-03-03' });
    expect(snap.overview.clients).toEqual({ total: 1, calling: 0, migrated: 1 });
    expect(snap.overview.callKinds).toEqual({ total: 2, remaining: 0, migrated: 2 });
  });

  it('forgets clients and kinds of call after retentionDays without a call, and keeps only those days', () => {
    const c = clock();
    const inv = new Inventory({ retentionDays: 10 }, c.now);
    inv.record(obs('write', { userAgent: 'old/1' }));
    for (let d = 0; d < 15; d++) {
      inv.record(obs('search_read'));
      if (d === 0) inv.record(obs('unlink'));
      c.tick(DAY);
    }
    const snap = inv.snapshot(opts);
    expect(snap.clients.map((k) => k.userAgent)).toEqual(['client/1']);
    expect(snap.clients[0]?.calls.map((k) => k.method)).toEqual(['search_read']);
    expect(snap.expired).toEqual({ clients: 1, calls: 1 });
    expect(snap.evicted).toEqual({ clients: 0, calls: 0 });
    expect(snap.clients[0]?.daily).toHaveLength(10);
    expect(snap.clients[0]?.daily[0]?.day).toBe('2026-03-06');
  });

  it('clients and calls seen interleaved within a second still expire and evict by last seen', () => {
    const c = clock();
    const inv = new Inventory({ retentionDays: 2, maxClients: 2 }, c.now);
    for (let i = 0; i < 10; i++) {
      inv.record(obs('search_read', { userAgent: 'A' }));
      inv.record(obs('write', { userAgent: 'B' }));
      inv.record(obs('read', { userAgent: 'B' }));
      c.tick(100);
    }
    // B stops; A goes on calling, never a second apart, for more than the two days of retention.
    for (let i = 0; i < (2 * DAY + HOUR) / 900; i++) {
      inv.record(obs(i % 2 ? 'search_read' : 'unlink', { userAgent: 'A' }));
      c.tick(900);
    }
    let snap = inv.snapshot(opts);
    expect(snap.clients.map((k) => k.userAgent)).toEqual(['A']);
    expect(snap.expired.clients).toBe(1);
    expect(snap.clients[0]?.calls.map((k) => k.method)).toEqual(['search_read', 'unlink']);
    // Two new clients in a full store (two places): A, now the least recently seen, goes.
    c.tick(2000);
    inv.record(obs('search_read', { userAgent: 'C' }));
    inv.record(obs('search_read', { userAgent: 'D' }));
    snap = inv.snapshot(opts);
    expect(snap.clients.map((k) => k.userAgent).sort()).toEqual(['C', 'D']);
    const e = new Inventory({ retentionDays: 2, maxClients: 2 }, c.now);
    for (let i = 0; i < 5; i++) {
      e.record(obs('search_read', { userAgent: 'A' }));
      e.record(obs('search_read', { userAgent: 'B' }));
      c.tick(100);
    }
    c.tick(5 * HOUR);
    e.record(obs('search_read', { userAgent: 'A' })); // A is now the most recently seen
    e.record(obs('search_read', { userAgent: 'C' })); // evicts B, not A
    expect(
      e
        .snapshot(opts)
        .clients.map((k) => [k.userAgent, k.count])
        .sort(),
    ).toEqual([
      ['A', 6],
      ['C', 1],
    ]);
  });

  it('a saved file with days, hours or times in the future: those buckets dropped, times taken as now', () => {
    const c = clock();
    const a = new Inventory({}, c.now);
    a.record(obs('search_read'));
    const state = JSON.parse(JSON.stringify(a.toState())) as {
      clients: { last: string; daily: unknown[]; hourly: unknown[]; calls: { last: string }[] }[];
    };
    const saved = state.clients[0]!;
    saved.last = '2099-01-01T00:00:00.000Z';
    saved.calls[0]!.last = '2099-01-01T00:00:00.000Z';
    saved.daily.push(['2099-01-01', 50, 0]);
    saved.hourly.push(['2099-01-01T00', 50, 0]);
    const b = new Inventory({}, c.now);
    b.restore(state);
    const [client] = b.snapshot(opts).clients;
    expect(client?.lastSeen).toBe(new Date(c.now()).toISOString());
    expect(client?.calls[0]?.lastSeen).toBe(new Date(c.now()).toISOString());
    expect(client?.daily).toEqual([{ day: '2026-03-01', calls: 1, faults: 0 }]);
    // New calls are counted today, not in the future bucket.
    b.record(obs('search_read'));
    expect(b.snapshot(opts).clients[0]?.last24h).toEqual({ calls: 2, faults: 0 });
  });

  it('saves the counts per day and hour and reads them back, skipping what is malformed', () => {
    const c = clock();
    const a = new Inventory({}, c.now);
    a.record(obs('search_read'));
    c.tick(DAY);
    a.record(obs('search_read', { fault: 'x' }));
    const state = a.toState();
    const b = new Inventory({}, c.now);
    expect(b.restore(JSON.parse(JSON.stringify(state)))).toBe(1);
    const [ca] = a.snapshot(opts).clients;
    const [cb] = b.snapshot(opts).clients;
    expect(cb?.daily).toEqual(ca?.daily);
    expect(cb?.last24h).toEqual(ca?.last24h);
    // Hand-edited counts: wrong shapes, more faults than calls, a bad date: skipped.
    const edited = JSON.parse(JSON.stringify(state)) as { clients: { daily: unknown[] }[] };
    edited.clients[0]!.daily = [
      ['2026-03-01', 5, 1],
      ['2026-13-45', 1, 0],
      ['2026-03-02', 1, 2],
      'x',
      ['2026-03-03', -1, 0],
    ];
    const e = new Inventory({}, c.now);
    e.restore(edited);
    expect(e.snapshot(opts).clients[0]?.daily).toEqual([{ day: '2026-03-01', calls: 5, faults: 1 }]);
  });
});

describe('trend SVG', () => {
  const now = Date.parse('2026-03-10T09:00:00Z');
  const daily = [
    { day: '2026-03-01', calls: 4, faults: 0 },
    { day: '2026-03-09', calls: 8, faults: 2 },
    { day: '2026-03-10', calls: 2, faults: 0 },
  ];

  it('one bar per day of the window, each naming its day and counts, no style attribute', () => {
    const svg = trendSvg(daily, 10, now, { width: 200, height: 40 });
    const days = [...svg.matchAll(/data-day="([\d-]+)" data-calls="(\d+)" data-faults="(\d+)"/g)].map((m) =>
      m.slice(1).join(' '),
    );
    expect(days).toHaveLength(10);
    expect(days[0]).toBe('2026-03-01 4 0');
    expect(days[8]).toBe('2026-03-09 8 2');
    expect(days[9]).toBe('2026-03-10 2 0');
    expect(days.filter((d) => d.endsWith(' 0 0'))).toHaveLength(7);
    expect(svg).not.toMatch(/style=|<script|href=/);
    // The busiest day's bar is the full height.
    expect(svg).toContain('height="40.0" fill="#714b67"');
  });

  it('a sparkline: one path for the calls and one for the faults', () => {
    const svg = sparklineSvg(daily, 10, now, { width: 100, height: 20 });
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(sparklineSvg([], 10, now, { width: 100, height: 20 })).not.toContain('<path');
  });
});
