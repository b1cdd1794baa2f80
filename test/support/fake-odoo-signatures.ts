/**
 * Method signatures, and the argument binding JSON-2 performs with them.
 *
 * Odoo 19's `/json/2/<model>/<method>` calls `inspect.signature(func).bind(records, **kwargs)`
 * and answers 422 with inspect's message when binding fails (docs/wire.md §4.4). The
 * signatures come from the api_doc files (`methods.<name>.signature` / `.parameters`, where an
 * absent `kind` means POSITIONAL_OR_KEYWORD and defaults are read from the signature string,
 * since a non-JSON default is omitted from `parameters`), plus a small built-in table for the
 * methods api_doc hides (deprecated ones such as `read_group`) and for models without a captured
 * doc.
 */
import { PyTuple, parsePyJson, type PyDict, type PyJson } from './fake-odoo-json.ts';

export type ParamKind =
  'POSITIONAL_ONLY' | 'POSITIONAL_OR_KEYWORD' | 'VAR_POSITIONAL' | 'KEYWORD_ONLY' | 'VAR_KEYWORD';

export interface Param {
  name: string;
  kind: ParamKind;
  /** Whether Python has a default for it (a required parameter has none). */
  hasDefault: boolean;
  /** The default as a value, when it can be expressed (`None`, `0`, `'ilike'`, `()`, …). */
  default?: PyJson;
}

export interface MethodSig {
  name: string;
  /** Parameters after `self`. */
  params: Param[];
  /** `@api.model`: JSON-2 refuses `ids` (422 "cannot call m.f with ids"). */
  apiModel: boolean;
  /** Hidden from api_doc (deprecated) but still callable. */
  hidden?: boolean;
  /** Parameters renamed by a test (`renameParam`): new name → the name the fake ORM reads. */
  renamed?: Record<string, string>;
}

