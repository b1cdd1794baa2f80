/**
 * The fake's data model: databases, models, fields and records, access rights, and how a stored
 * value reads (display names, computed one2many, res.users fields delegated to the partner).
 */
import { accessError, notImplemented, type OdooError } from './fake-odoo-errors.ts';
import { clone, float, numeric, PyTuple, truthy, type PyDict, type PyJson } from './fake-odoo-json.ts';
import type { MethodSig } from './fake-odoo-signatures.ts';
export type Operation = 'read' | 'write' | 'create' | 'unlink';
/** Stored values of one record, by field name (`id` included). Many2one = id or false. */
export type FakeRecord = PyDict;

export interface FakeField {
  name: string;
  type: string;
  relation: string | null;
  /** For a one2many: the many2one on the comodel that points back. */
  relationField: string | null;
  /** What `fields_get()` answers for this field (attribute order kept). */
  description: PyDict;
}

export interface FakeModel {
  name: string;
  /** `ir.model` name, used in access errors ('Contact', 'System Parameter'). */
  description: string;
  /** `_order`. */
  order: string;
  /** `_rec_name`. */
  recName: string;
  /** `_rec_names_search`: the fields `display_name` searches. */
  recNamesSearch: string[];
  fields: Map<string, FakeField>;
  /** Fields the real model has (api_doc index) that the fake does not model. */
  unmodelledFields: Set<string>;
  /** Public methods callable over JSON-2, with their signatures. */
  methods: Map<string, MethodSig>;
  /** Public method names the real model has but whose signature the fake does not know. */
  unmodelledMethods: Set<string>;
  /** Field defaults for create()/default_get(). */
  defaults: PyDict;
  /** Groups (xml ids) granted each operation by the model's ACLs, in the order Odoo lists them. */
  access: Record<Operation, string[]>;
  records: Map<number, FakeRecord>;
  /** The next id the table's sequence gives (failed inserts consume ids too, like PostgreSQL). */
  nextId: number;
  /** The `/doc-bearer/<model>.json` body. */
  doc: PyDict;
}

export interface FakeDatabase {
  name: string;
  models: Record<string, FakeModel>;
  /** Every model name the real database has, implemented by the fake or not. */
  registry: Map<string, { methods: Set<string> }>;
  /** Groups (xml ids) of each user id. */
  userGroups: Map<number, Set<string>>;
  /** Display names of groups, as access errors print them. */
  groupNames: Record<string, string>;
  /** `/doc-bearer/index.json` body. */
  docIndex: PyDict;
}

export interface Env {
  db: FakeDatabase;
  uid: number;
  context: PyDict;
}

export const SUPERUSER = 1;
/** The languages installed in the captured databases. */
export const INSTALLED_LANGS = ['en_US'];

// ---------------------------------------------------------------------------------------------
// Small helpers

