/**
 * Domains and search: `Domain(...)` parsing with Odoo 19's errors, evaluation over the
 * in-memory records, `order` parsing and sorting, the implicit `active` filter.
 */
import { builtinError, notImplemented, userError } from './fake-odoo-errors.ts';
import { numeric, pyEquals, pyRepr, PyTuple, truthy, type PyJson } from './fake-odoo-json.ts';
import {
  activeTest,
  asIds,
  checkAccess,
  collator,
  displayName,
  fieldOf,
  rawValue,
  requireField,
  type Env,
  type FakeField,
  type FakeModel,
  type FakeRecord,
} from './fake-odoo-model.ts';
// ---------------------------------------------------------------------------------------------
// Domains

type DomainNode =
  | { kind: 'const'; value: boolean }
  | { kind: 'and' | 'or'; children: DomainNode[] }
  | { kind: 'not'; child: DomainNode }
  | { kind: 'cond'; field: string; op: string; value: PyJson; orig: [PyJson, PyJson, PyJson] };

const OPERATORS = new Set([
  'any',
  'not any',
  'in',
  'not in',
  '<',
  '>',
  '<=',
  '>=',
  'like',
  'not like',
  'ilike',
  'not ilike',
  '=like',
  'not =like',
  '=ilike',
  'not =ilike',
  '=?',
  '<>',
  '==',
  '=',
  '!=',
  'parent_of',
  'child_of',
]);

function condRepr(c: [PyJson, PyJson, PyJson]): string {
  return `(${pyRepr(c[0])}, ${pyRepr(c[1])}, ${pyRepr(c[2])})`;
}

/** `Domain(domain)`: structure checks, with Odoo 19's messages. */
export function parseDomain(domain: PyJson | undefined): DomainNode {
  if (domain === true || (Array.isArray(domain) && domain.length === 0))
    return { kind: 'const', value: true };
  if (domain === false) return { kind: 'const', value: false };
  const list = domain instanceof PyTuple ? domain.items : domain;
  if (!Array.isArray(list))
    throw builtinError('TypeError', `Domain() invalid argument type for domain: ${pyRepr(domain)}`);
  const stack: DomainNode[] = [];
  const malformed = () => builtinError('ValueError', `Domain() malformed domain ${pyRepr(domain)}`);
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i] as PyJson;
    const leaf = item instanceof PyTuple ? item.items : item;
    if (Array.isArray(leaf) && leaf.length === 3) {
      const [f, op, value] = leaf as [PyJson, PyJson, PyJson];
      if (typeof f !== 'string') {
        if (pyEquals(leaf, [1, '=', 1])) stack.push({ kind: 'const', value: true });
        else if (pyEquals(leaf, [0, '=', 1])) stack.push({ kind: 'const', value: false });
        else throw builtinError('TypeError', `Domain() invalid arguments: ${pyRepr(new PyTuple(leaf))}`);
        continue;
      }
      if (!f) throw builtinError('TypeError', `Empty field name in condition ${condRepr([f, op, value])}`);
      if (typeof op !== 'string')
        throw builtinError(
          'AttributeError',
          `'${op === null ? 'NoneType' : typeof op === 'boolean' ? 'bool' : typeof op === 'number' ? 'int' : 'list'}' object has no attribute 'lower'`,
        );
      const lop = op.toLowerCase();
      if (!OPERATORS.has(lop))
        throw builtinError('ValueError', `Invalid operator in condition ${condRepr([f, op, value])}`);
      stack.push({
        kind: 'cond',
        field: f,
        op: lop,
        value: value === null ? false : value,
        orig: [f, op, value],
      });
    } else if (item === '&' || item === '|') {
      const a = stack.pop();
      const b = stack.pop();
      if (!a || !b) throw malformed();
      stack.push({ kind: item === '&' ? 'and' : 'or', children: [a, b] });
    } else if (item === '!') {
      const a = stack.pop();
      if (!a) throw malformed();
      stack.push({ kind: 'not', child: a });
    } else {
      throw builtinError('ValueError', `Domain() invalid item in domain: ${pyRepr(item)}`);
    }
  }
  if (stack.length === 1) return stack[0] as DomainNode;
  return { kind: 'and', children: stack.reverse() };
}

