/**
 * Compatibility shims: legacy ORM calls that newer Odoo removed, rewritten as one JSON-2 call of
 * what replaced them, with a mapper back to the legacy answer. Pure: no I/O.
 *
 * Each shim is off by default (fidelity first: without it the bridge answers what Odoo 19 answers,
 * the upstream's error) and enabled in BRIDGE_CONFIG: `shims: {name_get: true, ...}`.
 * Source of the removals: shared/reference/odoo19-wire.md §8.2 ("[history] removed in 17.0").
 *
 * | shim              | legacy call                           | Odoo 19 call                           | removed in |
 * |-------------------|---------------------------------------|----------------------------------------|------------|
 * | `name_get`        | `name_get(ids)` → `[[id, name], …]`   | `read(ids, ['display_name'])`          | 17.0       |
 * | `search_count`    | `search(domain, …, count=True)` → int | `search_count(domain, limit)`          | 17.0       |
 * | `fields_get_keys` | `fields_get_keys()` → `[name, …]`     | `fields_get(attributes=['type'])`      | 17.0       |
 */
import { pythonError } from '../errors.ts';
import { parseJsonValue } from '../protocol/json/parse.ts';
import { upstreamError } from '../upstream/odoo-client.ts';
import { isStruct, truthy, valueResult, type CallResult, type Struct, type Value } from '../values.ts';

export const SHIM_NAMES = ['name_get', 'search_count', 'fields_get_keys'] as const;
export type ShimName = (typeof SHIM_NAMES)[number];
export type ShimSettings = Readonly<Record<ShimName, boolean>>;
export const NO_SHIMS: ShimSettings = { name_get: false, search_count: false, fields_get_keys: false };

/** The Odoo version that removed each call (odoo19-wire.md §8.2). */
export const SHIM_REMOVED_IN: Readonly<Record<ShimName, string>> = {
  name_get: '17.0',
  search_count: '17.0',
  fields_get_keys: '17.0',
};

export interface ShimmedCall {
  shim: ShimName;
  /** The method to call on JSON-2 instead, with legacy-style positional args and kwargs. */
  method: string;
  args: Value[];
  kw: Struct;
  /** Odoo's JSON answer (status 200) → the legacy result; undefined: pass the answer on as is. */
  mapResult?: (text: string) => CallResult;
}

/** The rewritten call when an enabled shim applies to `method(args, kw)`, else undefined. */
export function applyShim(
  method: string,
  args: readonly Value[],
  kw: Struct,
  shims: ShimSettings,
): ShimmedCall | undefined {
  if (method === 'name_get' && shims.name_get) return nameGet(args, kw);
  if (method === 'search' && shims.search_count) return searchCount(args, kw);
  if (method === 'fields_get_keys' && shims.fields_get_keys) return fieldsGetKeys(args, kw);
  return undefined;
}

/** `name_get(self)`: the ids, nothing else; only `context` among the kwargs. */
function nameGet(args: readonly Value[], kw: Struct): ShimmedCall {
  if (args.length > 1)
    throw pythonError(
      'TypeError',
      `BaseModel.name_get() takes 1 positional argument but ${args.length} were given`,
    );
  unexpectedKwargs('name_get', kw, []);
  return {
    shim: 'name_get',
    method: 'read',
    // An empty args list stays empty: `read` then fails as legacy name_get did (no ids).
    args: args.length ? [args[0] ?? null, ['display_name']] : [],
    kw,
    mapResult: (text) => {
      const rows = parseJsonValue(text);
      if (!Array.isArray(rows))
        throw upstreamError('Odoo answered read (for name_get) with something other than a list');
      return valueResult(
        rows.map((row) => (isStruct(row) ? [row.get('id') ?? false, row.get('display_name') ?? false] : row)),
      );
    },
  };
}

/** `search(domain, offset=0, limit=None, order=None, count=False)`: count as kw or 5th positional. */
function searchCount(args: readonly Value[], kw: Struct): ShimmedCall | undefined {
  const positionalCount = args.length >= 5;
  if (!positionalCount && !kw.has('count')) return undefined;
  if (positionalCount && kw.has('count'))
    throw pythonError('TypeError', "BaseModel.search() got multiple values for argument 'count'");
  const count = positionalCount ? args[4] : kw.get('count');
  const rest = new Map(kw);
  rest.delete('count');
  if (!truthy(count ?? null))
    // count=False: an ordinary search, without the parameter Odoo 19 no longer has.
    return { shim: 'search_count', method: 'search', args: args.slice(0, 4), kw: rest };
  // Legacy: `search(domain, offset, limit, order, count=True)` → the count; offset and order do
  // not change it. `limit` is kept (search_count(domain, limit)), as odoo19-wire.md §8.2 says.
  const named = ['domain', 'offset', 'limit', 'order'];
  const given = new Map<string, Value>();
  args.slice(0, 4).forEach((v, i) => given.set(named[i] as string, v));
  for (const [k, v] of rest) {
    if (k === 'context') continue;
    if (!named.includes(k))
      throw pythonError('TypeError', `BaseModel.search() got an unexpected keyword argument '${k}'`);
    if (given.has(k))
      throw pythonError('TypeError', `BaseModel.search() got multiple values for argument '${k}'`);
    given.set(k, v);
  }
  const callKw: Struct = new Map();
  callKw.set('domain', given.get('domain') ?? []);
  const limit = given.get('limit');
  if (limit !== undefined && limit !== null) callKw.set('limit', limit);
  const context = rest.get('context');
  if (context !== undefined) callKw.set('context', context);
  return { shim: 'search_count', method: 'search_count', args: [], kw: callKw };
}

/** `fields_get_keys(self)` → `list(self._fields)`. */
function fieldsGetKeys(args: readonly Value[], kw: Struct): ShimmedCall {
  if (args.length > 0)
    throw pythonError(
      'TypeError',
      `BaseModel.fields_get_keys() takes 1 positional argument but ${args.length + 1} were given`,
    );
  unexpectedKwargs('fields_get_keys', kw, []);
  const callKw: Struct = new Map([['attributes', ['type']]]);
  const context = kw.get('context');
  if (context !== undefined) callKw.set('context', context);
  return {
    shim: 'fields_get_keys',
    method: 'fields_get',
    args: [],
    kw: callKw,
    mapResult: (text) => {
      const fields = parseJsonValue(text);
      if (!isStruct(fields))
        throw upstreamError(
          'Odoo answered fields_get (for fields_get_keys) with something other than a mapping',
        );
      return valueResult([...fields.keys()]);
    },
  };
}

function unexpectedKwargs(method: string, kw: Struct, allowed: readonly string[]): void {
  for (const k of kw.keys())
    if (k !== 'context' && !allowed.includes(k))
      throw pythonError('TypeError', `BaseModel.${method}() got an unexpected keyword argument '${k}'`);
}
