/**
 * The pre-19 `read_group(domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True)`
 * rebuilt on `formatted_read_group(domain, groupby, aggregates, having, offset, limit, order)`, for
 * servers that no longer have it (docs/wire.md, "read_group, check_access_rights, …"). Pure: no
 * I/O. Three steps, driven by the object service through the `read_group` shim:
 *
 * 1. `parseLegacyReadGroup`: bind the legacy positional/keyword call as Python would (same
 *    TypeErrors), and list the fields whose type and default aggregator the mapping needs;
 * 2. `planReadGroup`: with their `fields_get` description, the legacy keys and what to ask
 *    `formatted_read_group` for (date groups get Odoo's default `:month`, plain field names their
 *    field's `aggregator`, `orderby` names become specs);
 * 3. `legacyRows`: the formatted groups → legacy rows: the groupby values (a date group's label,
 *    with its bounds in `__range`), `<groupby>_count` (lazy, one level) or `__count`, the
 *    aggregates under the names the caller used, `__domain` (the caller's domain AND the group's),
 *    and `__context: {group_by: [...]}` for the levels a lazy call left out. A lazy call also gets
 *    the empty groups of a `group_expand` field, with `__fold` (see `expandContext`).
 */
import { pythonError, pythonNameList, upstreamError } from '../errors.ts';
import { parseJsonValue } from '../protocol/json/parse.ts';
import { isStruct, pyTypeName, truthy, type Struct, type Value } from '../values.ts';

const QUALNAME = 'BaseModel.read_group';
const PARAMS = ['domain', 'fields', 'groupby', 'offset', 'limit', 'orderby', 'lazy'] as const;
const REQUIRED = 3;
/** Legacy `regex_field_agg`, applied with `re.match` (a prefix match). */
const FIELD_AGG = /^(\w+)(?::(\w+)(?:\((\w+)\))?)?/;
const TEMPORAL = new Set(['date', 'datetime']);
const TIME_GRANULARITIES = new Set(['hour', 'day', 'week', 'month', 'quarter', 'year']);

export interface LegacyReadGroup {
  domain: Value;
  fields: Value[];
  /** All the groupby specs asked for. */
  groupby: string[];
  /** The ones grouped now: the first only when lazy. */
  grouped: string[];
  offset: Value;
  limit: Value;
  orderby: Value;
  lazy: boolean;
  context: Value | undefined;
  /** Field names whose description (type, store, aggregator) the plan needs. */
  fieldNames: string[];
}

/** Python's binding of `read_group(self, *args, **kw)`, with its TypeErrors. */
export function parseLegacyReadGroup(args: readonly Value[], kw: Struct): LegacyReadGroup {
  if (args.length > PARAMS.length)
    throw pythonError(
      'TypeError',
      `${QUALNAME}() takes from ${REQUIRED + 1} to ${PARAMS.length + 1} positional arguments but ${args.length + 1} were given`,
    );
  const bound = new Map<string, Value>();
  args.forEach((v, i) => bound.set(PARAMS[i] as string, v));
  for (const [k, v] of kw) {
    if (k === 'context') continue;
    if (!(PARAMS as readonly string[]).includes(k))
      throw pythonError('TypeError', `${QUALNAME}() got an unexpected keyword argument '${k}'`);
    if (bound.has(k)) throw pythonError('TypeError', `${QUALNAME}() got multiple values for argument '${k}'`);
    bound.set(k, v);
  }
  const missing = PARAMS.slice(0, REQUIRED).filter((p) => !bound.has(p));
  if (missing.length) {
    const list = pythonNameList(missing);
    throw pythonError(
      'TypeError',
      `${QUALNAME}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${list}`,
    );
  }
  const rawGroupby = bound.get('groupby') ?? null;
  const groupbyList = typeof rawGroupby === 'string' ? [rawGroupby] : rawGroupby;
  if (!Array.isArray(groupbyList))
    throw pythonError('TypeError', `'${pyTypeName(rawGroupby)}' object is not subscriptable`);
  const groupby = groupbyList.map((g) => {
    if (typeof g !== 'string')
      throw pythonError('TypeError', `expected string or bytes-like object, got '${pyTypeName(g)}'`);
    return g;
  });
  const fields = bound.get('fields') ?? null;
  if (!Array.isArray(fields))
    throw pythonError('TypeError', `'${pyTypeName(fields)}' object is not iterable`);
  const lazy = truthy(bound.has('lazy') ? (bound.get('lazy') ?? null) : true);
  const grouped = lazy ? groupby.slice(0, 1) : groupby;
  const names = new Set<string>(grouped.map(groupbyField));
  for (const spec of fields) {
    if (spec === '__count') continue;
    if (typeof spec !== 'string')
      throw pythonError('TypeError', `expected string or bytes-like object, got '${pyTypeName(spec)}'`);
    const m = FIELD_AGG.exec(spec);
    if (!m) throw pythonError('ValueError', `Invalid field specification '${spec}'.`);
    if (!m[2]) names.add(m[1] as string);
  }
  return {
    domain: bound.get('domain') ?? null,
    fields,
    groupby,
    grouped,
    offset: bound.get('offset') ?? 0,
    limit: bound.get('limit') ?? null,
    orderby: bound.get('orderby') ?? false,
    lazy,
    context: kw.get('context'),
    fieldNames: [...names],
  };
}

