/**
 * The migration inventory: which clients (User-Agent, address, db, login) made which legacy calls
 * (service, model, method, protocol), how often, when, with how many faults, and the JSON-2
 * request that replaces each one, with the named arguments the bridge computed for the last call.
 *
 * Bounded: at most `maxClients` clients and `maxCalls` kinds of call per client, the least
 * recently seen evicted first; the example body of a call is at most `maxExampleBytes` of JSON
 * (src/inventory/example.ts), with secret-looking members redacted. The legacy password and the API
 * key are never part of what is kept: only the JSON-2 body (which has neither), the User-Agent,
 * the address, the db, the login and the uid are.
 *
 * `record` is on every call's path (from `logCall`): a few map operations, and for object calls
 * one bounded walk of the named arguments. No I/O.
 */
import type { Struct, Value } from '../values.ts';
import { exampleOf } from './example.ts';
import { replacementFor, type Replacement, type SnippetOptions } from './snippets.ts';

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
}

export const DEFAULT_LIMITS: InventoryLimits = {
  maxClients: 100,
  maxCalls: 100,
  maxClientsPerAddress: 10,
  maxExampleBytes: 2048,
};

/** The JSON-2 call the bridge computed for an object call (src/services/object.ts). */
export interface Json2Note {
  model: string;
  method: string;
  body: Struct;
}

/** What the call context knows about a call (a subset of `CallNotes`). */
export interface ObservedNotes {
  db?: string | undefined;
  uid?: number | undefined;
  login?: string | undefined;
  model?: string | undefined;
  method?: string | undefined;
}

/** One legacy call, as `logCall` sees it once it is answered. */
export interface Observation {
  protocol: string;
  service: string;
  /** The legacy function: `execute_kw`, `authenticate`, `list`, … */
  function: string;
  params: readonly Value[] | undefined;
  notes: ObservedNotes;
  json2: Json2Note | undefined;
  /** The fault's Python name, when the call faulted. */
  fault: string | undefined;
  userAgent: string | undefined;
  address: string | undefined;
}

// -------------------------------------------------------------------------------------------
// The JSON answered by /_bridge/inventory

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
  replacement: Replacement;
}

export interface InventoryClient {
  userAgent: string;
  address: string;
  db: string | null;
  login: string | null;
  uid: number | null;
  firstSeen: string;
  lastSeen: string;
  count: number;
  errors: number;
  /** Sorted by service, model, method, protocol. */
  calls: InventoryCall[];
}

export interface InventoryJson {
  generatedAt: string;
  enabled: boolean;
  limits: InventoryLimits;
  /** Entries dropped to stay within the limits since the bridge started. */
  evicted: { clients: number; calls: number };
  /** Most recently seen first. */
  clients: InventoryClient[];
}

// -------------------------------------------------------------------------------------------
// The persisted state (src/inventory/persist.ts)

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
}

export interface PersistedState {
  format: typeof STATE_FORMAT;
  version: 1;
  savedAt: string;
  clients: PersistedClient[];
  /** [db, uid, login] learnt from common.login / authenticate. */
  logins: Array<[string, number, string]>;
}

// -------------------------------------------------------------------------------------------

interface CallEntry {
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
  lastFault: string | undefined;
  example: string | undefined;
  /** When the example was taken. */
  exampleAt: number;
  truncated: boolean;
}

interface ClientEntry {
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
  count: number;
  errors: number;
  calls: Map<string, CallEntry>;
  lastCall: CallEntry | undefined;
}

const MAX_LOGINS = 10_000;
/** The example body of a kind of call is taken again at most this often. */
const EXAMPLE_REFRESH_MS = 1000;
/** A client or call seen again within this time is not moved to the end of its map again. */
const REORDER_MS = 1000;
const clip = (s: string, n: number): string => (s.length > n ? s.slice(0, n) : s);
const clipOpt = (s: string | undefined, n: number): string | undefined =>
  s === undefined ? undefined : clip(s, n);

