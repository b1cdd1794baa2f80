/**
 * The inventory as `/_bridge/inventory` answers it (and as the `/_bridge/` page, src/inventory/page.ts,
 * shows it): an overview (clients still calling, kinds of call left, calls and faults in the last
 * 24 hours and 7 days, the calls per day), then every client kept, most recently seen first, each
 * with the same figures and its calls sorted by name and, for each call, the JSON-2 request that
 * replaces it (src/inventory/snippets.ts), built from the example body the store kept. A kind of
 * call (and a client) not seen for `migratedAfterDays` counts as migrated.
 */
import { createHash } from 'node:crypto';
import {
  DAY_MS,
  HOUR_MS,
  iso,
  sumSince,
  type Bucket,
  type CallEntry,
  type ClientEntry,
  type InventoryLimits,
} from './entries.ts';
import { replacementFor, type Replacement, type SnippetOptions } from './snippets.ts';

export interface InventoryCall {
  protocol: string;
  service: string;
  function: string;
  model: string | null;
  /** The model's method for object calls, else the legacy function. */
  method: string;
  count: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
  lastFault: string | null;
  /** The upstream the last such call went to (BRIDGE_CONFIG upstreams; null with one). */
  upstream: string | null;
  /** Shadow mode's comparisons of this kind of call, and the last mismatch's differences (null: none). */
  shadow: { match: number; mismatch: number; error: number; lastDiff: string | null } | null;
  /** `migrated`: not seen for `migratedAfterDays`. */
  status: 'remaining' | 'migrated';
  replacement: Replacement;
}

/** Calls and faults within a period. */
export interface Counts {
  calls: number;
  faults: number;
}

/** Calls and faults of one UTC day (`YYYY-MM-DD`); days without a call are left out. */
export interface DayCounts extends Counts {
  day: string;
}

/** Kinds of call: all kept, still seen, and migrated (not seen for `migratedAfterDays`). */
export interface KindCounts {
  total: number;
  remaining: number;
  migrated: number;
}

export interface InventoryClient {
  /** A stable name for the client (from User-Agent, address, db and login), for links and reports. */
  id: string;
  userAgent: string;
  address: string;
  db: string | null;
  login: string | null;
  uid: number | null;
  firstSeen: string;
  lastSeen: string;
  count: number;
  errors: number;
  /** `migrated`: no call for `migratedAfterDays`, since `migratedOn`. */
  status: 'calling' | 'migrated';
  migratedOn: string | null;
  last24h: Counts;
  last7d: Counts;
  callKinds: KindCounts;
  /** Calls per day over the retention period, oldest first. */
  daily: DayCounts[];
  /** Sorted by service, model, method, protocol. */
  calls: InventoryCall[];
}

export interface InventoryOverview {
  clients: { total: number; calling: number; migrated: number };
  callKinds: KindCounts;
  last24h: Counts;
  last7d: Counts;
  /** All clients' calls per day, oldest first. */
  daily: DayCounts[];
}

export interface InventoryJson {
  generatedAt: string;
  enabled: boolean;
  limits: InventoryLimits;
  /** Entries dropped to stay within the limits since the bridge started. */
  evicted: { clients: number; calls: number };
  /** Entries forgotten after `retentionDays` without a call. */
  expired: { clients: number; calls: number };
  overview: InventoryOverview;
  /** Most recently seen first. */
  clients: InventoryClient[];
}

/** What the store shows of itself (src/inventory/store.ts). */
export interface StoreContents {
  /** The time of the snapshot. */
  now: number;
  enabled: boolean;
  limits: InventoryLimits;
  evicted: { clients: number; calls: number };
  expired: { clients: number; calls: number };
  /** Least recently touched first. */
  clients: Iterable<ClientEntry>;
}

export function inventoryJson(store: StoreContents, opts: SnippetOptions): InventoryJson {
  // Most recently touched first, then by last seen (a restored file may hold any order).
  const clients = [...store.clients].reverse().sort((a, b) => b.last - a.last);
  const at = periods(store.now, store.limits);
  const views = clients.map((c) => clientView(c, opts, at));
  return {
    generatedAt: new Date(store.now).toISOString(),
    enabled: store.enabled,
    limits: { ...store.limits },
    evicted: { ...store.evicted },
    expired: { ...store.expired },
    overview: overviewOf(views),
    clients: views,
  };
}

/** What a client's report needs: the time, the settings, and that one client (or undefined). */
export interface OneClient {
  generatedAt: string;
  limits: InventoryLimits;
  client: InventoryClient | undefined;
}

