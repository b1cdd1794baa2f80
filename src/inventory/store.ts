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
 *
 * What is kept per client and call is in src/inventory/entries.ts; `snapshot` answers it as
 * src/inventory/views.ts shows it, `toState` / `restore` write and read it as
 * src/inventory/saved-state.ts saves it.
 */
import type { Value } from '../values.ts';
import {
  callKey,
  clientKey,
  clip,
  clipOpt,
  countIn,
  DAY_MS,
  DEFAULT_LIMITS,
  HOUR_MS,
  mergeClient,
  newClient,
  type CallEntry,
  type ClientEntry,
  type InventoryLimits,
} from './entries.ts';
import { exampleOf } from './example.ts';
import { readState, stateOf, type LearntLogin, type PersistedState } from './saved-state.ts';
import type { SnippetOptions } from './snippets.ts';
import {
  clientJson,
  inventoryJson,
  type InventoryJson,
  type OneClient,
  type StoreContents,
} from './views.ts';

import type { Json2Note } from '../services/service.ts';
export type { Json2Note };

/** What the call context knows about a call (a subset of `CallNotes`). */
export interface ObservedNotes {
  db?: string | undefined;
  uid?: number | undefined;
  login?: string | undefined;
  model?: string | undefined;
  method?: string | undefined;
  /** The upstream that served it, when there are several. */
  upstream?: string | undefined;
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

const MAX_LOGINS = 10_000;
/** The example body of a kind of call is taken again at most this often. */
const EXAMPLE_REFRESH_MS = 1000;
/** A client or call seen again within this time is not moved to the end of its map again. */
const REORDER_MS = 1000;

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
  /** Forgotten after `retentionDays` without a call. */
  private expiredClients = 0;
  private expiredCalls = 0;
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
    const isLogin = o.service === 'common' && (o.function === 'login' || o.function === 'authenticate');
    const client = this.clientOf(o, isLogin, now);
    client.last = now;
    client.count++;
    const fault = o.fault !== undefined;
    if (fault) client.errors++;
    countIn(client.daily, Math.floor(now / DAY_MS), fault, this.limits.retentionDays);
    countIn(client.hourly, Math.floor(now / HOUR_MS), fault, 24);

