/**
 * Compatibility shims: legacy ORM calls that newer Odoo removed or changed, rewritten as JSON-2
 * calls of what replaced them, with a mapper back to the legacy answer. Pure: no I/O.
 *
 * Each shim is off by default (fidelity first: without it the bridge answers what Odoo 19 answers,
 * the upstream's error) and enabled in BRIDGE_CONFIG: `shims: {name_get: true, ...}`. Each is also
 * version-aware: it applies only to an upstream whose `/web/version` is at least `SHIM_APPLIES_FROM`
 * (the release that removed or changed the call); an older upstream gets the call as it is.
 * Sources: docs/wire.md §8.2 and its section "read_group, check_access_rights,
 * search(count=True), argument binding", from Odoo's source.
 *
 * | shim                  | legacy call                                   | JSON-2 call(s)                                         | removed / changed in |
 * |-----------------------|-----------------------------------------------|--------------------------------------------------------|----------------------|
 * | `name_get`            | `name_get(ids)` → `[[id, name], …]`           | `read(ids, ['display_name'])`                          | 17.0                 |
 * | `search_count`        | `search(domain, …, count=True)` → int         | `search_count(domain, limit)`                          | 17.0                 |
 * | `fields_get_keys`     | `fields_get_keys()` → `[name, …]`             | `fields_get(attributes=['type'])`                      | 17.0                 |
 * | `check_access_rights` | `check_access_rights(op, raise_exception)`    | `has_access(op)`; refused on 19.0: the method itself    | 18.0 (deprecated; 19.0 answers None), gone after 19.0 |
 * | `read_group`          | `read_group(domain, fields, groupby, …)`      | `fields_get` (types, aggregators), `formatted_read_group` | gone after 19.0 (deprecated in 19.0) |
 */
import { accessError, pythonError, upstreamError } from '../errors.ts';
import { parseJsonValue } from '../protocol/json/parse.ts';
import { isStruct, truthy, valueResult, type CallResult, type Struct, type Value } from '../values.ts';
import {
  fieldInfos,
  expansionKw,
  legacyRows,
  legacyRowsExpanded,
  needsExpansionCall,
  parseLegacyReadGroup,
  planReadGroup,
  type LegacyReadGroup,
} from './read-group.ts';

export const SHIM_NAMES = [
  'name_get',
  'search_count',
  'fields_get_keys',
  'read_group',
  'check_access_rights',
] as const;
export type ShimName = (typeof SHIM_NAMES)[number];
export type ShimSettings = Readonly<Record<ShimName, boolean>>;
export const NO_SHIMS: ShimSettings = {
  name_get: false,
  search_count: false,
  fields_get_keys: false,
  read_group: false,
  check_access_rights: false,
};

/** The Odoo version that removed (or changed) each call, as docs/compatibility.md's shims table says it. */
export const SHIM_REMOVED_IN: Readonly<Record<ShimName, string>> = {
  name_get: '17.0',
  search_count: '17.0',
  fields_get_keys: '17.0',
  read_group: 'after 19.0',
  check_access_rights: '18.0',
};

/** An Odoo release as (major, minor): `[19, 0]`; `saas~19.1` is `[19, 1]`. */
export type OdooRelease = readonly [number, number];

/**
 * The first release each shim applies to. `read_group` is still in 19.0 (deprecated, with its
 * legacy answer) and gone from the next development branch, whose first release is 19.1 or later;
 * `check_access_rights` answers `None` instead of `True` from 18.0 on (deprecated there).
 */
export const SHIM_APPLIES_FROM: Readonly<Record<ShimName, OdooRelease>> = {
  name_get: [17, 0],
  search_count: [17, 0],
  fields_get_keys: [17, 0],
  read_group: [19, 1],
  check_access_rights: [18, 0],
};

/** JSON-2 exists from 19.0 on: what an upstream whose version cannot be read is at least. */
const JSON2_FIRST_RELEASE: OdooRelease = [19, 0];

