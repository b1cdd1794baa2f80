/**
 * What the inventory keeps, and within which bounds: one entry per client, one per kind of call
 * within it. The store (src/inventory/store.ts) records into them; the views
 * (src/inventory/views.ts) and the saved state (src/inventory/saved-state.ts) read them, and the
 * saved state builds them back. Times are milliseconds since the epoch; every string is clipped
 * to a fixed length before it is kept.
 */

export interface InventoryLimits {
  /** Clients kept (least recently seen evicted first); 0: the inventory is off. */
  maxClients: number;
  /** Kinds of call kept per client (least recently seen evicted first). */
  maxCalls: number;
  /**
   * Clients kept per address: a new one past it evicts that address's least recently seen, so a
   * sender cycling User-Agents evicts only its own entries, never other clients'.
   */
  maxClientsPerAddress: number;
  /** Largest example JSON-2 body kept per kind of call, in characters of JSON. */
  maxExampleBytes: number;
  /**
   * Days a client's and a call's history is kept: the daily counts of the trend, and a client or
   * a kind of call not seen for that long is forgotten.
   */
  retentionDays: number;
  /** A kind of call (or a client) not seen for this many days counts as migrated. */
  migratedAfterDays: number;
}

export const DEFAULT_LIMITS: InventoryLimits = {
  maxClients: 100,
  maxCalls: 100,
  maxClientsPerAddress: 10,
  maxExampleBytes: 2048,
  retentionDays: 30,
  migratedAfterDays: 7,
};

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** Calls and faults within one day or one hour (`at`: days or hours since the epoch, UTC). */
export interface Bucket {
  at: number;
  calls: number;
  faults: number;
}

/**
 * Counts one call in `buckets` (oldest first) at `at`, keeping only the buckets of the last
 * `keep` units: one comparison and an increment on the usual path.
 */
export function countIn(buckets: Bucket[], at: number, fault: boolean, keep: number): void {
  const last = buckets[buckets.length - 1];
  if (last !== undefined && last.at >= at) {
    // The same unit (or a clock that went back): counted in the newest bucket.
    last.calls++;
    if (fault) last.faults++;
    return;
  }
  buckets.push({ at, calls: 1, faults: fault ? 1 : 0 });
  while ((buckets[0]?.at ?? at) <= at - keep) buckets.shift();
}

/** Calls and faults in the buckets after `since` (exclusive). */
export function sumSince(buckets: readonly Bucket[], since: number): { calls: number; faults: number } {
  let calls = 0;
  let faults = 0;
  for (const b of buckets)
    if (b.at > since) {
      calls += b.calls;
      faults += b.faults;
    }
  return { calls, faults };
}

export interface CallEntry {
  protocol: string;
  service: string;
  fn: string;
  model: string | undefined;
  method: string;
  /** The JSON-2 method, when a shim changed it. */
  json2Method: string | undefined;
  count: number;
  errors: number;
  first: number;
  last: number;
  /** When it was last moved to the end of its client's map (most recently seen last). */
  movedAt: number;
  lastFault: string | undefined;
  /** The upstream the last such call went to, when there are several (BRIDGE_CONFIG upstreams). */
  upstream: string | undefined;
  /** Shadow mode's comparisons of this kind of call (src/server/shadow.ts), once there is one. */
  shadow: ShadowCounts | undefined;
  example: string | undefined;
  /** When the example was taken. */
  exampleAt: number;
  truncated: boolean;
}

/** How shadow comparisons of a kind of call came out, and the last mismatch's differences. */
export interface ShadowCounts {
  match: number;
  mismatch: number;
  error: number;
  lastDiff: string | undefined;
}

export interface ClientEntry {
  key: string;
  /** The User-Agent and address as the last call gave them (compared as is on the fast path). */
  rawUserAgent: string | undefined;
  rawAddress: string | undefined;
  /** `loginsLearnt` when this client was last looked up by key. */
  loginsSeen: number;
  userAgent: string;
  address: string;
  db: string | undefined;
  login: string | undefined;
  uid: number | undefined;
  first: number;
  last: number;
  /** When it was last moved to the end of the store's map (most recently seen last). */
  movedAt: number;
  count: number;
  errors: number;
  calls: Map<string, CallEntry>;
  lastCall: CallEntry | undefined;
  /** Calls per UTC day, oldest first, for `retentionDays`. */
  daily: Bucket[];
  /** Calls per hour, oldest first, for the last 24 hours. */
  hourly: Bucket[];
}