    const isObject = o.service === 'object';
    const model = isObject ? modelOf(o) : undefined;
    const method = isObject ? methodOf(o) : o.function;
    const call = this.callOf(client, o, model, method, now);
    countCall(call, o, now);
    // The example body: the last call's, walked at most once a second per kind of call (a busy
    // integration repeating a call pays for one walk a second, not one per call).
    if (o.json2 && (call.example === undefined || now - call.exampleAt >= EXAMPLE_REFRESH_MS))
      takeExample(call, o.json2, method, now, this.limits.maxExampleBytes);
    this.changes++;
  }

  /** The inventory as `/_bridge/inventory` answers it. */
  snapshot(opts: SnippetOptions): InventoryJson {
    return inventoryJson(this.contents(), opts);
  }

  /** One client as `/_bridge/inventory` shows it, by its `id` (its report). */
  client(id: string, opts: SnippetOptions): OneClient {
    return clientJson(this.contents(), opts, id);
  }

  /** What the views read, once what has expired is forgotten. */
  private contents(): StoreContents {
    this.expire();
    return {
      now: this.now(),
      enabled: this.enabled,
      limits: this.limits,
      evicted: { clients: this.evictedClients, calls: this.evictedCalls },
      expired: { clients: this.expiredClients, calls: this.expiredCalls },
      clients: this.clients.values(),
    };
  }

  /** Everything, for the file (src/inventory/persist.ts). */
  toState(): PersistedState {
    this.expire();
    return stateOf(this.clients.values(), this.learntLogins(), this.now());
  }

  /**
   * Adds a saved state (at start-up, before any call). Whatever does not have the expected shape
   * is skipped; answers how many clients were taken.
   */
  restore(state: unknown): number {
    const saved = readState(state, this.limits, this.now());
    if (!saved) return 0;
    this.lastClient = undefined;
    for (const [key, c] of saved.clients) {
      if (this.clients.has(key)) this.drop(key);
      this.admit(key, c);
    }
    while (this.clients.size > this.limits.maxClients) this.evictClient();
    for (const [db, uid, login] of saved.logins) this.learn(db, uid, login);
    this.changes++;
    return saved.clients.length;
  }

  /**
   * Adds another replica's saved state to this one (src/shared/inventory-share.ts): a client
   * both know has its counts summed (entries.ts `mergeClient`), one only `state` knows is taken.
   * Then at most `maxClients` are kept, the least recently seen dropped. Answers how many clients
   * `state` held.
   */
  merge(state: unknown): number {
    const saved = readState(state, this.limits, this.now());
    if (!saved) return 0;
    this.lastClient = undefined;
    for (const [key, c] of saved.clients) {
      const mine = this.clients.get(key);
      if (mine) mergeClient(mine, c, this.limits);
      else this.clients.set(key, c);
    }
    // Within both bounds, the most recently seen kept (whichever replica saw them); then least
    // recently seen first again. What is left out is not counted as evicted: each replica keeps it.
    const newest = [...this.clients.values()].sort((a, b) => b.last - a.last);
    this.clients.clear();
    this.perAddress.clear();
    const kept: ClientEntry[] = [];
    for (const c of newest) {
      const n = this.perAddress.get(c.address) ?? 0;
      if (kept.length >= this.limits.maxClients || n >= this.limits.maxClientsPerAddress) continue;
      this.perAddress.set(c.address, n + 1);
      kept.push(c);
    }
    for (const c of kept.reverse()) this.clients.set(c.key, c);
    for (const [db, uid, login] of saved.logins) this.learn(db, uid, login);
    this.changes++;
    return saved.clients.length;
  }

  /**
   * Forgets every client and call (another replica took over what this one published: see
   * src/shared/inventory-share.ts); the logins learnt are kept.
   */
  clear(): void {
    this.clients.clear();
    this.perAddress.clear();
    this.lastClient = undefined;
    this.changes++;
  }

  /**
   * Counts a shadow comparison (src/server/shadow.ts) on the kind of call `o` is, when the
   * inventory still holds it (it was recorded when the call was answered); a mismatch keeps its
   * differences (at most 512 characters).
   */
  noteShadow(o: Observation, outcome: 'match' | 'mismatch' | 'error', diff?: string): void {
    if (this.limits.maxClients <= 0) return;
    const db = clipOpt(o.notes.db, 128);
    const uid = o.notes.uid;
    const login =
      o.notes.login ??
      (db !== undefined && uid !== undefined ? this.logins.get(loginKey(db, uid)) : undefined);
    const key = clientKey(
      clip(o.userAgent ?? '', 256),
      clip(normalizeAddress(o.address), 64),
      db,
      login,
      uid,
    );
    const model = modelOf(o);
    const call = this.clients.get(key)?.calls.get(callKey(o.protocol, o.service, model, methodOf(o)));
    if (!call) return;
    const s = (call.shadow ??= { match: 0, mismatch: 0, error: 0, lastDiff: undefined });
    s[outcome]++;
    if (outcome === 'mismatch' && diff !== undefined) s.lastDiff = clip(diff, 512);
    this.changes++;
  }

  /** The client of `o`: the last call's when it is the same (no key to build), else looked up. */
  private clientOf(o: Observation, isLogin: boolean, now: number): ClientEntry {
    const last = this.lastClient;
    const client =
      last !== undefined && !isLogin && this.isLastClient(last, o)
        ? last
        : this.lookUpClient(o, isLogin, now);
    // Most recently seen last: eviction and expiry take the first. Moved at most once a second
    // (moving an entry costs more than the rest of recording a call), whichever path found it.
    if (now - client.movedAt >= REORDER_MS) {
      this.clients.delete(client.key);
      this.clients.set(client.key, client);
      client.movedAt = now;
    }
    this.lastClient = client;
    return client;
  }

  /**
   * Whether `o` comes from `c`, the client of the last call. Exact: a client whose login is not
   * known is taken only while no login was learnt since it was last looked up.
   */
  private isLastClient(c: ClientEntry, o: Observation): boolean {
    const n = o.notes;
    return (
      c.rawUserAgent === o.userAgent &&
      c.rawAddress === o.address &&
      c.db === n.db &&
      c.uid === n.uid &&
      (n.login === undefined || n.login === c.login) &&
      (c.login !== undefined || c.loginsSeen === this.loginsLearnt)
    );
  }

  private lookUpClient(o: Observation, isLogin: boolean, now: number): ClientEntry {
    const db = clipOpt(o.notes.db, 128);
    const uid = o.notes.uid;
    const login = this.loginOf(o, isLogin, db);
    const userAgent = clip(o.userAgent ?? '', 256);
    const address = clip(normalizeAddress(o.address), 64);
    const key = clientKey(userAgent, address, db, login, uid);
    let client = this.clients.get(key);
    if (!client) {
      client = newClient(key, userAgent, address, db, login, uid, now, now);
      this.admit(key, client);
      while (this.clients.size > this.limits.maxClients) this.evictClient();
    }
    client.rawUserAgent = o.userAgent;
    client.rawAddress = o.address;
    client.loginsSeen = this.loginsLearnt;
    if (uid !== undefined) client.uid = uid;
    return client;
  }

  /** The login of `o`'s client: given, learnt now (a login call), or learnt before. */
  private loginOf(o: Observation, isLogin: boolean, db: string | undefined): string | undefined {
    const uid = o.notes.uid;
    let login = o.notes.login;
    if (isLogin) {
      // A login is named once it authenticated (the uid is known): a failed one is counted, not
      // named, since its "login" may be a password sent in the wrong place.
      const given = o.params?.[1];
      if (typeof given === 'string' && uid !== undefined) login = clip(given, 128);
      if (login !== undefined && db !== undefined && uid !== undefined) this.learn(db, uid, login);
    } else if (login === undefined && db !== undefined && uid !== undefined) {
      login = this.logins.get(loginKey(db, uid));
    }
    return login;
  }

  /** Keeps `client` as the most recently seen, within its address's share. */
  private admit(key: string, client: ClientEntry): void {
    const address = client.address;
    if ((this.perAddress.get(address) ?? 0) >= this.limits.maxClientsPerAddress) this.evictClientOf(address);
    this.clients.set(key, client);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  /** The call of `o`: the client's last when it is the same kind, else looked up. */
  private callOf(
    client: ClientEntry,
    o: Observation,
    model: string | undefined,
    method: string,
    now: number,
  ): CallEntry {
    const last = client.lastCall;
    const call =
      last !== undefined && isSameCall(last, o, model, method)
        ? last
        : this.lookUpCall(client, o, model, method, now);
    if (now - call.movedAt >= REORDER_MS) {
      const key = callKey(o.protocol, o.service, model, method);
      client.calls.delete(key);
      client.calls.set(key, call);
      call.movedAt = now;
    }
    client.lastCall = call;
    return call;
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
      call = newCall(o, model, method, now);
      client.calls.set(key, call);
      while (client.calls.size > this.limits.maxCalls) this.evictCall(client);
    }
    return call;
  }

  private learn(db: string, uid: number, login: string): void {
    const k = loginKey(db, uid);
    if (this.logins.get(k) === login) return;
    this.logins.delete(k);
    this.logins.set(k, login);
    this.loginsLearnt++;
    if (this.logins.size > MAX_LOGINS) {
      const oldest = this.logins.keys().next().value;
      if (oldest !== undefined) this.logins.delete(oldest);
    }
  }

  /** The logins learnt, least recently learnt first. */
  private learntLogins(): LearntLogin[] {
    return [...this.logins].map(([k, login]) => {
      const cut = k.lastIndexOf('\0');
      return [k.slice(0, cut), Number(k.slice(cut + 1)), login];
    });
  }

  /**
   * Forgets the clients and kinds of call not seen for `retentionDays` (at each snapshot and
   * save: the least recently seen come first in their maps, so the walk stops at the first one
   * still kept).
   */
  private expire(): void {
    const before = this.now() - this.limits.retentionDays * DAY_MS;
    for (const [key, c] of this.clients) {
      if (c.last >= before) break;
      this.drop(key);
      this.expiredClients++;
      this.changes++;
    }
    for (const c of this.clients.values())
      for (const [key, call] of c.calls) {
        if (call.last >= before) break;
        c.calls.delete(key);
        if (c.lastCall === call) c.lastCall = undefined;
        this.expiredCalls++;
        this.changes++;
      }
  }

  private evictClient(): void {
    const oldest = this.clients.keys().next().value;
    if (oldest !== undefined && this.drop(oldest)) this.evictedClients++;
  }

  /** Evicts the least recently seen client of `address`. */
  private evictClientOf(address: string): void {
    for (const [key, c] of this.clients)
      if (c.address === address) {
        if (this.drop(key)) this.evictedClients++;
        return;
      }
  }

  /** Forgets a client (whether evicted, expired or replaced); false when it was not kept. */
  private drop(key: string): boolean {
    const c = this.clients.get(key);
    if (!c) return false;
    this.clients.delete(key);
    const n = (this.perAddress.get(c.address) ?? 1) - 1;
    if (n > 0) this.perAddress.set(c.address, n);
    else this.perAddress.delete(c.address);
    if (this.lastClient === c) this.lastClient = undefined;
    return true;
  }

  private evictCall(client: ClientEntry): void {
    const oldest = client.calls.keys().next().value;
    if (oldest === undefined) return;
    client.calls.delete(oldest);
    this.evictedCalls++;
  }
}