/** Splits `a, b=(1, 2), c='x,y'` at its top-level commas. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quote) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Reads a Python literal as written by `repr()` in a signature (`None`, `'ilike'`, `()`, `80`). */
export function parsePyLiteral(text: string): PyJson | undefined {
  const t = text.trim();
  if (t === 'None') return null;
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (/^-?\d+$/.test(t)) return Number(t);
  if (t === '()') return new PyTuple([]);
  if (/^'[^'\\]*'$/.test(t)) return t.slice(1, -1);
  try {
    // Lists/dicts of simple literals read like JSON once Python's spellings are swapped.
    return parsePyJson(
      t
        .replace(/\bNone\b/g, 'null')
        .replace(/\bTrue\b/g, 'true')
        .replace(/\bFalse\b/g, 'false')
        .replace(/'/g, '"'),
    );
  } catch {
    return undefined;
  }
}

/** Builds a signature from one api_doc method entry. */
export function sigFromDoc(name: string, doc: PyDict): MethodSig {
  const signature = typeof doc.signature === 'string' ? doc.signature : '()';
  // "(domain, offset=0, limit=None) -> list[int]": take what is inside the outer parentheses.
  let depth = 0;
  let end = 0;
  for (let i = 0; i < signature.length; i++) {
    if (signature[i] === '(') depth++;
    else if (signature[i] === ')' && --depth === 0) {
      end = i;
      break;
    }
  }
  const defaults = new Map<string, string>();
  const names: string[] = [];
  for (const part of splitTopLevel(signature.slice(1, end))) {
    const eq = part.indexOf('=');
    const pname = (eq === -1 ? part : part.slice(0, eq)).trim();
    names.push(pname);
    if (eq !== -1) defaults.set(pname, part.slice(eq + 1));
  }
  const parameters = (doc.parameters ?? {}) as PyDict;
  const params: Param[] = [];
  for (const pname of Object.keys(parameters).length ? Object.keys(parameters) : names) {
    const p = (parameters[pname] ?? {}) as PyDict;
    const kind = (typeof p.kind === 'string' ? p.kind : 'POSITIONAL_OR_KEYWORD') as ParamKind;
    const hasDefault = 'default' in p || defaults.has(pname);
    const param: Param = { name: pname, kind, hasDefault };
    if ('default' in p) param.default = p.default as PyJson;
    else if (defaults.has(pname)) {
      const lit = parsePyLiteral(defaults.get(pname) as string);
      if (lit !== undefined) param.default = lit;
    }
    params.push(param);
  }
  const api = Array.isArray(doc.api) ? doc.api : [];
  return { name, params, apiModel: api.includes('model') };
}

/** Builds a signature from a compact spec: `'domain, fields, offset=0, *, lazy=True, **kw'`. */
export function sig(name: string, spec: string, apiModel: boolean, hidden = false): MethodSig {
  const params: Param[] = [];
  let kwOnly = false;
  for (const part of splitTopLevel(spec)) {
    if (part === '*') {
      kwOnly = true;
      continue;
    }
    if (part.startsWith('**')) {
      params.push({ name: part.slice(2), kind: 'VAR_KEYWORD', hasDefault: false });
      continue;
    }
    if (part.startsWith('*')) {
      params.push({ name: part.slice(1), kind: 'VAR_POSITIONAL', hasDefault: false });
      kwOnly = true;
      continue;
    }
    const eq = part.indexOf('=');
    const pname = (eq === -1 ? part : part.slice(0, eq)).trim();
    const param: Param = {
      name: pname,
      kind: kwOnly ? 'KEYWORD_ONLY' : 'POSITIONAL_OR_KEYWORD',
      hasDefault: eq !== -1,
    };
    if (eq !== -1) {
      const lit = parsePyLiteral(part.slice(eq + 1));
      if (lit !== undefined) param.default = lit;
    }
    params.push(param);
  }
  return hidden ? { name, params, apiModel, hidden } : { name, params, apiModel };
}

/**
 * Methods api_doc does not list but JSON-2 still calls (deprecated in 19, docs/wire.md §5.5),
 * with their Odoo 19 signatures.
 */
export const HIDDEN_CORE_METHODS: MethodSig[] = [
  sig('read_group', 'domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True', true, true),
  sig('check_access_rights', 'operation, raise_exception=True', true, true),
  sig('check_access_rule', 'operation', false, true),
  sig('check_field_access_rights', 'operation, field_names', false, true),
  sig('toggle_active', '', false, true),
];

/** Model-specific methods of models whose api_doc page was not captured. */
export const MODEL_METHODS: Record<string, MethodSig[]> = {
  // res_users.py: `@api.model @tools.ormcache('self.env.uid') def context_get(self)`.
  'res.users': [sig('context_get', '', true)],
  // ir_config_parameter.py: both are @api.model.
  'ir.config_parameter': [sig('get_param', 'key, default=False', true), sig('set_param', 'key, value', true)],
};

/** Python's `@api.private` methods: public names that JSON-2 refuses with the AccessError. */
export const PRIVATE_METHODS = new Set([
  'search_fetch',
  'init',
  'fetch',
  'check_access',
  'exists',
  'lock_for_update',
  'try_lock_for_update',
  'browse',
  'ensure_one',
  'with_env',
  'sudo',
  'with_user',
  'with_company',
  'with_context',
  'with_prefetch',
  'mapped',
  'filtered',
  'grouped',
  'filtered_domain',
  'sorted',
  'update',
  'flush_model',
  'flush_recordset',
  'new',
  'concat',
  'union',
  'invalidate_model',
  'invalidate_recordset',
  'modified',
]);

export interface Bound {
  /** Bound parameters by name (defaults not filled in). */
  args: Map<string, PyJson>;
  /** What a `**kwargs` parameter absorbed, in body order. */
  varKw: [string, PyJson][];
}

/** A binding failure: the message `inspect` gives, which JSON-2 puts in its 422. */
export class BindError extends Error {}

/**
 * `inspect.signature(func).bind(records, **kwargs)` for a method whose first parameter is
 * `self` (bound positionally to the records), following CPython 3.11's algorithm.
 */
export function bind(method: MethodSig, kwargs: [string, PyJson][]): Bound {
  const remaining = new Map(kwargs);
  const args = new Map<string, PyJson>();
  if (remaining.has('self')) throw new BindError("multiple values for argument 'self'");

  // Positional phase: only `records` was passed, so it ends at the first parameter after self.
  let kwPhase: Param[] = [];
  const first = method.params[0];
  if (first !== undefined && first.kind !== 'VAR_POSITIONAL') {
    if (remaining.has(first.name)) {
      if (first.kind === 'POSITIONAL_ONLY')
        throw new BindError(`'${first.name}' parameter is positional only, but was passed as a keyword`);
    } else if (first.kind !== 'VAR_KEYWORD' && !first.hasDefault) {
      throw new BindError(`missing a required argument: '${first.name}'`);
    }
    kwPhase = method.params;
  } else if (first !== undefined) {
    kwPhase = method.params.slice(1);
  }

  // Keyword phase.
  let varKwParam: Param | null = null;
  for (const p of kwPhase) {
    if (p.kind === 'VAR_KEYWORD') {
      varKwParam = p;
      continue;
    }
    if (p.kind === 'VAR_POSITIONAL') continue;
    if (!remaining.has(p.name)) {
      if (!p.hasDefault) throw new BindError(`missing a required argument: '${p.name}'`);
      continue;
    }
    if (p.kind === 'POSITIONAL_ONLY')
      throw new BindError(`'${p.name}' parameter is positional only, but was passed as a keyword`);
    args.set(method.renamed?.[p.name] ?? p.name, remaining.get(p.name) as PyJson);
    remaining.delete(p.name);
  }
  if (remaining.size && varKwParam === null) {
    throw new BindError(`got an unexpected keyword argument '${[...remaining.keys()][0] as string}'`);
  }
  return { args, varKw: [...remaining.entries()] };
}

/** The value of a parameter after binding: what was passed, else its default. */
export function argOf(method: MethodSig, bound: Bound, name: string): PyJson | undefined {
  if (bound.args.has(name)) return bound.args.get(name);
  const p = method.params.find((x) => (method.renamed?.[x.name] ?? x.name) === name);
  return p?.default;
}

/**
 * Signature drift, for tests: an override in some module renamed a parameter. The method's
 * binding takes the new name (JSON-2 then answers its 422 for the old one), and with `doc` (the
 * default) its `/doc-bearer` description says so too; the fake ORM keeps reading the old name.
 * Copies what it changes (the seed data may be shared).
 */
export function renameParam(
  model: { methods: Map<string, MethodSig>; doc: PyDict },
  method: string,
  from: string,
  to: string,
  opts: { doc?: boolean } = {},
): void {
  const sig = model.methods.get(method);
  if (!sig || !sig.params.some((p) => p.name === from)) throw new Error(`no parameter ${method}(${from})`);
  const internal = sig.renamed?.[from] ?? from;
  const renamed = Object.fromEntries([
    ...Object.entries(sig.renamed ?? {}).filter(([k]) => k !== from),
    [to, internal],
  ]);
  model.methods = new Map(model.methods).set(method, {
    ...sig,
    params: sig.params.map((p) => (p.name === from ? { ...p, name: to } : p)),
    renamed,
  });
  if (opts.doc === false) return;
  const methods = (model.doc.methods ?? {}) as PyDict;
  const entry = methods[method];
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return;
  const e = entry as PyDict;
  const parameters = Object.fromEntries(
    Object.entries((e.parameters ?? {}) as PyDict).map(([k, v]) => [k === from ? to : k, v]),
  );
  const signature =
    typeof e.signature === 'string' ? e.signature.replace(new RegExp(`\\b${from}\\b`), to) : e.signature;
  model.doc = { ...model.doc, methods: { ...methods, [method]: { ...e, parameters, signature } as PyJson } };
}

/** Methods the development branch after 19.0 no longer has (odoo/odoo master `odoo/orm/models.py`). */
export const REMOVED_AFTER_19_0: ReadonlySet<string> = new Set([
  'read_group',
  'check_access_rights',
  'check_access_rule',
]);

/** `'19.0'` → `[19, 0, 0, 'final', 0, '']`; `'saas~19.2'` → `['saas~19', 2, 0, 'final', 0, '']`. */
export function versionInfoOf(version: string): PyJson[] {
  const m = /^(saas~)?(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`fake Odoo: unreadable serverVersion '${version}'`);
  const major = m[1] ? `saas~${m[2] as string}` : Number(m[2]);
  return [major, Number(m[3]), 0, 'final', 0, ''];
}

/** Whether a fake server of this version is past 19.0 (then REMOVED_AFTER_19_0 are gone). */
export function after19(version: string): boolean {
  const m = /^(?:saas~)?(\d+)\.(\d+)$/.exec(version);
  const major = Number(m?.[1] ?? 19);
  return major > 19 || (major === 19 && Number(m?.[2] ?? 0) > 0);
}
