/**
 * The fake's ORM methods: read/write/create/unlink, grouping, web_read, name_search, and the
 * dispatch of the public methods JSON-2 can call. Behaviour follows Odoo 19 as the captures show it (and, where they are silent, as the
 * Odoo 19 source summarized in docs/wire.md describes it). Anything the fake does not model fails
 * with a `fake_odoo.NotImplemented` 500 instead of inventing an answer.
 */
import {
  builtinError,
  missingError,
  notImplemented,
  OdooError,
  userError,
  validationError,
} from './fake-odoo-errors.ts';
import {
  clone,
  float,
  isDict,
  JsonFloat,
  numeric,
  pyEquals,
  pyRepr,
  PyTuple,
  truthy,
  type PyDict,
  type PyJson,
} from './fake-odoo-json.ts';
import { argOf, type Bound, type MethodSig } from './fake-odoo-signatures.ts';

import { andDomains, compare, searchRecords } from './fake-odoo-domain.ts';
import {
  asIds,
  checkAccess,
  displayName,
  fieldOf,
  hasAccess,
  idsRepr,
  INSTALLED_LANGS,
  modelOf,
  nowString,
  rawValue,
  readValue,
  requireField,
  SUPERUSER,
  USER_DELEGATED,
  type Env,
  type FakeField,
  type FakeModel,
  type FakeRecord,
  type Operation,
} from './fake-odoo-model.ts';

export type { Env, FakeDatabase, FakeField, FakeModel, FakeRecord, Operation } from './fake-odoo-model.ts';
export { checkAccess } from './fake-odoo-model.ts';
// ---------------------------------------------------------------------------------------------
// Read

function fieldList(model: FakeModel, fields: PyJson | undefined): string[] | null {
  if (!truthy(fields)) return null;
  const list = fields instanceof PyTuple ? fields.items : fields;
  if (!Array.isArray(list)) throw builtinError('TypeError', `fields must be a list, got ${pyRepr(fields)}`);
  return list.map((f) => String(f));
}

/** `_read_format`: `{'id': …, <fields>…}` per existing record. */
function readFormat(
  env: Env,
  model: FakeModel,
  recs: FakeRecord[],
  fields: string[] | null,
  load: PyJson,
): PyDict[] {
  const names = fields ?? [...model.fields.keys()];
  for (const f of names) {
    requireField(model, f, () =>
      builtinError('ValueError', `Invalid field ${pyRepr(f)} on ${pyRepr(model.name)}`),
    );
  }
  return recs.map((rec) => {
    const out: PyDict = { id: rec.id ?? false };
    for (const f of names) out[f] = readValue(env, model, rec, f, load);
    return out;
  });
}

function existing(model: FakeModel, ids: number[]): FakeRecord[] {
  const seen = new Set<number>();
  const out: FakeRecord[] = [];
  for (const id of ids) {
    const r = model.records.get(id);
    if (r && !seen.has(id)) {
      seen.add(id);
      out.push(r);
    }
  }
  return out;
}