function domainMentions(node: DomainNode, fname: string): boolean {
  switch (node.kind) {
    case 'const':
      return false;
    case 'cond':
      return node.field === fname;
    case 'not':
      return domainMentions(node.child, fname);
    default:
      return node.children.some((c) => domainMentions(c, fname));
  }
}

/** The field checks Odoo does while optimizing a domain ("Invalid field m.f in condition …"). */
export function validateDomain(env: Env, model: FakeModel, node: DomainNode): void {
  if (node.kind === 'const') return;
  if (node.kind === 'not') return validateDomain(env, model, node.child);
  if (node.kind !== 'cond') return node.children.forEach((c) => validateDomain(env, model, c));
  const [head, ...rest] = node.field.split('.') as [string, ...string[]];
  const field = requireField(model, head, () =>
    builtinError('ValueError', `Invalid field ${model.name}.${head} in condition ${condRepr(node.orig)}`),
  );
  if (!rest.length && node.op !== 'any' && node.op !== 'not any') return;
  // `a.b` and `any` are checked on the comodel, like Odoo does once it rewrote them.
  if (!field.relation) throw notImplemented(`the domain condition ${condRepr(node.orig)}`);
  const comodel = env.db.models[field.relation];
  if (!comodel) throw notImplemented(`the model '${field.relation}'`);
  const sub: DomainNode = rest.length
    ? { ...node, field: rest.join('.'), orig: [rest.join('.'), node.orig[1], node.orig[2]] }
    : parseDomain(node.value);
  validateDomain(env, comodel, sub);
}

function likeToRegExp(pattern: string, insensitive: boolean, wrap: boolean): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '%') re += '.*';
    else if (ch === '_') re += '.';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(wrap ? re : `^${re}$`, insensitive ? 'is' : 's');
}

export function compare(a: PyJson, b: PyJson): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== null && nb !== null && typeof a !== 'string' && typeof b !== 'string') return na - nb;
  return collator.compare(String(a), String(b));
}

export function isSet(type: string, v: PyJson): boolean {
  if (type === 'boolean') return v === true;
  if (type === 'integer' || type === 'float' || type === 'monetary') return v !== false && v !== null;
  if (Array.isArray(v)) return v.length > 0;
  return v !== false && v !== null && v !== '';
}

function matchLike(op: string, candidates: PyJson[], value: PyJson): boolean {
  const insensitive = op.includes('ilike');
  const wrap = !op.includes('=');
  const re = likeToRegExp(String(value), insensitive, wrap);
  return candidates.some((c) => typeof c === 'string' && re.test(c));
}

