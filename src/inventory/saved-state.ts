/**
 * The inventory's saved format (the JSON document src/inventory/persist.ts writes to
 * BRIDGE_INVENTORY_FILE and reads back at start-up): every client and call the store keeps, and
 * the logins it learnt, with times as ISO strings.
 *
 * Reading it back trusts nothing: a file may be edited by hand or come from another version. Each
 * client and each call is checked member by member and skipped when it does not have the expected
 * shape; strings are clipped to the lengths the store keeps, an example body that is not a JSON
 * object is dropped, and a client keeps only its `maxCalls` most recently seen calls.
 */
import {
  callKey,
  clientKey,
  clip,
  DAY_MS,
  HOUR_MS,
  iso,
  newClient,
  type Bucket,
  type CallEntry,
  type ClientEntry,
  type InventoryLimits,
} from './entries.ts';

export const STATE_FORMAT = 'odoo-rpc-bridge inventory';

export interface PersistedCall {
  protocol: string;
  service: string;
  function: string;
  model?: string;
  method: string;
  json2Method?: string;
  count: number;
  errors: number;
  first: string;
  last: string;
  lastFault?: string;
  upstream?: string;
  /** Shadow comparisons: [match, mismatch, error, last mismatch's differences]. */
  shadow?: [number, number, number, string | null];
  example?: string;
  truncated?: boolean;
}

export interface PersistedClient {
  userAgent: string;
  address: string;
  db?: string;
  login?: string;
  uid?: number;
  first: string;
  last: string;
  count: number;
  errors: number;
  calls: PersistedCall[];
  /** Calls per day: [`YYYY-MM-DD`, calls, faults], oldest first. */
  daily?: PersistedBucket[];
  /** Calls per hour: [`YYYY-MM-DDTHH`, calls, faults], oldest first. */
  hourly?: PersistedBucket[];
}

export type PersistedBucket = [string, number, number];

/** A login learnt from common.login / authenticate: [db, uid, login]. */
export type LearntLogin = [string, number, string];

export interface PersistedState {
  format: typeof STATE_FORMAT;
  version: 1;
  savedAt: string;
  clients: PersistedClient[];
  /** [db, uid, login] learnt from common.login / authenticate. */
  logins: LearntLogin[];
}

/** What a saved state holds, read back: what the store adds to itself. */
export interface RestoredState {
  /** Keyed, least recently seen first. */
  clients: Array<[string, ClientEntry]>;
  logins: LearntLogin[];
}

// -------------------------------------------------------------------------------------------
// Writing

/** Everything the store keeps, as saved (src/inventory/persist.ts). */
export function stateOf(clients: Iterable<ClientEntry>, logins: LearntLogin[], now: number): PersistedState {
  return {
    format: STATE_FORMAT,
    version: 1,
    savedAt: new Date(now).toISOString(),
    clients: [...clients].map(persistedClient),
    logins,
  };
}

function persistedClient(c: ClientEntry): PersistedClient {
  return {
    userAgent: c.userAgent,
    address: c.address,
    ...(c.db !== undefined ? { db: c.db } : {}),
    ...(c.login !== undefined ? { login: c.login } : {}),
    ...(c.uid !== undefined ? { uid: c.uid } : {}),
    first: iso(c.first),
    last: iso(c.last),
    count: c.count,
    errors: c.errors,
    calls: [...c.calls.values()].map(persistedCall),
    daily: c.daily.map((b) => [iso(b.at * DAY_MS).slice(0, 10), b.calls, b.faults]),
    hourly: c.hourly.map((b) => [iso(b.at * HOUR_MS).slice(0, 13), b.calls, b.faults]),
  };
}

function persistedCall(e: CallEntry): PersistedCall {
  return {
    protocol: e.protocol,
    service: e.service,
    function: e.fn,
    ...(e.model !== undefined ? { model: e.model } : {}),
    method: e.method,
    ...(e.json2Method !== undefined ? { json2Method: e.json2Method } : {}),
    count: e.count,
    errors: e.errors,
    first: iso(e.first),
    last: iso(e.last),
    ...(e.lastFault !== undefined ? { lastFault: e.lastFault } : {}),
    ...(e.upstream !== undefined ? { upstream: e.upstream } : {}),
    ...(e.shadow !== undefined
      ? { shadow: [e.shadow.match, e.shadow.mismatch, e.shadow.error, e.shadow.lastDiff ?? null] }
      : {}),
    ...(e.example !== undefined ? { example: e.example } : {}),
    ...(e.truncated ? { truncated: true } : {}),
  };
}

// -------------------------------------------------------------------------------------------
// Reading back

/**
 * The clients and logins of a saved state, within `limits`; undefined when `state` is not a saved
 * inventory at all.
 */
export function readState(
  state: unknown,
  limits: InventoryLimits,
  now: number = Date.now(),
): RestoredState | undefined {
  if (!isRecord(state) || state['format'] !== STATE_FORMAT || !Array.isArray(state['clients']))
    return undefined;
  const clients: Array<[string, ClientEntry]> = [];
  for (const raw of state['clients'] as unknown[]) {
    const c = readClient(raw, limits, now);
    if (c) clients.push(c);
  }
  clients.sort((a, b) => a[1].last - b[1].last);
  return { clients, logins: readLogins(state['logins']) };
}

function readLogins(raw: unknown): LearntLogin[] {
  const logins: LearntLogin[] = [];
  if (Array.isArray(raw))
    for (const l of raw as unknown[])
      if (
        Array.isArray(l) &&
        typeof l[0] === 'string' &&
        typeof l[1] === 'number' &&
        Number.isSafeInteger(l[1]) &&
        typeof l[2] === 'string'
      )
        logins.push([clip(l[0], 128), l[1], clip(l[2], 128)]);
  return logins;
}