/** `'date_order:week'` → `date_order`; `'properties.tag'` → `properties`. */
function groupbyField(spec: string): string {
  return (spec.split(':')[0] as string).split('.')[0] as string;
}

/** What `fields_get(attributes=['type', 'store', 'aggregator'])` says of one field. */
export interface FieldInfo {
  type: string;
  store: boolean;
  aggregator: string | undefined;
}

/** Reads a `fields_get` answer (JSON text) into FieldInfo by field name. */
export function fieldInfos(text: string): Map<string, FieldInfo> {
  const doc = parseJsonValue(text);
  if (!isStruct(doc))
    throw upstreamError('Odoo answered fields_get (for read_group) with something other than a mapping');
  const out = new Map<string, FieldInfo>();
  for (const [name, d] of doc) {
    if (!isStruct(d)) continue;
    const type = d.get('type');
    const aggregator = d.get('aggregator');
    out.set(name, {
      type: typeof type === 'string' ? type : '',
      store: d.get('store') !== false,
      aggregator: typeof aggregator === 'string' && aggregator ? aggregator : undefined,
    });
  }
  return out;
}

export interface ReadGroupPlan {
  call: LegacyReadGroup;
  /** Legacy key (the spec as given) → the spec sent (`date` → `date:month`). */
  groupSpecs: [string, string][];
  /** Legacy keys of date/datetime groups with a time granularity (label + `__range`). */
  temporal: Set<string>;
  countKey: string;
  /** Legacy name → aggregate spec sent (`'field:agg'`), in the legacy key order. */
  aggregates: [string, string][];
  /** Empty `group_expand` groups asked for (a lazy call: `read_group_expand` in the context). */
  expand: boolean;
  /** The formatted_read_group keyword arguments (domain, groupby, aggregates, offset, limit, order, context). */
  kw: Struct;
}