/** The model of an object call: as the call context noted it, else the positional argument. */
function modelOf(o: Observation): string | undefined {
  const p = o.params;
  return o.notes.model ?? (typeof p?.[3] === 'string' ? clip(p[3], 128) : undefined);
}

/** The model's method of an object call (else its legacy function). */
function methodOf(o: Observation): string {
  const p = o.params;
  const m = o.notes.method ?? (typeof p?.[4] === 'string' ? p[4] : undefined);
  return m !== undefined ? clip(m, 128) : o.function;
}

function isSameCall(call: CallEntry, o: Observation, model: string | undefined, method: string): boolean {
  return (
    call.method === method &&
    call.model === model &&
    call.protocol === o.protocol &&
    call.service === o.service
  );
}

function newCall(o: Observation, model: string | undefined, method: string, now: number): CallEntry {
  return {
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
    movedAt: now,
    lastFault: undefined,
    upstream: undefined,
    shadow: undefined,
    example: undefined,
    exampleAt: 0,
    truncated: false,
  };
}

function countCall(call: CallEntry, o: Observation, now: number): void {
  if (o.function !== call.fn) call.fn = clip(o.function, 64);
  call.count++;
  call.last = now;
  const upstream = o.notes.upstream;
  if (upstream !== undefined && upstream !== call.upstream) call.upstream = clip(upstream, 32);
  if (o.fault !== undefined) {
    call.errors++;
    call.lastFault = clip(o.fault, 128);
  }
}

function takeExample(call: CallEntry, json2: Json2Note, method: string, now: number, maxBytes: number): void {
  const ex = exampleOf(json2.body, maxBytes);
  call.example = ex.json;
  call.truncated = ex.truncated;
  call.exampleAt = now;
  call.json2Method = json2.method === method ? undefined : json2.method;
}

function loginKey(db: string, uid: number): string {
  return `${db}\0${uid}`;
}

function normalizeAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