function readClient(raw: unknown, limits: InventoryLimits, now: number): [string, ClientEntry] | undefined {
  if (!isRecord(raw)) return undefined;
  const userAgent = str(raw['userAgent'], 256);
  const address = str(raw['address'], 64);
  // A time in the future (a file edited by hand, or saved before the clock went back) is now.
  const first = notAfter(time(raw['first']), now);
  const last = notAfter(time(raw['last']), now);
  const n = count(raw['count']);
  const errors = count(raw['errors']);
  if (
    userAgent === undefined ||
    address === undefined ||
    first === undefined ||
    last === undefined ||
    n === undefined ||
    errors === undefined ||
    !Array.isArray(raw['calls'])
  )
    return undefined;
  const db = str(raw['db'], 128);
  const login = str(raw['login'], 128);
  const uidRaw = raw['uid'];
  const uid = typeof uidRaw === 'number' && Number.isSafeInteger(uidRaw) ? uidRaw : undefined;
  const key = clientKey(userAgent, address, db, login, uid);
  const client = newClient(key, userAgent, address, db, login, uid, first, last);
  client.count = n;
  client.errors = errors;
  for (const [k, e] of readCalls(raw['calls'] as unknown[], limits, now)) client.calls.set(k, e);
  client.daily = readBuckets(raw['daily'], DAY_MS, 10, limits.retentionDays, now);
  client.hourly = readBuckets(raw['hourly'], HOUR_MS, 13, 24, now);
  return [key, client];
}

/**
 * Saved counts per day or hour (`[time, calls, faults]`, the time as the first `chars` characters
 * of an ISO date): the well-formed ones, one per unit, the newest `keep`, oldest first.
 */
function readBuckets(raw: unknown, unitMs: number, chars: number, keep: number, now: number): Bucket[] {
  if (!Array.isArray(raw)) return [];
  const current = Math.floor(now / unitMs);
  const byUnit = new Map<number, Bucket>();
  for (const b of raw as unknown[]) {
    if (!Array.isArray(b) || typeof b[0] !== 'string' || b[0].length !== chars) continue;
    const t = Date.parse(chars === 10 ? `${b[0]}T00:00:00Z` : `${b[0]}:00:00Z`);
    const calls = count(b[1]);
    const faults = count(b[2]);
    if (!Number.isFinite(t) || calls === undefined || faults === undefined || faults > calls) continue;
    const at = Math.floor(t / unitMs);
    if (at > current || at <= current - keep) continue;
    byUnit.set(at, { at, calls, faults });
  }
  return [...byUnit.values()].sort((a, b) => a.at - b.at);
}

/** The `maxCalls` most recently seen well-formed calls of `raw`, keyed, least recently seen first. */
function readCalls(raw: unknown[], limits: InventoryLimits, now: number): Array<[string, CallEntry]> {
  const calls: Array<[string, CallEntry]> = [];
  for (const rc of raw) {
    const e = readCall(rc, limits, now);
    if (e) calls.push([callKey(e.protocol, e.service, e.model, e.method), e]);
  }
  calls.sort((a, b) => a[1].last - b[1].last);
  return calls.slice(Math.max(0, calls.length - limits.maxCalls));
}

function readCall(raw: unknown, limits: InventoryLimits, now: number): CallEntry | undefined {
  if (!isRecord(raw)) return undefined;
  const protocol = str(raw['protocol'], 16);
  const service = str(raw['service'], 64);
  const fn = str(raw['function'], 64);
  const method = str(raw['method'], 128);
  const first = notAfter(time(raw['first']), now);
  const last = notAfter(time(raw['last']), now);
  const n = count(raw['count']);
  const errors = count(raw['errors']);
  if (
    protocol === undefined ||
    service === undefined ||
    fn === undefined ||
    method === undefined ||
    first === undefined ||
    last === undefined ||
    n === undefined ||
    errors === undefined
  )
    return undefined;
  return {
    protocol,
    service,
    fn,
    model: str(raw['model'], 128),
    method,
    json2Method: str(raw['json2Method'], 128),
    count: n,
    errors,
    first,
    last,
    movedAt: last,
    lastFault: str(raw['lastFault'], 128),
    upstream: str(raw['upstream'], 32),
    shadow: readShadow(raw['shadow']),
    example: readExample(raw['example'], limits),
    exampleAt: 0,
    truncated: raw['truncated'] === true,
  };
}

function readExample(raw: unknown, limits: InventoryLimits): string | undefined {
  const example = str(raw, limits.maxExampleBytes * 2);
  // A body that is not JSON (edited by hand, or from another version) is dropped, not shown.
  return example !== undefined && isJsonObjectText(example) ? example : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, n: number): string | undefined {
  return typeof v === 'string' ? clip(v, n) : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function notAfter(t: number | undefined, now: number): number | undefined {
  return t === undefined ? undefined : Math.min(t, now);
}

function time(v: unknown): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function isJsonObjectText(s: string): boolean {
  try {
    return isRecord(JSON.parse(s));
  } catch {
    return false;
  }
}

/** `[match, mismatch, error, lastDiff]`, each checked; anything else: none. */
function readShadow(raw: unknown): CallEntry['shadow'] {
  if (!Array.isArray(raw) || raw.length !== 4) return undefined;
  const [match, mismatch, error, lastDiff] = raw as unknown[];
  const count = (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = count(match);
  const mm = count(mismatch);
  const e = count(error);
  if (m === undefined || mm === undefined || e === undefined) return undefined;
  return {
    match: m,
    mismatch: mm,
    error: e,
    lastDiff: typeof lastDiff === 'string' ? lastDiff.slice(0, 512) : undefined,
  };
}