/** Whether a shim applies to an upstream of this release (unknown: the least JSON-2 release). */
export function shimApplies(name: ShimName, release: OdooRelease | undefined): boolean {
  const [major, minor] = release ?? JSON2_FIRST_RELEASE;
  const [fromMajor, fromMinor] = SHIM_APPLIES_FROM[name];
  return major > fromMajor || (major === fromMajor && minor >= fromMinor);
}

/** The enabled shim that would handle `method`, before looking at its arguments or the version. */
export function shimFor(method: string, shims: ShimSettings): ShimName | undefined {
  const name = Object.hasOwn(SHIM_OF_METHOD, method) ? SHIM_OF_METHOD[method] : undefined;
  return name !== undefined && shims[name] ? name : undefined;
}

/** The legacy method each shim rewrites. */
const SHIM_OF_METHOD: Readonly<Record<string, ShimName>> = {
  name_get: 'name_get',
  search: 'search_count',
  fields_get_keys: 'fields_get_keys',
  read_group: 'read_group',
  check_access_rights: 'check_access_rights',
};

export interface ShimmedCall {
  shim: ShimName;
  /** The method to call on JSON-2 instead, with legacy-style positional args and kwargs. */
  method: string;
  args: Value[];
  kw: Struct;
  /** Odoo's JSON answer (status 200) → the legacy result; undefined: pass the answer on as is. */
  mapResult?: (text: string) => CallResult;
  /**
   * Instead of `mapResult`, for a read-only call whose answer decides what comes next (read_group's
   * field types; check_access_rights' refusal): its JSON answer (status 200) gives the call to make
   * next, or the legacy result.
   */
  then?: (text: string) => ShimmedCall | CallResult;
}

/** Whether `then` gave a further call (else the legacy result). */
export function isShimmedCall(x: ShimmedCall | CallResult): x is ShimmedCall {
  return 'shim' in x;
}

export interface ShimOptions {
  /** The model called, for error messages. */
  model?: string;
  /** The upstream's release (`/web/version`); undefined: unknown, taken as 19.0. */
  release?: OdooRelease | undefined;
}

/**
 * The rewritten call when an enabled shim applies to `method(args, kw)` on an upstream of
 * `opts.release`, else undefined.
 */