export const clip = (s: string, n: number): string => (s.length > n ? s.slice(0, n) : s);

export const clipOpt = (s: string | undefined, n: number): string | undefined =>
  s === undefined ? undefined : clip(s, n);

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function clientKey(
  userAgent: string,
  address: string,
  db: string | undefined,
  login: string | undefined,
  uid: number | undefined,
): string {
  return `${userAgent}\0${address}\0${db ?? ''}\0${login ?? `#${uid ?? ''}`}`;
}

export function callKey(
  protocol: string,
  service: string,
  model: string | undefined,
  method: string,
): string {
  return `${protocol}\0${service}\0${model ?? ''}\0${method}`;
}

/** A client with no calls yet. */
export function newClient(
  key: string,
  userAgent: string,
  address: string,
  db: string | undefined,
  login: string | undefined,
  uid: number | undefined,
  first: number,
  last: number,
): ClientEntry {
  return {
    key,
    rawUserAgent: undefined,
    rawAddress: undefined,
    loginsSeen: -1,
    userAgent,
    address,
    db,
    login,
    uid,
    first,
    last,
    movedAt: last,
    count: 0,
    errors: 0,
    calls: new Map(),
    lastCall: undefined,
    daily: [],
    hourly: [],
  };
}

/**
 * Adds `from`'s counts to `into`, the same client seen by another replica (src/shared/): counts
 * summed, the first and last calls' times widened, per-day and per-hour buckets summed, each kind
 * of call merged alike (its last fault and example: the most recent one's). `into`'s calls stay
 * least recently seen first, at most `limits.maxCalls`.
 */
export function mergeClient(into: ClientEntry, from: ClientEntry, limits: InventoryLimits): void {
  into.first = Math.min(into.first, from.first);
  into.last = Math.max(into.last, from.last);
  into.count += from.count;
  into.errors += from.errors;
  into.login ??= from.login;
  into.uid ??= from.uid;
  into.daily = mergeBuckets(into.daily, from.daily, limits.retentionDays);
  into.hourly = mergeBuckets(into.hourly, from.hourly, 24);
  for (const [key, call] of from.calls) {
    const mine = into.calls.get(key);
    if (mine) mergeCall(mine, call);
    else into.calls.set(key, { ...call });
  }
  const calls = [...into.calls].sort((a, b) => a[1].last - b[1].last);
  into.calls = new Map(calls.slice(Math.max(0, calls.length - limits.maxCalls)));
  into.lastCall = undefined;
}

function mergeCall(into: CallEntry, from: CallEntry): void {
  if (from.shadow) {
    const s = into.shadow;
    into.shadow = s
      ? {
          match: s.match + from.shadow.match,
          mismatch: s.mismatch + from.shadow.mismatch,
          error: s.error + from.shadow.error,
          lastDiff:
            (from.last > into.last ? from.shadow.lastDiff : s.lastDiff) ?? s.lastDiff ?? from.shadow.lastDiff,
        }
      : { ...from.shadow };
  }
  into.count += from.count;
  into.errors += from.errors;
  into.first = Math.min(into.first, from.first);
  if (from.last > into.last) {
    into.last = from.last;
    into.fn = from.fn;
    into.lastFault = from.lastFault ?? into.lastFault;
    into.upstream = from.upstream ?? into.upstream;
    if (from.example !== undefined) {
      into.example = from.example;
      into.truncated = from.truncated;
      into.json2Method = from.json2Method;
      into.exampleAt = from.exampleAt;
    }
  } else {
    into.lastFault ??= from.lastFault;
    if (into.example === undefined) {
      into.example = from.example;
      into.truncated = from.truncated;
      into.json2Method = from.json2Method;
    }
  }
}

/** Two bucket lists (oldest first) summed by unit, the last `keep` units of the newest kept. */
function mergeBuckets(a: readonly Bucket[], b: readonly Bucket[], keep: number): Bucket[] {
  const by = new Map<number, Bucket>();
  for (const x of [...a, ...b]) {
    const have = by.get(x.at);
    if (have) {
      have.calls += x.calls;
      have.faults += x.faults;
    } else by.set(x.at, { ...x });
  }
  const all = [...by.values()].sort((x, y) => x.at - y.at);
  const newest = all[all.length - 1]?.at ?? 0;
  return all.filter((x) => x.at > newest - keep);
}