function missingRecordError(env: Env, model: FakeModel, ids: number[]): OdooError {
  return missingError(
    `Record does not exist or has been deleted.\n(Record: ${model.name}${idsRepr(ids)}, User: ${env.uid})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Write / create / unlink

/** Python's type name of a parsed value, for "'list' object has no attribute …" messages. */
function pyTypeName(v: PyJson): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return Number.isInteger(Number(v)) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof JsonFloat) return 'float';
  if (v instanceof PyTuple) return 'tuple';
  return Array.isArray(v) ? 'list' : 'dict';
}

function requireDict(vals: PyJson): PyDict {
  if (!isDict(vals))
    throw builtinError('AttributeError', `'${pyTypeName(vals)}' object has no attribute 'items'`);
  return vals;
}

function validateVals(model: FakeModel, vals: PyJson, error: (f: string) => OdooError): PyDict {
  const dict = requireDict(vals);
  for (const f of Object.keys(dict)) requireField(model, f, () => error(f));
  return dict;
}

/** Applies written values to a stored record (x2many commands only for stored many2many). */
function applyVals(model: FakeModel, rec: FakeRecord, vals: PyDict): void {
  for (const [fname, value] of Object.entries(vals)) {
    const field = model.fields.get(fname) as FakeField;
    if (fname === 'id' || fname === 'display_name' || fname === 'complete_name') continue;
    if (field.type === 'many2one') {
      rec[fname] = value === false || value === null ? false : Number(numeric(value));
    } else if (field.type === 'one2many' || field.type === 'many2many') {
      if (field.type === 'one2many' && field.relationField)
        throw notImplemented(`writing the one2many ${model.name}.${fname}`);
      let ids = asIds(rec[fname]);
      for (const cmd of Array.isArray(value) ? value : []) {
        const c = Array.isArray(cmd) ? cmd : [];
        const code = numeric(c[0]);
        if (code === 6) ids = asIds(c[2]);
        else if (code === 5) ids = [];
        else if (code === 4) ids = [...new Set([...ids, Number(numeric(c[1]))])];
        else if (code === 3) ids = ids.filter((x) => x !== Number(numeric(c[1])));
        else throw notImplemented(`the x2many command ${pyRepr(cmd)}`);
      }
      rec[fname] = ids;
    } else if ((field.type === 'float' || field.type === 'monetary') && typeof value === 'number') {
      rec[fname] = float(value);
    } else {
      rec[fname] = clone(value);
    }
  }
}

function checkPartnerName(rec: FakeRecord): void {
  const type = typeof rec.type === 'string' ? rec.type : 'contact';
  if (type === 'contact' && !truthy(rec.name)) {
    // The CHECK constraint res_partner_check_name, turned into a ValidationError by `retrying`.
    throw validationError('The operation cannot be completed: Contacts require a name');
  }
}

const USER_SELF_WRITEABLE = new Set([
  'signature',
  'action_id',
  'company_id',
  'email',
  'name',
  'image_1920',
  'lang',
  'tz',
  'api_key_ids',
  'phone',
]);

export function write(env: Env, model: FakeModel, ids: number[], vals: PyJson): true {
  if (!ids.length) return true;
  if (model.name === 'res.partner') {
    // res.partner.write reads `partner[fname]` for every written field before anything else:
    // an unknown name is a KeyError, a missing record a MissingError.
    const dict = requireDict(vals);
    for (const id of ids) {
      for (const f of Object.keys(dict)) {
        if (!model.fields.has(f)) {
          if (model.unmodelledFields.has(f)) throw notImplemented(`the field ${model.name}.${f}`);
          throw new OdooError(500, 'builtins.KeyError', f, [f]);
        }
      }
      if (!model.records.has(id)) throw missingRecordError(env, model, [id]);
    }
  }
  const selfWrite =
    model.name === 'res.users' &&
    ids.length === 1 &&
    ids[0] === env.uid &&
    isDict(vals) &&
    Object.keys(vals).every((f) => USER_SELF_WRITEABLE.has(f));
  if (!selfWrite) checkAccess(env, model, 'write');
  const checked = validateVals(model, vals, (f) =>
    builtinError('ValueError', `Invalid field ${pyRepr(f)} in ${pyRepr(model.name)}`),
  );
  const missing = ids.filter((id) => !model.records.has(id));
  if (missing.length) throw missingRecordError(env, model, missing);
  if (model.name === 'res.users') {
    const partnerVals: PyDict = {};
    const userVals: PyDict = {};
    for (const [k, v] of Object.entries(checked)) (USER_DELEGATED.has(k) ? partnerVals : userVals)[k] = v;
    const partners = modelOf(env, 'res.partner');
    for (const id of ids) {
      const rec = model.records.get(id) as FakeRecord;
      applyVals(model, rec, userVals);
      const partner = typeof rec.partner_id === 'number' ? partners.records.get(rec.partner_id) : undefined;
      if (partner && Object.keys(partnerVals).length) applyVals(partners, partner, partnerVals);
      rec.write_date = nowString();
    }
    return true;
  }
  // All or nothing: check on copies first.
  const updated = ids.map((id) => {
    const copy = clone(model.records.get(id) as FakeRecord) as FakeRecord;
    applyVals(model, copy, checked);
    if (model.name === 'res.partner') checkPartnerName(copy);
    copy.write_date = nowString();
    return copy;
  });
  for (const rec of updated) model.records.set(Number(rec.id), rec);
  return true;
}

function contextDefaults(env: Env, model: FakeModel): PyDict {
  const out: PyDict = {};
  for (const [k, v] of Object.entries(env.context)) {
    if (k.startsWith('default_') && model.fields.has(k.slice(8))) out[k.slice(8)] = v;
  }
  return out;
}

export function create(env: Env, model: FakeModel, valsList: PyJson): number[] {
  checkAccess(env, model, 'create');
  const list = isDict(valsList) ? [valsList] : valsList instanceof PyTuple ? valsList.items : valsList;
  if (!Array.isArray(list))
    throw builtinError('TypeError', `create() expects a dict or a list of dicts, got ${pyRepr(valsList)}`);
  if (model.name === 'res.users') throw notImplemented('res.users.create (it also creates a partner)');
  if (model.name === 'sale.order') throw notImplemented('sale.order.create (sequence, computed amounts)');
  const now = nowString();
  const created: FakeRecord[] = [];
  for (const vals of list) {
    const checked = validateVals(model, vals, (f) =>
      builtinError('ValueError', `Invalid field ${pyRepr(f)} on model ${pyRepr(model.name)}`),
    );
    // PostgreSQL hands out the id when the row is inserted, even if the insert then fails.
    const id = model.nextId++;
    const rec: FakeRecord = { id };
    applyVals(model, rec, {
      ...(clone(model.defaults) as PyDict),
      ...contextDefaults(env, model),
      ...checked,
    });
    if (model.name === 'res.partner') {
      const parent = typeof rec.parent_id === 'number' ? model.records.get(rec.parent_id) : undefined;
      if (parent && rec.type === 'contact' && !('country_id' in checked))
        rec.country_id = parent.country_id ?? false;
      checkPartnerName(rec);
    }
    rec.create_date = now;
    rec.write_date = now;
    if (model.fields.has('create_uid')) rec.create_uid = env.uid;
    if (model.fields.has('write_uid')) rec.write_uid = env.uid;
    created.push(rec);
  }
  for (const rec of created) model.records.set(Number(rec.id), rec);
  return created.map((r) => Number(r.id));
}

export function unlink(env: Env, model: FakeModel, ids: number[]): true {
  if (!ids.length) return true;
  checkAccess(env, model, 'unlink');
  if (model.name === 'res.users') {
    if (ids.includes(SUPERUSER)) {
      throw userError(
        'You can not remove the admin user as it is used internally for resources created by Odoo (updates, module installation, ...)',
      );
    }
    if (ids.includes(2)) {
      throw userError(
        'You cannot delete the admin user because it is utilized in various places (such as security configurations,...). Instead, archive it.',
      );
    }
    throw notImplemented('res.users.unlink of other users');
  }
  if (model.name === 'res.partner') {
    const users = env.db.models['res.users'];
    for (const u of users?.records.values() ?? []) {
      if (ids.includes(Number(u.partner_id)))
        throw notImplemented('deleting a partner that a user refers to (foreign key error)');
    }
    for (const rec of model.records.values()) {
      if (typeof rec.parent_id === 'number' && ids.includes(rec.parent_id)) rec.parent_id = false;
    }
  }
  for (const id of ids) model.records.delete(id);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Grouping

interface Group {
  key: PyJson[];
  recs: FakeRecord[];
}

function groupValue(env: Env, model: FakeModel, rec: FakeRecord, spec: string): PyJson {
  const [fname, gran] = spec.split(':') as [string, string | undefined];
  const field = requireField(model, fname, () =>
    builtinError('ValueError', `Invalid field ${pyRepr(fname)} on model ${pyRepr(model.name)}`),
  );
  if (gran !== undefined || field.type === 'date' || field.type === 'datetime')
    throw notImplemented(`grouping by the date field ${spec}`);
  if (field.type === 'one2many' || field.type === 'many2many')
    throw notImplemented(`grouping by the x2many field ${spec}`);
  const v = rawValue(env, model, rec, fname);
  if (field.type === 'boolean') return v === true;
  return v === null ? false : v;
}

function groupRecords(env: Env, model: FakeModel, recs: FakeRecord[], groupby: string[]): Group[] {
  const groups: Group[] = [];
  for (const rec of recs) {
    const key = groupby.map((g) => groupValue(env, model, rec, g));
    const g = groups.find((x) => x.key.every((k, i) => pyEquals(k, key[i] as PyJson)));
    if (g) g.recs.push(rec);
    else groups.push({ key, recs: [rec] });
  }
  // Default order: by the groupby values (booleans false first, empty values last, many2one by
  // name).
  groups.sort((a, b) => {
    for (let i = 0; i < groupby.length; i++) {
      const field = fieldOf(model, (groupby[i] as string).split(':')[0] as string) as FakeField;
      let va = a.key[i] as PyJson;
      let vb = b.key[i] as PyJson;
      if (field.type === 'boolean') {
        const c = Number(va) - Number(vb);
        if (c) return c;
        continue;
      }
      if (va === false || vb === false) {
        if (va === vb) continue;
        return va === false ? 1 : -1;
      }
      if (field.type === 'many2one' && field.relation) {
        va = displayName(env, field.relation, Number(va));
        vb = displayName(env, field.relation, Number(vb));
      }
      const c = compare(va, vb);
      if (c) return c;
    }
    return 0;
  });
  return groups;
}

function groupLabel(env: Env, model: FakeModel, spec: string, value: PyJson): PyJson {
  const field = fieldOf(model, spec.split(':')[0] as string) as FakeField;
  if (field.type === 'many2one' && typeof value === 'number' && field.relation) {
    return [value, displayName(env, field.relation, value) || ''];
  }
  return value;
}

function aggregate(env: Env, model: FakeModel, recs: FakeRecord[], fname: string, func: string): PyJson {
  if (fname === '__count' || func === 'count') return recs.length;
  const field = requireField(model, fname, () =>
    builtinError('ValueError', `Invalid field ${pyRepr(fname)} on model ${pyRepr(model.name)}`),
  );
  const values = recs.map((r) => rawValue(env, model, r, fname));
  const nums = values.map((v) => numeric(v) ?? 0);
  const isFloat = field.type === 'float' || field.type === 'monetary';
  const wrap = (n: number): PyJson => (isFloat ? float(n) : n);
  switch (func) {
    case 'sum':
      return wrap(nums.reduce((a, b) => a + b, 0));
    case 'avg':
      return nums.length ? float(nums.reduce((a, b) => a + b, 0) / nums.length) : null;
    case 'min':
      return nums.length ? wrap(Math.min(...nums)) : null;
    case 'max':
      return nums.length ? wrap(Math.max(...nums)) : null;
    case 'count_distinct':
      return new Set(values.map((v) => JSON.stringify(v instanceof JsonFloat ? v.value : v))).size;
    default:
      throw notImplemented(`the aggregate '${func}'`);
  }
}

function readGroup(env: Env, model: FakeModel, bound: Bound, sig: MethodSig): PyJson {
  const domain = argOf(sig, bound, 'domain');
  let groupby = argOf(sig, bound, 'groupby');
  const fields = asList(argOf(sig, bound, 'fields'));
  const lazy = argOf(sig, bound, 'lazy') !== false;
  if (typeof groupby === 'string') groupby = [groupby];
  const gbAll = asList(groupby).map(String);
  const gb = lazy ? gbAll.slice(0, 1) : gbAll;
  const countKey = lazy && gb.length === 1 ? `${(gb[0] as string).split(':')[0] as string}_count` : '__count';
  const aggs: [string, string, string][] = [];
  for (const spec of fields.map(String)) {
    if (spec === '__count') continue;
    const m = /^(\w+)(?::(\w+)(?:\((\w+)\))?)?$/.exec(spec);
    if (!m) throw builtinError('ValueError', `Invalid field specification ${pyRepr(spec)}.`);
    const [, name, func, fname] = m as unknown as [string, string, string | undefined, string | undefined];
    if (fname) aggs.push([name, fname, func as string]);
    else if (func) aggs.push([name, name, func]);
    else {
      const field = requireField(model, name, () =>
        builtinError('ValueError', `Invalid field ${pyRepr(name)} on model ${pyRepr(model.name)}`),
      );
      const agg = field.description.aggregator;
      if (typeof agg === 'string' && field.description.store !== false && !gb.includes(name))
        aggs.push([name, name, agg]);
    }
  }
  const recs = searchRecords(env, model, domain);
  let groups = groupRecords(env, model, recs, gb);
  if (truthy(argOf(sig, bound, 'orderby'))) throw notImplemented('read_group with orderby');
  const offset = Number(numeric(argOf(sig, bound, 'offset') ?? 0) ?? 0);
  const limit = argOf(sig, bound, 'limit');
  groups = groups.slice(offset, truthy(limit) ? offset + Number(numeric(limit as PyJson)) : undefined);
  return groups.map((g) => {
    const row: PyDict = {};
    gb.forEach((spec, i) => (row[spec] = groupLabel(env, model, spec, g.key[i] as PyJson)));
    row[countKey] = g.recs.length;
    for (const [name, fname, func] of aggs) row[name] = aggregate(env, model, g.recs, fname, func);
    row.__domain = andDomains(
      domain,
      gb.map((spec, i) => [spec.split(':')[0] as string, '=', g.key[i] as PyJson]),
    );
    if (gb.length < gbAll.length) row.__context = { group_by: gbAll.slice(gb.length) };
    return row;
  });
}

function formattedReadGroup(env: Env, model: FakeModel, bound: Bound, sig: MethodSig): PyJson {
  const groupby = asList(argOf(sig, bound, 'groupby')).map(String);
  const aggregates = asList(argOf(sig, bound, 'aggregates')).map(String);
  if (truthy(argOf(sig, bound, 'having'))) throw notImplemented('formatted_read_group with having');
  if (truthy(argOf(sig, bound, 'order'))) throw notImplemented('formatted_read_group with order');
  const recs = searchRecords(env, model, argOf(sig, bound, 'domain'));
  let groups = groupby.length ? groupRecords(env, model, recs, groupby) : [{ key: [], recs }];
  const offset = Number(numeric(argOf(sig, bound, 'offset') ?? 0) ?? 0);
  const limit = argOf(sig, bound, 'limit');
  groups = groups.slice(offset, truthy(limit) ? offset + Number(numeric(limit as PyJson)) : undefined);
  return groups.map((g) => {
    const row: PyDict = {};
    const extra: PyJson[] = [];
    groupby.forEach((spec, i) => {
      row[spec] = groupLabel(env, model, spec, g.key[i] as PyJson);
      extra.push([spec, '=', g.key[i] as PyJson]);
    });
    row.__extra_domain = andDomains([], extra);
    for (const spec of aggregates) row[spec] = aggregate(env, model, g.recs, ...aggregateSpec(model, spec));
    return row;
  });
}

/** `_read_group`'s aggregate spec check: `'<field>:<agg>'` or `'__count'`. */
function aggregateSpec(model: FakeModel, spec: string): [string, string] {
  if (spec === '__count') return ['__count', 'count'];
  const m = /^(\w+)(\.([\w.]+))?(?::(\w+))?$/.exec(spec);
  if (!m) throw builtinError('ValueError', `Invalid aggregate/groupby specification ${pyRepr(spec)}.`);
  const fname = m[1] as string;
  if (m[2]) throw builtinError('ValueError', `Invalid ${pyRepr(spec)}, this dot notation is not supported`);
  requireField(model, fname, () =>
    builtinError(
      'ValueError',
      `Invalid field ${pyRepr(fname)} on model ${pyRepr(model.name)} for ${pyRepr(spec)}.`,
    ),
  );
  if (!m[4]) throw builtinError('ValueError', `Aggregate method is mandatory for ${pyRepr(fname)}`);
  return [fname, m[4]];
}

function asList(v: PyJson | undefined): PyJson[] {
  if (v instanceof PyTuple) return v.items;
  if (Array.isArray(v)) return v;
  if (v === undefined || v === null || v === false) return [];
  return [v];
}

// ---------------------------------------------------------------------------------------------
// web_read / web_search_read

function webRead(env: Env, model: FakeModel, recs: FakeRecord[], specification: PyJson): PyDict[] {
  const spec = requireDict(specification);
  const names = Object.keys(spec).length ? Object.keys(spec) : ['id'];
  const rows =
    names.length === 1 && names[0] === 'id'
      ? recs.map((r) => ({ id: r.id ?? false }) as PyDict)
      : readFormat(env, model, recs, names, null);
  for (const [fname, fspec] of Object.entries(spec)) {
    const field = fieldOf(model, fname);
    if (!field || !isDict(fspec) || !('fields' in fspec)) continue;
    const sub = fspec.fields;
    if (!field.relation) continue;
    const comodel = modelOf(env, field.relation);
    const subSpec = isDict(sub) ? { ...sub } : {};
    const wantName = 'display_name' in subSpec;
    if (field.type === 'many2one') {
      delete subSpec.display_name;
      for (const row of rows) {
        const id = row[fname];
        if (typeof id !== 'number') continue;
        const [vals] = webRead(env, comodel, existing(comodel, [id]), subSpec);
        const out: PyDict = vals ?? { id };
        if (wantName) out.display_name = displayName(env, field.relation, id);
        row[fname] = out;
      }
    } else if (field.type === 'one2many' || field.type === 'many2many') {
      for (const row of rows) {
        const ids = asIds(row[fname]);
        const byId = new Map(
          webRead(env, comodel, existing(comodel, ids), subSpec).map((v) => [Number(v.id), v]),
        );
        row[fname] = ids.map((id) => byId.get(id) ?? { id });
      }
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// name_search / display_name search

function nameSearch(
  env: Env,
  model: FakeModel,
  name: PyJson,
  domain: PyJson | undefined,
  operator: PyJson,
  limit: PyJson | undefined,
): PyJson {
  if (
    model.name === 'res.users' &&
    truthy(name) &&
    typeof operator === 'string' &&
    !operator.startsWith('not') &&
    operator !== '!='
  ) {
    const byLogin = searchRecords(env, model, [
      '&',
      ['login', '=', name],
      ...(Array.isArray(domain) && domain.length ? domain : [[1, '=', 1]]),
    ]);
    if (byLogin[0]) return [[Number(byLogin[0].id), displayName(env, model.name, Number(byLogin[0].id))]];
  }
  const op = typeof operator === 'string' ? operator.toLowerCase() : 'ilike';
  const nameDomain: PyJson[] =
    op.endsWith('like') && !truthy(name) && !op.startsWith('not')
      ? []
      : model.recNamesSearch.length > 1
        ? [
            ...Array<PyJson>(model.recNamesSearch.length - 1).fill(
              op.startsWith('not') || op === '!=' ? '&' : '|',
            ),
            ...model.recNamesSearch.map((f) => [f, op, name]),
          ]
        : [[model.recNamesSearch[0] ?? model.recName, op, name]];
  const full =
    Array.isArray(domain) && domain.length
      ? ['&', ...(nameDomain.length ? nameDomain : [[1, '=', 1]]), ...domain]
      : nameDomain;
  const recs = searchRecords(env, model, full, { limit: limit ?? 100 });
  return recs.map((r) => [Number(r.id), displayName(env, model.name, Number(r.id))]);
}

// ---------------------------------------------------------------------------------------------
// Dispatch

export interface Call {
  env: Env;
  model: FakeModel;
  method: MethodSig;
  ids: number[];
  bound: Bound;
}

type Impl = (c: Call) => PyJson;

const arg = (c: Call, name: string): PyJson | undefined => argOf(c.method, c.bound, name);

const OPERATIONS = new Set<string>(['read', 'write', 'create', 'unlink']);

function operationArg(c: Call): Operation {
  const op = arg(c, 'operation');
  if (typeof op !== 'string' || !OPERATIONS.has(op))
    throw builtinError('ValueError', `Invalid access mode ${pyRepr(op)}`);
  return op as Operation;
}

const IMPLEMENTATIONS: Record<string, Impl> = {
  search: (c) =>
    searchRecords(c.env, c.model, arg(c, 'domain'), {
      offset: arg(c, 'offset'),
      limit: arg(c, 'limit'),
      order: arg(c, 'order'),
    }).map((r) => Number(r.id)),

  search_count: (c) => {
    const n = searchRecords(c.env, c.model, arg(c, 'domain')).length;
    const limit = arg(c, 'limit');
    return truthy(limit) ? Math.min(n, Number(numeric(limit as PyJson))) : n;
  },

  search_read: (c) => {
    const fields = fieldList(c.model, arg(c, 'fields'));
    const recs = searchRecords(c.env, c.model, truthy(arg(c, 'domain')) ? arg(c, 'domain') : [], {
      offset: arg(c, 'offset'),
      limit: arg(c, 'limit'),
      order: arg(c, 'order'),
    });
    if (fields) readFormat(c.env, c.model, [], fields, '_classic_read'); // field names checked first
    // search_read passes **read_kwargs on to `_read_format(fnames, load='_classic_read')`.
    let load: PyJson = '_classic_read';
    for (const [k, v] of c.bound.varKw) {
      if (k === 'load') load = v;
      else if (k === 'fnames')
        throw builtinError('TypeError', "BaseModel._read_format() got multiple values for argument 'fnames'");
      else
        throw builtinError('TypeError', `BaseModel._read_format() got an unexpected keyword argument '${k}'`);
    }
    return readFormat(c.env, c.model, recs, fields, load);
  },

  read: (c) => {
    const fields = fieldList(c.model, arg(c, 'fields'));
    if (c.ids.length) checkAccess(c.env, c.model, 'read');
    return readFormat(c.env, c.model, existing(c.model, c.ids), fields, arg(c, 'load') ?? '_classic_read');
  },

  write: (c) => write(c.env, c.model, c.ids, arg(c, 'vals') ?? null),
  create: (c) => create(c.env, c.model, arg(c, 'vals_list') ?? null),
  unlink: (c) => unlink(c.env, c.model, c.ids),

  copy: (c) => {
    const recs = c.ids.map((id) => {
      const r = c.model.records.get(id);
      if (!r) throw missingRecordError(c.env, c.model, [id]);
      return r;
    });
    if (c.model.name === 'res.users') throw notImplemented('res.users.copy');
    const defaults = arg(c, 'default');
    const valsList = recs.map((r) => {
      const vals: PyDict = {};
      for (const [k, v] of Object.entries(r)) {
        const f = c.model.fields.get(k);
        if (k === 'id' || k === 'create_date' || k === 'write_date' || !f || f.description.store === false)
          continue;
        if (f.type === 'one2many') continue;
        vals[k] = clone(v);
      }
      if (c.model.name === 'res.partner' && !(isDict(defaults) && truthy(defaults.name)))
        vals.name = `${String(r.name)} (copy)`;
      return { ...vals, ...(isDict(defaults) ? defaults : {}) };
    });
    return create(c.env, c.model, valsList);
  },

  fields_get: (c) => {
    const all = arg(c, 'allfields');
    const attrs = arg(c, 'attributes');
    const wanted = truthy(all) ? new Set(asList(all).map(String)) : null;
    const keep = truthy(attrs) ? new Set(asList(attrs).map(String)) : null;
    const out: PyDict = {};
    for (const [name, field] of c.model.fields) {
      if (wanted && !wanted.has(name)) continue;
      const desc: PyDict = {};
      for (const [k, v] of Object.entries(field.description)) if (!keep || keep.has(k)) desc[k] = clone(v);
      out[name] = desc;
    }
    return out;
  },

  name_search: (c) =>
    nameSearch(
      c.env,
      c.model,
      arg(c, 'name') ?? '',
      arg(c, 'domain'),
      arg(c, 'operator') ?? 'ilike',
      arg(c, 'limit'),
    ),

  name_create: (c) => {
    let name = String(arg(c, 'name') ?? '');
    const vals: PyDict = {};
    if (c.model.name === 'res.partner') {
      const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(name);
      if (m) {
        name = m[1] || (m[2] as string);
        vals.email = (m[2] as string).toLowerCase();
      } else if (/^[^\s@]+@[^\s@]+$/.test(name.trim())) {
        vals.email = name.trim().toLowerCase();
        name = name.trim();
      }
    }
    const [id] = create(c.env, c.model, { [c.model.recName]: name, ...vals });
    return [id as number, displayName(c.env, c.model.name, id as number)];
  },

  default_get: (c) => {
    const out: PyDict = {};
    const ctx = contextDefaults(c.env, c.model);
    for (const f of asList(arg(c, 'fields')).map(String)) {
      if (f in ctx) out[f] = ctx[f] as PyJson;
      else if (f in c.model.defaults) out[f] = clone(c.model.defaults[f] as PyJson);
    }
    return out;
  },

  has_access: (c) => hasAccess(c.env, c.model, operationArg(c)),

  check_access_rights: (c) => {
    const op = operationArg(c);
    if (arg(c, 'raise_exception') === false) return hasAccess(c.env, c.model, op);
    checkAccess(c.env, c.model, op);
    return null;
  },

  check_access_rule: (c) => {
    checkAccess(c.env, c.model, operationArg(c));
    return null;
  },

  action_archive: (c) => {
    const active = existing(c.model, c.ids)
      .filter((r) => r.active !== false)
      .map((r) => Number(r.id));
    write(c.env, c.model, active, { active: false });
    return null;
  },

  action_unarchive: (c) => {
    const inactive = existing(c.model, c.ids)
      .filter((r) => r.active === false)
      .map((r) => Number(r.id));
    write(c.env, c.model, inactive, { active: true });
    return null;
  },

  toggle_active: (c) => {
    const recs = existing(c.model, c.ids);
    write(
      c.env,
      c.model,
      recs.filter((r) => r.active !== false).map((r) => Number(r.id)),
      { active: false },
    );
    write(
      c.env,
      c.model,
      recs.filter((r) => r.active === false).map((r) => Number(r.id)),
      { active: true },
    );
    return null;
  },

  read_group: (c) => readGroup(c.env, c.model, c.bound, c.method),
  formatted_read_group: (c) => formattedReadGroup(c.env, c.model, c.bound, c.method),

  web_search_read: (c) => {
    const domain = arg(c, 'domain');
    const offset = Number(numeric(arg(c, 'offset') ?? 0) ?? 0);
    const limit = arg(c, 'limit');
    const countLimit = arg(c, 'count_limit');
    const recs = searchRecords(c.env, c.model, domain, { offset, limit, order: arg(c, 'order') });
    const records = webRead(c.env, c.model, recs, arg(c, 'specification') ?? null);
    if (!records.length) return { length: 0, records: [] };
    const current = records.length + offset;
    const limitReached = truthy(limit) && records.length === Number(numeric(limit as PyJson));
    const countLimitReached = truthy(countLimit) && Number(numeric(countLimit as PyJson)) <= current;
    let length = current;
    if (truthy(limit) && ((limitReached && !countLimitReached) || truthy(c.env.context.force_search_count))) {
      const n = searchRecords(c.env, c.model, domain).length;
      length = truthy(countLimit) ? Math.min(n, Number(numeric(countLimit as PyJson))) : n;
    }
    return { length, records };
  },

  web_read: (c) => {
    if (c.ids.length) checkAccess(c.env, c.model, 'read');
    return webRead(c.env, c.model, existing(c.model, c.ids), arg(c, 'specification') ?? null);
  },

  // res.users: `{'lang', 'tz', 'uid'}` from the user's own lang/tz (read(['lang', 'tz'])), lang
  // forced to an installed one, uid added (res_users.py, Odoo 19).
  context_get: (c) => {
    const users = modelOf(c.env, 'res.users');
    const user = users.records.get(c.env.uid);
    if (!user) return {} as PyDict;
    const lang = rawValue(c.env, users, user, 'lang');
    const tz = rawValue(c.env, users, user, 'tz');
    return {
      lang: typeof lang === 'string' && INSTALLED_LANGS.includes(lang) ? lang : 'en_US',
      tz: typeof tz === 'string' && tz ? tz : false,
      uid: c.env.uid,
    };
  },

  get_param: (c) => {
    checkAccess(c.env, c.model, 'read');
    const key = arg(c, 'key');
    const rec = [...c.model.records.values()].find((r) => r.key === key);
    return rec && truthy(rec.value) ? (rec.value as PyJson) : (arg(c, 'default') ?? false);
  },

  set_param: (c) => {
    const key = arg(c, 'key');
    const value = arg(c, 'value') ?? false;
    const rec = [...c.model.records.values()].find((r) => r.key === key);
    if (rec) {
      const old = rec.value ?? false;
      if (value === false || value === null) unlink(c.env, c.model, [Number(rec.id)]);
      else write(c.env, c.model, [Number(rec.id)], { value: String(value) });
      return old;
    }
    if (value !== false && value !== null)
      create(c.env, c.model, { key: key ?? false, value: String(value) });
    return false;
  },
};

/** Runs an already bound public method. */
export function execute(call: Call): PyJson {
  const impl = IMPLEMENTATIONS[call.method.name];
  if (!impl || (call.method.name === 'context_get' && call.model.name !== 'res.users')) {
    throw notImplemented(`the method ${call.model.name}.${call.method.name}`);
  }
  const isModelMethod = call.method.apiModel;
  // Record methods get the (possibly empty) recordset; model methods never see ids.
  return impl(isModelMethod ? { ...call, ids: [] } : call);
}