export class Inventory {
  readonly limits: InventoryLimits;
  private readonly now: () => number;
  private readonly clients = new Map<string, ClientEntry>();
  /** Clients kept per address (see `maxClientsPerAddress`). */
  private readonly perAddress = new Map<string, number>();
  /** `db \0 uid` → login, learnt from successful common.login / authenticate. */
  private readonly logins = new Map<string, string>();
  /** The client of the last call (the most recently seen: last in `clients`). */
  private lastClient: ClientEntry | undefined;
  /** Bumped whenever a login is learnt. */
  private loginsLearnt = 0;
  private evictedClients = 0;
  private evictedCalls = 0;
  /** Bumped on every change: the persister saves only when it moved. */
  changes = 0;

  constructor(limits: Partial<InventoryLimits> = {}, now: () => number = Date.now) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.now = now;
  }

  get enabled(): boolean {
    return this.limits.maxClients > 0;
  }

  record(o: Observation): void {
    if (this.limits.maxClients <= 0) return;
    const now = this.now();
    const n = o.notes;
    const uid = n.uid;
    const isLogin = o.service === 'common' && (o.function === 'login' || o.function === 'authenticate');

    // Fast path: the same client as the last call (no key to build). Exact: a client whose login
    // is not known is taken only while no login was learnt since it was last looked up.
    let client = this.lastClient;
    if (
      !client ||
      isLogin ||
      client.rawUserAgent !== o.userAgent ||
      client.rawAddress !== o.address ||
      client.db !== n.db ||
      client.uid !== uid ||
      (n.login !== undefined && n.login !== client.login) ||
      (client.login === undefined && client.loginsSeen !== this.loginsLearnt)
    )
      client = this.lookUpClient(o, isLogin, now);
    this.lastClient = client;
    client.last = now;
    client.count++;
    if (o.fault !== undefined) client.errors++;

    let model: string | undefined;
    let method = o.function;
    if (o.service === 'object') {
      const p = o.params;
      model = n.model ?? (typeof p?.[3] === 'string' ? clip(p[3], 128) : undefined);
      const m = n.method ?? (typeof p?.[4] === 'string' ? p[4] : undefined);
      if (m !== undefined) method = clip(m, 128);
    }
    let call = client.lastCall;
    if (
      !call ||
      call.method !== method ||
      call.model !== model ||
      call.protocol !== o.protocol ||
      call.service !== o.service
    )
      call = this.lookUpCall(client, o, model, method, now);
    client.lastCall = call;
    if (o.function !== call.fn) call.fn = clip(o.function, 64);
    call.count++;
    call.last = now;
    if (o.fault !== undefined) {
      call.errors++;
      call.lastFault = clip(o.fault, 128);
    }
    // The example body: the last call's, walked at most once a second per kind of call (a busy
    // integration repeating a call pays for one walk a second, not one per call).
    if (o.json2 && (call.example === undefined || now - call.exampleAt >= EXAMPLE_REFRESH_MS)) {
      const ex = exampleOf(o.json2.body, this.limits.maxExampleBytes);
      call.example = ex.json;
      call.truncated = ex.truncated;
      call.exampleAt = now;
      call.json2Method = o.json2.method === method ? undefined : o.json2.method;
    }
    this.changes++;
  }

  private lookUpClient(o: Observation, isLogin: boolean, now: number): ClientEntry {
    const n = o.notes;
    const db = clipOpt(n.db, 128);
    const uid = n.uid;
    let login = n.login;
    if (isLogin) {
      // A login is named once it authenticated (the uid is known): a failed one is counted, not
      // named, since its "login" may be a password sent in the wrong place.
      const given = o.params?.[1];
      if (typeof given === 'string' && uid !== undefined) login = clip(given, 128);
      if (login !== undefined && db !== undefined && uid !== undefined) this.learn(db, uid, login);
    } else if (login === undefined && db !== undefined && uid !== undefined) {
      login = this.logins.get(`${db}\0${uid}`);
    }
    const userAgent = clip(o.userAgent ?? '', 256);
    const address = clip(normalizeAddress(o.address), 64);
    const key = clientKey(userAgent, address, db, login, uid);
    let client = this.clients.get(key);
    if (!client) {
      client = newClient(key, userAgent, address, db, login, uid, now, now);
      if ((this.perAddress.get(address) ?? 0) >= this.limits.maxClientsPerAddress)
        this.evictClientOf(address);
      this.clients.set(key, client);
      this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
      while (this.clients.size > this.limits.maxClients) this.evictClient();
    } else if (now - client.last >= REORDER_MS) {
      // Most recently seen last: eviction takes the first (to within a second: moving an entry
      // costs more than the rest of recording a call).
      this.clients.delete(key);
      this.clients.set(key, client);
    }
    client.rawUserAgent = o.userAgent;
    client.rawAddress = o.address;
    client.loginsSeen = this.loginsLearnt;
    if (uid !== undefined) client.uid = uid;
    return client;
  }

  private lookUpCall(
    client: ClientEntry,
    o: Observation,
    model: string | undefined,
    method: string,
    now: number,
  ): CallEntry {
    const key = callKey(o.protocol, o.service, model, method);
    let call = client.calls.get(key);
    if (!call) {
      call = {
        protocol: clip(o.protocol, 16),
        service: clip(o.service, 64),
        fn: clip(o.function, 64),
        model,
        method,
        json2Method: undefined,
        count: 0,
        errors: 0,
        first: now,
        last: now,
        lastFault: undefined,
        example: undefined,
        exampleAt: 0,
        truncated: false,
      };
      client.calls.set(key, call);
      while (client.calls.size > this.limits.maxCalls) this.evictCall(client);
    } else if (now - call.last >= REORDER_MS) {
      client.calls.delete(key);
      client.calls.set(key, call);
    }
    return call;
  }

  private learn(db: string, uid: number, login: string): void {
    const k = `${db}\0${uid}`;
    if (this.logins.get(k) === login) return;
    this.logins.delete(k);
    this.logins.set(k, login);
    this.loginsLearnt++;
    if (this.logins.size > MAX_LOGINS) {
      const oldest = this.logins.keys().next().value;
      if (oldest !== undefined) this.logins.delete(oldest);
    }
  }

  private evictClient(): void {
    const oldest = this.clients.keys().next().value;
    if (oldest !== undefined) this.drop(oldest);
  }

  /** Evicts the least recently seen client of `address`. */
  private evictClientOf(address: string): void {
    for (const [key, c] of this.clients)
      if (c.address === address) {
        this.drop(key);
        return;
      }
  }

  private drop(key: string): void {
    const c = this.clients.get(key);
    if (!c) return;
    this.clients.delete(key);
    const n = (this.perAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
    if (this.lastClient === c) this.lastClient = undefined;
    this.evictedClients++;
  }

  private evictCall(client: ClientEntry): void {
    const oldest = client.calls.keys().next().value;
    if (oldest === undefined) return;
    client.calls.delete(oldest);
    this.evictedCalls++;
  }

  /** The inventory as `/_bridge/inventory` answers it. */
  snapshot(opts: SnippetOptions): InventoryJson {
    // Most recently touched first, then by last seen (a restored file may hold any order).
    const clients = [...this.clients.values()].reverse().sort((a, b) => b.last - a.last);
    return {
      generatedAt: new Date(this.now()).toISOString(),
      enabled: this.enabled,
      limits: { ...this.limits },
      evicted: { clients: this.evictedClients, calls: this.evictedCalls },
      clients: clients.map((c) => ({
        userAgent: c.userAgent,
        address: c.address,
        db: c.db ?? null,
        login: c.login ?? null,
        uid: c.uid ?? null,
        firstSeen: iso(c.first),
        lastSeen: iso(c.last),
        count: c.count,
        errors: c.errors,
        calls: [...c.calls.values()].sort(byName).map((e) => ({
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
        })),
      })),
    };
  }

  /** Everything, for the file (src/inventory/persist.ts). */
  toState(): PersistedState {
    return {
      format: STATE_FORMAT,
      version: 1,
      savedAt: new Date(this.now()).toISOString(),
      clients: [...this.clients.values()].map((c) => ({
        userAgent: c.userAgent,
        address: c.address,
        ...(c.db !== undefined ? { db: c.db } : {}),
        ...(c.login !== undefined ? { login: c.login } : {}),
        ...(c.uid !== undefined ? { uid: c.uid } : {}),
        first: iso(c.first),
        last: iso(c.last),
        count: c.count,
        errors: c.errors,
        calls: [...c.calls.values()].map((e) => ({
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
          ...(e.example !== undefined ? { example: e.example } : {}),
          ...(e.truncated ? { truncated: true } : {}),
        })),
      })),
      logins: [...this.logins].map(([k, login]) => {
        const cut = k.lastIndexOf('\0');
        return [k.slice(0, cut), Number(k.slice(cut + 1)), login];
      }),
    };
  }

  /**
   * Adds a saved state (at start-up, before any call). Whatever does not have the expected shape
   * is skipped; answers how many clients were taken.
   */
  restore(state: unknown): number {
    if (!isRecord(state) || state['format'] !== STATE_FORMAT || !Array.isArray(state['clients'])) return 0;
    const loaded: Array<[string, ClientEntry]> = [];
    for (const raw of state['clients'] as unknown[]) {
      const c = readClient(raw, this.limits);
      if (c) loaded.push(c);
    }
    loaded.sort((a, b) => a[1].last - b[1].last);
    this.lastClient = undefined;
    for (const [key, c] of loaded) {
      if (this.clients.has(key)) this.drop(key);
      if ((this.perAddress.get(c.address) ?? 0) >= this.limits.maxClientsPerAddress)
        this.evictClientOf(c.address);
      this.clients.set(key, c);
      this.perAddress.set(c.address, (this.perAddress.get(c.address) ?? 0) + 1);
    }
    while (this.clients.size > this.limits.maxClients) this.evictClient();
    const logins = state['logins'];
    if (Array.isArray(logins))
      for (const l of logins as unknown[])
        if (
          Array.isArray(l) &&
          typeof l[0] === 'string' &&
          typeof l[1] === 'number' &&
          Number.isSafeInteger(l[1]) &&
          typeof l[2] === 'string'
        )
          this.learn(clip(l[0], 128), l[1], clip(l[2], 128));
    this.changes++;
    return loaded.length;
  }
}

function normalizeAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown, n: number): string | undefined {
  return typeof v === 'string' ? clip(v, n) : undefined;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

function time(v: unknown): number | undefined {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function readClient(raw: unknown, limits: InventoryLimits): [string, ClientEntry] | undefined {
  if (!isRecord(raw)) return undefined;
  const userAgent = str(raw['userAgent'], 256);
  const address = str(raw['address'], 64);
  const first = time(raw['first']);
  const last = time(raw['last']);
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
  const calls: Array<[string, CallEntry]> = [];
  for (const rc of raw['calls'] as unknown[]) {
    const e = readCall(rc, limits);
    if (e) calls.push([callKey(e.protocol, e.service, e.model, e.method), e]);
  }
  calls.sort((a, b) => a[1].last - b[1].last);
  const key = clientKey(userAgent, address, db, login, uid);
  const client = newClient(key, userAgent, address, db, login, uid, first, last);
  client.count = n;
  client.errors = errors;
  for (const [k, e] of calls.slice(Math.max(0, calls.length - limits.maxCalls))) client.calls.set(k, e);
  return [key, client];
}

function clientKey(
  userAgent: string,
  address: string,
  db: string | undefined,
  login: string | undefined,
  uid: number | undefined,
): string {
  return `${userAgent}\0${address}\0${db ?? ''}\0${login ?? `#${uid ?? ''}`}`;
}

function callKey(protocol: string, service: string, model: string | undefined, method: string): string {
  return `${protocol}\0${service}\0${model ?? ''}\0${method}`;
}

function newClient(
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
    count: 0,
    errors: 0,
    calls: new Map(),
    lastCall: undefined,
  };
}

function readCall(raw: unknown, limits: InventoryLimits): CallEntry | undefined {
  if (!isRecord(raw)) return undefined;
  const protocol = str(raw['protocol'], 16);
  const service = str(raw['service'], 64);
  const fn = str(raw['function'], 64);
  const method = str(raw['method'], 128);
  const first = time(raw['first']);
  const last = time(raw['last']);
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
  let example = str(raw['example'], limits.maxExampleBytes * 2);
  // A body that is not JSON (edited by hand, or from another version) is dropped, not shown.
  if (example !== undefined && !isJsonObjectText(example)) example = undefined;
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
    lastFault: str(raw['lastFault'], 128),
    example,
    exampleAt: 0,
    truncated: raw['truncated'] === true,
  };
}

function isJsonObjectText(s: string): boolean {
  try {
    return isRecord(JSON.parse(s));
  } catch {
    return false;
  }
}