export function applyShim(
  method: string,
  args: readonly Value[],
  kw: Struct,
  shims: ShimSettings,
  opts: ShimOptions = {},
): ShimmedCall | undefined {
  const name = shimFor(method, shims);
  if (name === undefined || !shimApplies(name, opts.release)) return undefined;
  switch (name) {
    case 'name_get':
      return nameGet(args, kw);
    case 'search_count':
      return searchCount(args, kw);
    case 'fields_get_keys':
      return fieldsGetKeys(args, kw);
    case 'read_group':
      return readGroup(args, kw, opts.model ?? '');
    case 'check_access_rights':
      return checkAccessRights(args, kw, opts.model ?? '', opts.release);
  }
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
  // not change it. `limit` is kept (search_count(domain, limit)), as docs/wire.md §8.2 says.
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

/**
 * `read_group(domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True)` →
 * `fields_get` of the fields involved (when any: their type decides a date group's default
 * granularity, their `aggregator` what a plain field name sums), then `formatted_read_group`,
 * answered as legacy rows (src/translate/read-group.ts). Both calls are read-only.
 */
function readGroup(args: readonly Value[], kw: Struct, model: string): ShimmedCall {
  const call = parseLegacyReadGroup(args, kw);
  if (call.fieldNames.length === 0) return formattedReadGroup(call, model, new Map());
  const fieldsKw: Struct = new Map<string, Value>([
    ['allfields', call.fieldNames],
    ['attributes', ['type', 'store', 'aggregator']],
  ]);
  if (call.context !== undefined && truthy(call.context)) fieldsKw.set('context', call.context);
  return {
    shim: 'read_group',
    method: 'fields_get',
    args: [],
    kw: fieldsKw,
    then: (text) => formattedReadGroup(call, model, fieldInfos(text)),
  };
}

function formattedReadGroup(
  call: LegacyReadGroup,
  model: string,
  info: ReturnType<typeof fieldInfos>,
): ShimmedCall {
  const plan = planReadGroup(call, model, info);
  if (!needsExpansionCall(plan))
    return {
      shim: 'read_group',
      method: 'formatted_read_group',
      args: [],
      kw: plan.kw,
      mapResult: (text) => valueResult(legacyRows(plan, text)),
    };
  return {
    shim: 'read_group',
    method: 'formatted_read_group',
    args: [],
    kw: plan.kw,
    then: (cut) => ({
      shim: 'read_group',
      method: 'formatted_read_group',
      args: [],
      kw: expansionKw(plan, cut),
      mapResult: (all) => valueResult(legacyRowsExpanded(plan, cut, all)),
    }),
  };
}

/** Legacy `ir.model.access` wording of a refused operation (without the groups that may). */
const ACCESS_VERBS: Record<string, string> = {
  read: 'access',
  write: 'modify',
  create: 'create',
  unlink: 'delete',
};

/**
 * `check_access_rights(operation, raise_exception=True)` (`@api.model`) → `has_access(operation)`
 * on no records (the model-level check, as `ir.model.access.check` did): True when allowed;
 * otherwise False with `raise_exception=False`, or an AccessError: Odoo's own, from the deprecated
 * method itself on a release that still has it (19.0 raises it when refused), else one written
 * here.
 */
function checkAccessRights(
  args: readonly Value[],
  kw: Struct,
  model: string,
  release: OdooRelease | undefined,
): ShimmedCall {
  const qual = 'BaseModel.check_access_rights';
  if (args.length > 2)
    throw pythonError(
      'TypeError',
      `${qual}() takes from 2 to 3 positional arguments but ${args.length + 1} were given`,
    );
  const bound = new Map<string, Value>();
  args.forEach((v, i) => bound.set(i === 0 ? 'operation' : 'raise_exception', v));
  for (const [k, v] of kw) {
    if (k === 'context') continue;
    if (k !== 'operation' && k !== 'raise_exception')
      throw pythonError('TypeError', `${qual}() got an unexpected keyword argument '${k}'`);
    if (bound.has(k)) throw pythonError('TypeError', `${qual}() got multiple values for argument '${k}'`);
    bound.set(k, v);
  }
  const operation = bound.get('operation');
  if (operation === undefined)
    throw pythonError('TypeError', `${qual}() missing 1 required positional argument: 'operation'`);
  const raise = truthy(bound.has('raise_exception') ? (bound.get('raise_exception') ?? null) : true);
  const callKw: Struct = new Map([['operation', operation]]);
  const context = kw.get('context');
  if (context !== undefined) callKw.set('context', context);
  return {
    shim: 'check_access_rights',
    method: 'has_access',
    // has_access is a record method: no records is the model-level check.
    args: [[]],
    kw: callKw,
    then: (text) => {
      const allowed = parseJsonValue(text);
      if (typeof allowed !== 'boolean')
        throw upstreamError(
          'Odoo answered has_access (for check_access_rights) with something other than a boolean',
        );
      if (allowed || !raise) return valueResult(allowed);
      const [major, minor] = release ?? JSON2_FIRST_RELEASE;
      if (major < 19 || (major === 19 && minor === 0)) {
        const legacyKw: Struct = new Map();
        if (context !== undefined) legacyKw.set('context', context);
        return {
          shim: 'check_access_rights',
          method: 'check_access_rights',
          args: [operation],
          kw: legacyKw,
          // Refused, it raises Odoo's AccessError; allowed meanwhile, it answers None.
          mapResult: () => valueResult(true),
        };
      }
      const verb = typeof operation === 'string' ? (ACCESS_VERBS[operation] ?? operation) : String(operation);
      throw accessError(
        `You are not allowed to ${verb} '${model}' (${model}) records.\n\nContact your administrator to request access if necessary.`,
      );
    },
  };
}

function unexpectedKwargs(method: string, kw: Struct, allowed: readonly string[]): void {
  for (const k of kw.keys())
    if (k !== 'context' && !allowed.includes(k))
      throw pythonError('TypeError', `BaseModel.${method}() got an unexpected keyword argument '${k}'`);
}
