/**
 * The inventory as `/_bridge/inventory` answers it (and as the `/_bridge/` page, src/inventory/page.ts,
 * shows it): every client kept, most recently seen first, each with its calls sorted by name and,
 * for each call, the JSON-2 request that replaces it (src/inventory/snippets.ts), built from the
 * example body the store kept.
 */
import { iso, type CallEntry, type ClientEntry, type InventoryLimits } from './entries.ts';
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

/** What the store shows of itself (src/inventory/store.ts). */
export interface StoreContents {
  /** The time of the snapshot. */
  now: number;
  enabled: boolean;
  limits: InventoryLimits;
  evicted: { clients: number; calls: number };
  /** Least recently touched first. */
  clients: Iterable<ClientEntry>;
}

export function inventoryJson(store: StoreContents, opts: SnippetOptions): InventoryJson {
  // Most recently touched first, then by last seen (a restored file may hold any order).
  const clients = [...store.clients].reverse().sort((a, b) => b.last - a.last);
  return {
    generatedAt: new Date(store.now).toISOString(),
    enabled: store.enabled,
    limits: { ...store.limits },
    evicted: { ...store.evicted },
    clients: clients.map((c) => clientView(c, opts)),
  };
}

function clientView(c: ClientEntry, opts: SnippetOptions): InventoryClient {
  return {
    userAgent: c.userAgent,
    address: c.address,
    db: c.db ?? null,
    login: c.login ?? null,
    uid: c.uid ?? null,
    firstSeen: iso(c.first),
    lastSeen: iso(c.last),
    count: c.count,
    errors: c.errors,
    calls: [...c.calls.values()].sort(byName).map((e) => callView(c, e, opts)),
  };
}

function callView(c: ClientEntry, e: CallEntry, opts: SnippetOptions): InventoryCall {
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
