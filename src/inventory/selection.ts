/**
 * Which clients of the inventory an endpoint shows: `?db=`, `?model=`, `?client=` filters and
 * `?offset=` / `?limit=` paging, read from the query string of `/_bridge/inventory`,
 * `/_bridge/`, and `/_bridge/inventory.csv`. The overview keeps counting every client; the
 * clients listed are those selected, in the usual order (most recently seen first).
 *
 * - `db`: the client's database, exactly.
 * - `model`: a model one of its kinds of call uses, exactly.
 * - `client`: its id (16 hex digits), or a piece of its User-Agent, login or address (any case).
 *
 * Values are length-capped and matched without regular expressions.
 */
import type { InventoryClient, InventoryJson } from './views.ts';

export interface Selection {
  db: string | undefined;
  model: string | undefined;
  client: string | undefined;
  offset: number;
  /** Clients listed at most; undefined: all. */
  limit: number | undefined;
}

/** How many clients the selection matched, and which page of them is listed. */
export interface SelectionInfo {
  db: string | null;
  model: string | null;
  client: string | null;
  matched: number;
  offset: number;
  limit: number | null;
}

/** A page lists at most this many clients. */
export const MAX_PAGE = 1000;
const MAX_VALUE = 256;

/** The selection a query string asks for, or the one-line reason it is not one. */
export function selectionOf(query: Record<string, unknown>): Selection | string {
  const text = (name: string): string | undefined | Error => {
    const v = query[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string' || v.length > MAX_VALUE)
      return new Error(`?${name}= must be given once, at most ${MAX_VALUE} characters`);
    return v;
  };
  const whole = (name: string, min: number, max: number): number | undefined | Error => {
    const v = text(name);
    if (v === undefined || v instanceof Error) return v;
    const n = Number(v);
    if (!/^\d{1,10}$/.test(v) || n < min || n > max)
      return new Error(`?${name}= must be a whole number from ${min} to ${max}`);
    return n;
  };
  const db = text('db');
  const model = text('model');
  const client = text('client');
  const offset = whole('offset', 0, 1_000_000_000);
  const limit = whole('limit', 1, MAX_PAGE);
  for (const v of [db, model, client, offset, limit]) if (v instanceof Error) return v.message;
  return {
    db: db as string | undefined,
    model: model as string | undefined,
    client: client as string | undefined,
    offset: (offset as number | undefined) ?? 0,
    limit: limit as number | undefined,
  };
}

export function isEverything(s: Selection): boolean {
  return (
    s.db === undefined &&
    s.model === undefined &&
    s.client === undefined &&
    s.offset === 0 &&
    s.limit === undefined
  );
}

/** `inv` with only the selected clients listed, and what was selected. */
export function select(inv: InventoryJson, s: Selection): InventoryJson & { selection: SelectionInfo } {
  const needle = s.client?.toLowerCase();
  const matched = inv.clients.filter(
    (c) =>
      (s.db === undefined || c.db === s.db) &&
      (s.model === undefined || c.calls.some((k) => k.model === s.model)) &&
      (needle === undefined || matchesClient(c, needle)),
  );
  const end = s.limit === undefined ? undefined : s.offset + s.limit;
  return {
    ...inv,
    clients: matched.slice(s.offset, end),
    selection: {
      db: s.db ?? null,
      model: s.model ?? null,
      client: s.client ?? null,
      matched: matched.length,
      offset: s.offset,
      limit: s.limit ?? null,
    },
  };
}

function matchesClient(c: InventoryClient, needle: string): boolean {
  return (
    c.id === needle ||
    c.userAgent.toLowerCase().includes(needle) ||
    (c.login ?? '').toLowerCase().includes(needle) ||
    c.address.toLowerCase().includes(needle)
  );
}