/** Whether the record satisfies one condition. */
function evalCond(
  env: Env,
  model: FakeModel,
  rec: FakeRecord,
  node: Extract<DomainNode, { kind: 'cond' }>,
): boolean {
  const { op, value } = node;
  const [fname, ...rest] = node.field.split('.') as [string, ...string[]];
  const field = fieldOf(model, fname) as FakeField;
  const type = fname === 'id' ? 'integer' : field.type;

  if (op === '=?') return !truthy(value) || evalCond(env, model, rec, { ...node, op: '=' });
  if (op === '<>' || op === '==') return evalCond(env, model, rec, { ...node, op: op === '<>' ? '!=' : '=' });
  if (op.startsWith('not ') || op === '!=') {
    const positive = op === '!=' ? '=' : op.slice(4);
    return !evalCond(env, model, rec, { ...node, op: positive });
  }

  const relational = type === 'many2one' || type === 'one2many' || type === 'many2many';
  const raw = rawValue(env, model, rec, fname);
  const relIds = relational ? asIds(raw) : [];
  const comodel = relational && field.relation ? env.db.models[field.relation] : undefined;

  // Paths (`parent_id.name`) and `any` go through the comodel.
  if (rest.length || op === 'any') {
    if (!relational) throw notImplemented(`the domain condition ${condRepr(node.orig)}`);
    if (!comodel) throw notImplemented(`the model '${field.relation ?? ''}'`);
    const sub: DomainNode = rest.length
      ? { kind: 'cond', field: rest.join('.'), op, value, orig: node.orig }
      : parseDomain(value);
    return relIds.some((id) => {
      const r = comodel.records.get(id);
      return r !== undefined && evalNode(env, comodel, r, sub);
    });
  }
  if (op === 'child_of' || op === 'parent_of') {
    if (!model.fields.has('parent_id') || (fname !== 'id' && comodel !== model))
      throw notImplemented(`'${op}' on ${model.name}.${fname}`);
    const targets = new Set(asIds(value));
    const start = fname === 'id' ? [Number(rec.id)] : relIds;
    const chain = (id: number): number[] => {
      const out: number[] = [];
      let cur = model.records.get(id);
      while (cur) {
        out.push(Number(cur.id));
        cur = typeof cur.parent_id === 'number' ? model.records.get(cur.parent_id) : undefined;
      }
      return out;
    };
    if (op === 'child_of') return start.some((id) => chain(id).some((a) => targets.has(a)));
    return start.some((id) => [...targets].some((t) => chain(t).includes(id)));
  }

  if (op === 'like' || op === 'ilike' || op === '=like' || op === '=ilike') {
    if (value === false) return !isSet(type, raw);
    if (relational) {
      if (!field.relation) return false;
      return matchLike(
        op,
        relIds.map((id) => displayName(env, field.relation as string, id)),
        value,
      );
    }
    return matchLike(op, [raw], value);
  }

  if (op === '=' || op === 'in') {
    const wanted =
      op === 'in'
        ? value instanceof PyTuple
          ? value.items
          : Array.isArray(value)
            ? value
            : [value]
        : [value];
    return wanted.some((w) => {
      if (w === false || w === null) return !isSet(type, raw);
      if (relational) {
        if (typeof w === 'string')
          return relIds.some((id) => displayName(env, field.relation as string, id) === w);
        return relIds.includes(Number(numeric(w)));
      }
      return pyEquals(raw, w);
    });
  }

  if (op === '<' || op === '>' || op === '<=' || op === '>=') {
    const lhs = relational ? (relIds[0] ?? false) : raw;
    if (!isSet(type, lhs) && type !== 'boolean') return false;
    const c = compare(lhs, value);
    return op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
  }
  throw notImplemented(`the domain operator '${op}'`);
}

function evalNode(env: Env, model: FakeModel, rec: FakeRecord, node: DomainNode): boolean {
  switch (node.kind) {
    case 'const':
      return node.value;
    case 'and':
      return node.children.every((c) => evalNode(env, model, rec, c));
    case 'or':
      return node.children.some((c) => evalNode(env, model, rec, c));
    case 'not':
      return !evalNode(env, model, rec, node.child);
    case 'cond':
      return evalCond(env, model, rec, node);
  }
}

/** Splits a domain list into its top-level AND terms (nested '&' flattened), each as its items. */
function andTerms(list: PyJson[]): PyJson[][] {
  let i = 0;
  const term = (): [number, number] => {
    const start = i;
    const item = list[i++];
    if (item === '&' || item === '|') {
      term();
      term();
    } else if (item === '!') term();
    return [start, i];
  };
  const out: PyJson[][] = [];
  const flatten = (start: number, end: number): void => {
    if (list[start] === '&') {
      i = start + 1;
      const [a0, a1] = term();
      const [b0, b1] = term();
      flatten(a0, a1);
      flatten(b0, b1);
    } else out.push(list.slice(start, end));
  };
  while (i < list.length) {
    const [s, e] = term();
    flatten(s, e);
    i = e;
  }
  return out;
}

/** `list(Domain(domain) & Domain(extra))`, as read_group's `__domain` gives it. */
export function andDomains(domain: PyJson | undefined, extra: PyJson[]): PyJson[] {
  const terms = [...andTerms(Array.isArray(domain) ? domain : []), ...extra.map((c) => [c])];
  return [...Array<PyJson>(Math.max(terms.length - 1, 0)).fill('&'), ...terms.flat(1)];
}