/** Legacy read_group's mapping of `fields` and `groupby` (Odoo 19.0 `odoo/orm/models.py`). */
export function planReadGroup(
  call: LegacyReadGroup,
  model: string,
  info: Map<string, FieldInfo>,
): ReadGroupPlan {
  const invalidField = (name: string) =>
    pythonError('ValueError', `Invalid field '${name}' on model '${model}'`);
  const groupSpecs: [string, string][] = [];
  const temporal = new Set<string>();
  for (const key of call.grouped) {
    const fname = groupbyField(key);
    const field = info.get(fname);
    if (!field) throw invalidField(fname);
    if (TEMPORAL.has(field.type)) {
      const granularity = key.includes(':') ? (key.split(':')[1] as string) : 'month';
      groupSpecs.push([key, `${fname}:${granularity}`]);
      if (TIME_GRANULARITIES.has(granularity)) temporal.add(key);
    } else groupSpecs.push([key, key]);
  }
  const first = call.grouped[0];
  const countKey =
    call.lazy && call.grouped.length === 1 && first !== undefined
      ? `${first.split(':')[0] as string}_count`
      : '__count';
  const groupKeys = new Set(groupSpecs.map(([k]) => k));
  const aggregates = new Map<string, string>();
  for (const spec of call.fields) {
    if (spec === '__count' || typeof spec !== 'string') continue;
    const [, name, func, fname] = FIELD_AGG.exec(spec) as unknown as [
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    if (fname && func) aggregates.set(name, `${fname}:${func}`);
    else if (func) aggregates.set(name, `${name}:${func}`);
    else {
      const field = info.get(name);
      if (!field) throw invalidField(name);
      if (field.store && field.aggregator && !groupKeys.has(spec))
        aggregates.set(name, `${name}:${field.aggregator}`);
    }
  }

  const kw: Struct = new Map<string, Value>([
    ['domain', call.domain ?? []],
    ['groupby', groupSpecs.map(([, s]) => s)],
    ['aggregates', ['__count', ...new Set(aggregates.values())]],
  ]);
  if (truthy(call.offset)) kw.set('offset', call.offset);
  if (truthy(call.limit)) kw.set('limit', call.limit);
  if (truthy(call.orderby)) {
    if (typeof call.orderby !== 'string')
      throw pythonError('AttributeError', `'${pyTypeName(call.orderby)}' object has no attribute 'split'`);
    kw.set('order', orderSpecs(call.orderby, groupSpecs, countKey, aggregates));
  }
  const expand = call.lazy && groupSpecs.length === 1;
  const context = expandContext(call.context, expand);
  if (context !== undefined && truthy(context)) kw.set('context', context);
  return { call, groupSpecs, temporal, countKey, aggregates: [...aggregates], expand, kw };
}

/**
 * Legacy read_group adds a lazy call's empty groups for a `group_expand` field (kanban columns:
 * every stage, count 0) whatever the context; formatted_read_group adds them only when asked, with
 * `read_group_expand` in the context, which legacy did not read. So the key is set for a lazy
 * call and taken out of an eager one. A context that is not a mapping is sent as it came.
 */
function expandContext(context: Value | undefined, expand: boolean): Value | undefined {
  if (context !== undefined && truthy(context) && !isStruct(context)) return context;
  const out: Struct = new Map(isStruct(context) ? context : []);
  if (expand) out.set('read_group_expand', true);
  else out.delete('read_group_expand');
  return out;
}

/**
 * Legacy `orderby` terms name the result keys (`partner_id desc`, `amount_total`,
 * `partner_id_count`); formatted_read_group orders by specs (`amount_total:sum`, `__count`).
 */
function orderSpecs(
  orderby: string,
  groupSpecs: [string, string][],
  countKey: string,
  aggregates: Map<string, string>,
): string {
  const names: [string, string][] = [
    ...[...groupSpecs].reverse().map(([k, s]): [string, string] => [k.split(':')[0] as string, s]),
    [countKey, '__count'],
    ...aggregates,
  ];
  return orderby
    .split(',')
    .map((raw) => {
      const term = raw.trim();
      for (const [name, spec] of names) {
        if (term === name || term.startsWith(`${name} `)) return spec + term.slice(name.length);
      }
      return term;
    })
    .join(',');
}

/** formatted_read_group's answer (JSON text) → its groups. */
function formattedGroups(text: string): Value[] {
  const groups = parseJsonValue(text);
  if (!Array.isArray(groups))
    throw upstreamError(
      'Odoo answered formatted_read_group (for read_group) with something other than a list',
    );
  return groups;
}

/** Groups the expansion call may answer; more, and the expansion is given up (the cut rows only). */
export const EXPANSION_CAP = 1000;

/** A group's value as a key: a many2one's id, else the value itself. */
function groupValue(g: Struct, spec: string): Value {
  const v = g.get(spec) ?? false;
  return Array.isArray(v) ? (v[0] ?? false) : v;
}

/**
 * Whether a lazy call needs a second call for its empty groups: it has an offset or a limit
 * (formatted_read_group fills only at offset 0 and under the limit, where legacy read_group cut
 * the real groups and then added every value the field's `group_expand` gives) and groups by a
 * field, not a date granularity.
 */
export function needsExpansionCall(plan: ReadGroupPlan): boolean {
  if (!plan.expand || (!truthy(plan.call.offset) && !truthy(plan.call.limit))) return false;
  const [key] = plan.groupSpecs[0] ?? [];
  return key !== undefined && !plan.temporal.has(key) && !key.includes(':');
}

/**
 * The second call's arguments: the field's groups with `read_group_expand`, for the values of the
 * cut groups only (the domain ANDed with `(field, 'in', values)`), as legacy gave the expander the
 * values of the cut groups; no offset, at most EXPANSION_CAP + 1 groups.
 */
export function expansionKw(plan: ReadGroupPlan, cutText: string): Struct {
  const spec = plan.groupSpecs[0]?.[1] ?? '';
  const values = formattedGroups(cutText)
    .filter(isStruct)
    .map((g) => groupValue(g, spec))
    .filter((v) => v !== false && v !== null);
  const domain = plan.call.domain;
  const kw = new Map(plan.kw);
  kw.set('domain', [[spec, 'in', values], ...(Array.isArray(domain) ? domain : [])]);
  kw.delete('offset');
  kw.set('limit', EXPANSION_CAP + 1);
  kw.set('aggregates', ['__count']);
  return kw;
}

/**
 * The legacy rows of a lazy call with an offset or a limit: the cut groups and the empty ones the
 * field's `group_expand` adds, in the expansion's order (a value only the expansion gave, as an
 * empty group), then any cut group the expansion did not give (no value). No value beyond the cut
 * ones: the field does not expand (or its expander added none), and the cut rows are the answer;
 * more than EXPANSION_CAP groups: the same.
 */
export function legacyRowsExpanded(plan: ReadGroupPlan, cutText: string, allText: string): Value {
  const cut = formattedGroups(cutText);
  const all = formattedGroups(allText).filter(isStruct);
  const spec = plan.groupSpecs[0]?.[1] ?? '';
  const keyOf = (g: Struct): string => JSON.stringify(groupValue(g, spec));
  const cutByKey = new Map(cut.filter(isStruct).map((g) => [keyOf(g), g]));
  if (all.length > EXPANSION_CAP || all.every((g) => cutByKey.has(keyOf(g)))) return legacyRowsOf(plan, cut);
  const merged: Value[] = all.map((g) => {
    const real = cutByKey.get(keyOf(g));
    if (real) {
      cutByKey.delete(keyOf(g));
      return real;
    }
    const empty = new Map<string, Value>([
      [spec, g.get(spec) ?? false],
      ['__extra_domain', g.get('__extra_domain') ?? []],
      ['__count', 0],
    ]);
    for (const [, agg] of plan.aggregates) empty.set(agg, emptyAggregate(agg));
    if (g.has('__fold')) empty.set('__fold', g.get('__fold') ?? false);
    return empty;
  });
  return legacyRowsOf(plan, [...merged, ...cutByKey.values()]);
}

/** Odoo's empty value of an aggregate (`_read_group_empty_value`): 0 for counts, [] for arrays. */
function emptyAggregate(spec: string): Value {
  const func = spec.split(':')[1] ?? '';
  if (func === 'count' || func === 'count_distinct') return 0;
  if (func === 'array_agg' || func === 'array_agg_distinct') return [];
  return false;
}

/** formatted_read_group's answer (JSON text) → the legacy rows. */
export function legacyRows(plan: ReadGroupPlan, text: string): Value {
  return legacyRowsOf(plan, formattedGroups(text));
}

function legacyRowsOf(plan: ReadGroupPlan, groups: readonly Value[]): Value {
  const { call } = plan;
  const rest = call.groupby.slice(call.grouped.length);
  return groups.map((g): Value => {
    if (!isStruct(g)) return g;
    const row: Struct = new Map();
    const range: Struct = new Map();
    const extra = g.get('__extra_domain') ?? [];
    // An empty group_expand group (no record has a count of 0): legacy built it from the empty
    // aggregates, then set the group's value, so its keys come in that order.
    const filled = plan.expand && g.get('__count') === 0;
    const aggregatesFirst = () => {
      row.set(plan.countKey, g.get('__count') ?? 0);
      for (const [name, spec] of plan.aggregates) row.set(name, g.get(spec) ?? false);
    };
    if (filled) aggregatesFirst();
    for (const [key, spec] of plan.groupSpecs) {
      const value = g.get(spec) ?? false;
      if (plan.temporal.has(key)) {
        if (Array.isArray(value) && value.length === 2) {
          row.set(key, value[1] ?? false);
          range.set(key, temporalRange(extra, groupbyField(key), value[0] ?? false));
        } else {
          row.set(key, value);
          range.set(key, false);
        }
      } else row.set(key, value);
    }
    if (!filled) aggregatesFirst();
    if (g.has('__fold')) row.set('__fold', g.get('__fold') ?? false);
    row.set('__domain', andDomains(call.domain, Array.isArray(extra) ? extra : []));
    if (rest.length) row.set('__context', new Map([['group_by', rest]]));
    if (range.size) row.set('__range', range);
    return row;
  });
}

/** `{from, to}` of a date group, read back from its `['&', (f, '>=', from), (f, '<', to)]` domain. */
function temporalRange(extra: Value, fname: string, start: Value): Struct {
  let from: Value = start;
  let to: Value = false;
  for (const term of andTerms(Array.isArray(extra) ? extra : [])) {
    const leaf = term.length === 1 ? term[0] : undefined;
    if (!Array.isArray(leaf) || leaf.length !== 3 || leaf[0] !== fname) continue;
    if (leaf[1] === '>=') from = leaf[2] ?? false;
    else if (leaf[1] === '<') to = leaf[2] ?? false;
  }
  return new Map<string, Value>([
    ['from', from],
    ['to', to],
  ]);
}

/**
 * `list(Domain(domain) & Domain(extra))`: both sides' top-level AND terms (implicit or `'&'`),
 * flattened, prefixed by one `'&'` fewer than there are terms.
 */
export function andDomains(domain: Value, extra: Value[]): Value[] {
  const terms = [...andTerms(Array.isArray(domain) ? domain : []), ...andTerms(extra)];
  return [...Array<Value>(Math.max(terms.length - 1, 0)).fill('&'), ...terms.flat(1)];
}

/** The top-level AND terms of a prefix-notation domain, each a slice of the list. */
function andTerms(list: readonly Value[]): Value[][] {
  let i = 0;
  // The end (exclusive) of the expression starting at `start`.
  const end = (start: number): number => {
    const op = list[start];
    if (op === '&' || op === '|') return end(end(start + 1));
    if (op === '!') return end(start + 1);
    return Math.min(start + 1, list.length);
  };
  const out: Value[][] = [];
  const flatten = (start: number, stop: number): void => {
    if (start >= stop) return;
    if (list[start] === '&' && stop > start + 1) {
      const mid = end(start + 1);
      flatten(start + 1, mid);
      flatten(mid, stop);
    } else out.push(list.slice(start, stop));
  };
  while (i < list.length) {
    const e = Math.max(end(i), i + 1);
    flatten(i, e);
    i = e;
  }
  return out;
}