/** One client's view, by its `id`, without building every other client's. */
export function clientJson(store: StoreContents, opts: SnippetOptions, id: string): OneClient {
  const at = periods(store.now, store.limits);
  let found: ClientEntry | undefined;
  for (const c of store.clients) if (clientId(c.key) === id) found = c;
  return {
    generatedAt: new Date(store.now).toISOString(),
    limits: { ...store.limits },
    client: found && clientView(found, opts, at),
  };
}

/** The periods a snapshot counts in: the hour and day bounds, and the migrated cut-off. */
interface Periods {
  /** Hours since the epoch before the last 24 (exclusive bound). */
  hourSince: number;
  /** Days since the epoch before the last 7. */
  daySince: number;
  /** Seen before this time (ms): migrated. */
  migratedBefore: number;
}

function periods(now: number, limits: InventoryLimits): Periods {
  return {
    hourSince: Math.floor(now / HOUR_MS) - 24,
    daySince: Math.floor(now / DAY_MS) - 7,
    migratedBefore: now - limits.migratedAfterDays * DAY_MS,
  };
}

/** A short stable name for a client: not secret (its parts are shown beside it), just shorter. */
export function clientId(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

function clientView(c: ClientEntry, opts: SnippetOptions, at: Periods): InventoryClient {
  const calls = [...c.calls.values()].sort(byName).map((e) => callView(c, e, opts, at));
  const migrated = c.last < at.migratedBefore;
  return {
    id: clientId(c.key),
    userAgent: c.userAgent,
    address: c.address,
    db: c.db ?? null,
    login: c.login ?? null,
    uid: c.uid ?? null,
    firstSeen: iso(c.first),
    lastSeen: iso(c.last),
    count: c.count,
    errors: c.errors,
    status: migrated ? 'migrated' : 'calling',
    migratedOn: migrated ? iso(c.last).slice(0, 10) : null,
    last24h: sumSince(c.hourly, at.hourSince),
    last7d: sumSince(c.daily, at.daySince),
    callKinds: kindsOf(calls),
    daily: c.daily.map(dayCounts),
    calls,
  };
}

function dayCounts(b: Bucket): DayCounts {
  return { day: iso(b.at * DAY_MS).slice(0, 10), calls: b.calls, faults: b.faults };
}

function kindsOf(calls: readonly InventoryCall[]): KindCounts {
  const migrated = calls.filter((c) => c.status === 'migrated').length;
  return { total: calls.length, remaining: calls.length - migrated, migrated };
}

function overviewOf(clients: readonly InventoryClient[]): InventoryOverview {
  const perDay = new Map<string, DayCounts>();
  const sum = (a: Counts, b: Counts): Counts => ({ calls: a.calls + b.calls, faults: a.faults + b.faults });
  let last24h: Counts = { calls: 0, faults: 0 };
  let last7d: Counts = { calls: 0, faults: 0 };
  const kinds: KindCounts = { total: 0, remaining: 0, migrated: 0 };
  for (const c of clients) {
    last24h = sum(last24h, c.last24h);
    last7d = sum(last7d, c.last7d);
    kinds.total += c.callKinds.total;
    kinds.remaining += c.callKinds.remaining;
    kinds.migrated += c.callKinds.migrated;
    for (const d of c.daily) {
      const t = perDay.get(d.day) ?? { day: d.day, calls: 0, faults: 0 };
      t.calls += d.calls;
      t.faults += d.faults;
      perDay.set(d.day, t);
    }
  }
  const calling = clients.filter((c) => c.status === 'calling').length;
  return {
    clients: { total: clients.length, calling, migrated: clients.length - calling },
    callKinds: kinds,
    last24h,
    last7d,
    daily: [...perDay.values()].sort((a, b) => (a.day < b.day ? -1 : 1)),
  };
}

function callView(c: ClientEntry, e: CallEntry, opts: SnippetOptions, at: Periods): InventoryCall {
  return {
    protocol: e.protocol,
    service: e.service,
    function: e.fn,
    model: e.model ?? null,
    method: e.method,
    count: e.count,
    errors: e.errors,
    firstSeen: iso(e.first),
    lastSeen: iso(e.last),
    lastFault: e.lastFault ?? null,
    upstream: e.upstream ?? null,
    shadow: e.shadow ? { ...e.shadow, lastDiff: e.shadow.lastDiff ?? null } : null,
    status: e.last < at.migratedBefore ? 'migrated' : 'remaining',
    replacement: replacementFor(
      {
        service: e.service,
        function: e.fn,
        model: e.model,
        method: e.json2Method ?? e.method,
        db: c.db,
        body: e.example,
        truncated: e.truncated,
      },
      opts,
    ),
  };
}

function byName(a: CallEntry, b: CallEntry): number {
  return (
    cmp(a.service, b.service) ||
    cmp(a.model ?? '', b.model ?? '') ||
    cmp(a.method, b.method) ||
    cmp(a.protocol, b.protocol)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