// ---------------------------------------------------------------------------------------------
// Search

const ORDER_RE =
  /^(\s*(([a-z0-9_]+)(\.([a-z0-9_]+))?(:([a-z_]+))?)(\s+(desc|asc))?(\s+(nulls first|nulls last))?\s*(,|$))+(?<!,)$/i;
const ORDER_PART_RE =
  /^\s*([a-z0-9_]+)(?:\.([a-z0-9_]+))?(?::([a-z_]+))?(?:\s+(desc|asc))?(?:\s+(nulls first|nulls last))?\s*$/i;

interface OrderTerm {
  field: string;
  desc: boolean;
  nullsFirst: boolean;
}

function parseOrder(model: FakeModel, order: string): OrderTerm[] {
  if (!ORDER_RE.test(order)) {
    throw userError(
      `Invalid "order" specified (${order}). A valid "order" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)`,
    );
  }
  return order.split(',').map((part) => {
    const m = ORDER_PART_RE.exec(part) as RegExpExecArray;
    const fname = m[1] as string;
    requireField(model, fname, () =>
      builtinError('ValueError', `Invalid field ${pyRepr(fname)} on model ${pyRepr(model.name)}`),
    );
    const desc = (m[4] ?? '').toLowerCase() === 'desc';
    const nulls = (m[5] ?? '').toLowerCase();
    return { field: fname, desc, nullsFirst: nulls ? nulls === 'nulls first' : desc };
  });
}

function sortKey(env: Env, model: FakeModel, rec: FakeRecord, fname: string): PyJson {
  const field = fieldOf(model, fname);
  const v = rawValue(env, model, rec, fname);
  if (field?.type === 'many2one' && typeof v === 'number' && field.relation)
    return displayName(env, field.relation, v);
  return v;
}

function sortRecords(env: Env, model: FakeModel, recs: FakeRecord[], terms: OrderTerm[]): FakeRecord[] {
  return [...recs].sort((a, b) => {
    for (const t of terms) {
      const field = fieldOf(model, t.field);
      const type = t.field === 'id' ? 'integer' : (field?.type ?? 'char');
      const va = sortKey(env, model, a, t.field);
      const vb = sortKey(env, model, b, t.field);
      const na = type === 'boolean' ? false : !isSet(type, va);
      const nb = type === 'boolean' ? false : !isSet(type, vb);
      if (na !== nb) return na === t.nullsFirst ? -1 : 1;
      if (na && nb) continue;
      const c = type === 'boolean' ? Number(va === true) - Number(vb === true) : compare(va, vb);
      if (c !== 0) return t.desc ? -c : c;
    }
    return Number(a.id) - Number(b.id);
  });
}

export interface SearchOptions {
  offset?: PyJson | undefined;
  limit?: PyJson | undefined;
  order?: PyJson | undefined;
}

/** `_search`: access check, domain, implicit active filter, order, offset/limit. */
export function searchRecords(
  env: Env,
  model: FakeModel,
  domain: PyJson | undefined,
  opts: SearchOptions = {},
): FakeRecord[] {
  checkAccess(env, model, 'read');
  const node = parseDomain(domain);
  validateDomain(env, model, node);
  const terms = parseOrder(model, typeof opts.order === 'string' && opts.order ? opts.order : model.order);
  const filterActive = model.fields.has('active') && activeTest(env) && !domainMentions(node, 'active');
  let recs = [...model.records.values()].filter(
    (r) => (!filterActive || r.active !== false) && evalNode(env, model, r, node),
  );
  recs = sortRecords(env, model, recs, terms);
  const offset = Number(numeric(opts.offset ?? 0) ?? 0);
  // `LIMIT` is only added when the limit is truthy: `limit=0` means no limit.
  const limit = truthy(opts.limit) ? Number(numeric(opts.limit as PyJson)) : null;
  return recs.slice(offset, limit === null ? undefined : offset + limit);
}