export function nowString(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

export function modelOf(env: Env, name: string): FakeModel {
  const m = env.db.models[name];
  if (!m) throw notImplemented(`the model '${name}'`);
  return m;
}

export function fieldOf(model: FakeModel, name: string): FakeField | undefined {
  return model.fields.get(name);
}

/** The "Invalid field" check every ORM entry point does; unmodelled fields fail loudly. */
export function requireField(model: FakeModel, name: string, error: () => OdooError): FakeField {
  const f = model.fields.get(name);
  if (f) return f;
  if (model.unmodelledFields.has(name)) throw notImplemented(`the field ${model.name}.${name}`);
  throw error();
}

export function asIds(v: PyJson | undefined): number[] {
  if (v === undefined || v === null || v === false) return [];
  if (typeof v === 'number') return [v];
  const list = v instanceof PyTuple ? v.items : v;
  if (Array.isArray(list)) return list.map((x) => Number(numeric(x)));
  return [];
}

export function idsRepr(ids: number[]): string {
  return ids.length === 1 ? `(${ids[0]},)` : `(${ids.join(', ')})`;
}

export function activeTest(env: Env): boolean {
  return env.context.active_test !== false;
}

export const collator = new Intl.Collator('en-US');

// ---------------------------------------------------------------------------------------------
// Access rights

export function hasAccess(env: Env, model: FakeModel, op: Operation): boolean {
  if (env.uid === SUPERUSER) return true;
  const groups = env.db.userGroups.get(env.uid) ?? new Set<string>();
  return model.access[op].some((g) => groups.has(g));
}

const ACCESS_VERB: Record<Operation, string> = {
  read: 'access',
  write: 'modify',
  create: 'create',
  unlink: 'delete',
};

/** `ir.model.access._make_access_error`. */
export function checkAccess(env: Env, model: FakeModel, op: Operation): void {
  if (hasAccess(env, model, op)) return;
  const groups = model.access[op].map((g) => `\t- ${env.db.groupNames[g] ?? g}`).join('\n');
  const groupInfo = groups
    ? `This operation is allowed for the following groups:\n${groups}`
    : 'No group currently allows this operation.';
  throw accessError(
    `You are not allowed to ${ACCESS_VERB[op]} '${model.description}' (${model.name}) records.\n\n${groupInfo}\n\nContact your administrator to request access if necessary.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Values

/** Value of a field that is not stored: the type's empty value, as Odoo reads it. */
export function emptyValue(type: string): PyJson {
  switch (type) {
    case 'boolean':
      return false;
    case 'integer':
      return 0;
    case 'float':
    case 'monetary':
      return float(0);
    case 'one2many':
    case 'many2many':
    case 'properties':
      return [];
    default:
      return false;
  }
}

/** res.partner `commercial_partner_id`: the first company up the parents, or the top parent. */
function partnerCommercial(env: Env, rec: FakeRecord): FakeRecord {
  const partners = env.db.models['res.partner'];
  let cur = rec;
  while (!cur.is_company && typeof cur.parent_id === 'number') {
    const parent = partners?.records.get(cur.parent_id);
    if (!parent) break;
    cur = parent;
  }
  return cur;
}

/** res.partner `commercial_company_name`: the commercial partner's name if it is a company. */
function partnerCommercialCompanyName(env: Env, rec: FakeRecord): PyJson {
  const commercial = partnerCommercial(env, rec);
  return commercial.is_company ? (commercial.name ?? false) : (rec.company_name ?? false);
}

/** res.partner `complete_name` (`_get_complete_name`), which is also its display name. */
function partnerCompleteName(env: Env, rec: FakeRecord): string {
  const partners = env.db.models['res.partner'];
  let name = typeof rec.name === 'string' ? rec.name : '';
  const parent = typeof rec.parent_id === 'number' ? partners?.records.get(rec.parent_id) : undefined;
  if (rec.company_name || parent) {
    const displayed: Record<string, string> = { invoice: 'Invoice', delivery: 'Delivery', other: 'Other' };
    if (!name && typeof rec.type === 'string' && displayed[rec.type]) name = displayed[rec.type] as string;
    if (!rec.is_company) {
      const company = partnerCommercialCompanyName(env, rec);
      name = `${truthy(company) ? String(company) : typeof parent?.name === 'string' ? parent.name : ''}, ${name}`;
    }
  }
  return name.trim();
}

/** The res.partner computed fields the fake computes (the others read as empty values). */
function partnerComputed(env: Env, rec: FakeRecord, fname: string): PyJson | undefined {
  switch (fname) {
    case 'complete_name':
      return partnerCompleteName(env, rec);
    case 'commercial_partner_id':
      return partnerCommercial(env, rec).id ?? false;
    case 'commercial_company_name':
      return partnerCommercialCompanyName(env, rec);
    case 'company_type':
      return rec.is_company ? 'company' : 'person';
    case 'parent_name': {
      const parent =
        typeof rec.parent_id === 'number'
          ? env.db.models['res.partner']?.records.get(rec.parent_id)
          : undefined;
      return parent?.name ?? false;
    }
    case 'email_normalized':
      return typeof rec.email === 'string' && /^[^@\s]+@[^@\s]+$/.test(rec.email.trim())
        ? rec.email.trim().toLowerCase()
        : false;
    default:
      return undefined;
  }
}

/** `display_name` of a record (false when it does not exist). */
export function displayName(env: Env, modelName: string, id: number): string | false {
  const model = env.db.models[modelName];
  const rec = model?.records.get(id);
  if (!model || !rec) return false;
  if (modelName === 'res.partner') return partnerCompleteName(env, rec);
  if (modelName === 'res.users') {
    const partner =
      typeof rec.partner_id === 'number'
        ? env.db.models['res.partner']?.records.get(rec.partner_id)
        : undefined;
    return typeof partner?.name === 'string' ? partner.name : '';
  }
  const v = rec[model.recName];
  return typeof v === 'string' ? v : v === undefined || v === false || v === null ? '' : String(v);
}

/** res.users delegates these to its partner (`_inherits`). */
export const USER_DELEGATED = new Set(['name', 'email', 'phone', 'tz', 'lang', 'image_128']);

/** The raw value of a field on a stored record (many2one = id, x2many = ids). */
export function rawValue(env: Env, model: FakeModel, rec: FakeRecord, fname: string): PyJson {
  const field = fieldOf(model, fname);
  if (fname === 'id') return rec.id ?? false;
  if (fname === 'display_name') return displayName(env, model.name, Number(rec.id));
  if (model.name === 'res.partner') {
    const computed = partnerComputed(env, rec, fname);
    if (computed !== undefined) return computed;
  }
  if (model.name === 'res.users' && USER_DELEGATED.has(fname) && typeof rec.partner_id === 'number') {
    const partner = env.db.models['res.partner']?.records.get(rec.partner_id);
    const v = partner?.[fname];
    return v === undefined ? emptyValue(field?.type ?? 'char') : v;
  }
  if (field?.type === 'one2many' && field.relation && field.relationField && env.db.models[field.relation]) {
    const comodel = env.db.models[field.relation] as FakeModel;
    const inverse = field.relationField;
    const fieldDomain = field.description.domain;
    const onlyActive =
      Array.isArray(fieldDomain) &&
      fieldDomain.some((c) => Array.isArray(c) && c[0] === 'active' && c[2] === true);
    const ids: number[] = [];
    for (const [id, r] of comodel.records) {
      if (r[inverse] !== rec.id) continue;
      if ((onlyActive || comodel.fields.has('active')) && r.active === false) continue;
      ids.push(id);
    }
    return ids.sort((a, b) => a - b);
  }
  const v = rec[fname];
  if (v === undefined) return emptyValue(field?.type ?? 'char');
  return v;
}

/** A field value as `read()` formats it. `load` other than '_classic_read' keeps many2one ids. */
export function readValue(env: Env, model: FakeModel, rec: FakeRecord, fname: string, load: PyJson): PyJson {
  const v = rawValue(env, model, rec, fname);
  const field = fieldOf(model, fname);
  if (field?.type === 'many2one' && typeof v === 'number' && load === '_classic_read' && field.relation) {
    const name = displayName(env, field.relation, v);
    return [v, name === false ? '' : name];
  }
  return clone(v);
}
