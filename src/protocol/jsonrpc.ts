/**
 * The legacy `/jsonrpc` envelope, as Odoo 19's JSON-RPC dispatcher and its `jsonrpc(service,
 * method, args)` route read and write it (docs/wire.md §2, captures 4b-50..64).
 *
 * Reading a request can end three ways:
 * - an HTTP answer outside the envelope (`JsonRpcHttpError`): 415 for a non-JSON Content-Type,
 *   400 `Invalid JSON data`, 400 `Invalid JSON-RPC data` for a body that is not an object;
 * - a JSON-RPC error inside the envelope (`{ ok: false, id, fault }`): the Python exception Odoo
 *   raises for bad `params` (not a dict, a missing key, an unusable `service`/`method`/`args`);
 * - a call (`{ ok: true, request }`).
 *
 * Responses are written with Python's `json.dumps` layout, byte for byte.
 */
import { OdooFault, bridgeError, pythonError, pythonNameList } from '../errors.ts';
import { LargeText, PyFloat, pyTypeName, type CallResult, type Struct, type Value } from '../values.ts';
import { JsonDepthError, JsonSyntaxError, parseJsonValue } from './json/parse.ts';
import { toPythonJson } from './json/stringify.ts';
import { cutJsonTexts, putTextsBack, withoutLargeTexts } from './large-texts.ts';
import { pyFloatRepr } from './py-float.ts';
import { textOfValidUtf8, utf8BytesOf, type Utf8Bytes } from '../utf8-bytes.ts';

/** A `/jsonrpc` call: `params.service`, `params.method` and `params.args` (iterated as Python's `*args` would). */
export type JsonRpcRequest = { id: Value; service: string; method: string; args: Value[] };

/** The outcome of reading a request that Odoo answers within the JSON-RPC envelope. */
export type JsonRpcDecoded =
  | { readonly ok: true; readonly request: JsonRpcRequest }
  | { readonly ok: false; readonly id: Value; readonly fault: OdooFault };

/** An answer Odoo gives outside the JSON-RPC envelope; write it as is. */
export class JsonRpcHttpError extends Error {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Extra response headers (the 415 answer's `Accept`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: string, headers: Readonly<Record<string, string>> = {}) {
    super(`HTTP ${status}: ${body.length > 200 ? `${body.slice(0, 200)}...` : body}`);
    this.name = 'JsonRpcHttpError';
    this.status = status;
    this.contentType = 'text/html; charset=utf-8';
    this.body = body;
    this.headers = headers;
  }
}

/** The request mimetypes Odoo's JSON-RPC dispatcher accepts. */
export const JSONRPC_MIMETYPES: readonly string[] = ['application/json', 'application/json-rpc'];

/** The services `dispatch_rpc` knows; any other name is a `KeyError`. */
const SERVICES: ReadonlySet<string> = new Set(['common', 'db', 'object']);

/**
 * Read a `/jsonrpc` request body. Throws `JsonRpcHttpError` where Odoo answers outside the
 * envelope; otherwise returns the call, or the fault to answer with the request's id.
 */
export function decodeJsonRpcRequest(
  body: Buffer | readonly Buffer[],
  contentType: string | undefined,
): JsonRpcDecoded {
  const mimetype = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (!JSONRPC_MIMETYPES.includes(mimetype)) throw unsupportedMediaType(mimetype);

  let doc: Value;
  try {
    // Werkzeug decodes with `errors="replace"`: bad UTF-8 becomes U+FFFD (as Buffer#toString does,
    // checked against CPython in the tests) and a BOM stays, to fail as bad JSON.
    doc = withLargeTexts(body) ?? parseJsonValue(bodyText(body));
  } catch (err) {
    // Python's RecursionError is not a ValueError: Odoo answers it in the envelope, before it knows the id.
    if (err instanceof JsonDepthError)
      return { ok: false, id: null, fault: pythonError('RecursionError', err.message) };
    if (err instanceof JsonSyntaxError) throw new JsonRpcHttpError(400, 'Invalid JSON data');
    throw err;
  }
  if (!(doc instanceof Map)) throw new JsonRpcHttpError(400, 'Invalid JSON-RPC data');

  const id = doc.get('id') ?? null;
  const fail = (fault: OdooFault): JsonRpcDecoded => ({ ok: false, id, fault });

  // `dict(jsonrequest.get('params', {}))`, then the route is called with the keys it names.
  const rawParams = doc.get('params');
  const params = rawParams === undefined ? new Map<string, Value>() : pyDict(rawParams);
  if (params instanceof OdooFault) return fail(params);
  const missing = ['service', 'method', 'args'].filter((k) => !params.has(k));
  if (missing.length > 0) return fail(missingArguments(missing));

  const service = params.get('service') as Value;
  const method = params.get('method') as Value;
  const args = params.get('args') as Value;
  if (typeof service !== 'string') return fail(serviceLookupError(service));
  if (typeof method !== 'string')
    return fail(SERVICES.has(service) ? methodTypeError(service, method) : keyError(service));
  const list = pyIterate(args);
  if (list === undefined)
    return fail(SERVICES.has(service) ? argsTypeError(service, method, args) : keyError(service));
  return { ok: true, request: { id, service, method, args: list } };
}

/** `{"jsonrpc": "2.0", "id": <id>, "result": <result>}`, without `result` when it is `null` (Python `None`). */
export function encodeJsonRpcResult(id: Value, result: CallResult): string {
  const { chunks, length } = jsonRpcResultBytes(id, result);
  return Buffer.concat(chunks, length).toString('utf8');
}

/**
 * {@link encodeJsonRpcResult} as the UTF-8 pieces to write one after the other: the upstream's
 * JSON bytes are spliced in as they came (without their surrounding blanks), so a large answer is
 * neither decoded nor copied. Upstream JSON was written by the same Python `json.dumps`.
 */
export function jsonRpcResultBytes(id: Value, result: CallResult): Utf8Bytes {
  const head = '{"jsonrpc": "2.0", "id": ' + toPythonJson(id);
  let json: Buffer[];
  if (result.kind === 'value') {
    if (result.value === null) return utf8BytesOf(head + '}');
    json = [Buffer.from(toPythonJson(result.value), 'utf8')];
  } else {
    json = withoutBlanks(result.bytes.chunks);
    if (json.length === 0) throw bridgeError('Odoo answered an empty body where a JSON value was expected');
    if (json.length <= 4 && NULL.equals(Buffer.concat(json))) return utf8BytesOf(head + '}');
  }
  const chunks = [Buffer.from(head + ', "result": ', 'utf8'), ...json, CLOSE];
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return { chunks, length };
}

/**
 * The document of a large body with its long strings kept as bytes (protocol/large-texts.ts);
 * undefined when it has none, or when anything is not as simple as it looked: the whole body is
 * then parsed as it came, which decides what it means and what error it gets.
 */
function withLargeTexts(body: Buffer | readonly Buffer[]): Value | undefined {
  if (Buffer.isBuffer(body)) return undefined;
  const cut = cutJsonTexts(body);
  if (cut === undefined) return undefined;
  try {
    const doc = [parseJsonValue(bodyText(cut.chunks))];
    return putTextsBack(doc, cut.texts) ? onlyInArgs(doc[0] as Value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The envelope is read by the bridge itself: a long text stays bytes only inside `params.args`
 * (server/legacy-call.ts then keeps it only in an object call's arguments).
 */
function onlyInArgs(doc: Value): Value {
  if (!(doc instanceof Map)) return withoutLargeTexts(doc);
  for (const [key, v] of doc) {
    if (key === 'params' && v instanceof Map) {
      for (const [name, p] of v) if (name !== 'args' || !Array.isArray(p)) v.set(name, withoutLargeTexts(p));
    } else doc.set(key, withoutLargeTexts(v));
  }
  return doc;
}

/** A request body as text, bad bytes as U+FFFD (as Python's `decode(errors='replace')`). */
function bodyText(body: Buffer | readonly Buffer[]): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body.length === 1) return (body[0] as Buffer).toString('utf8');
  return textOfValidUtf8(body) ?? Buffer.concat(body).toString('utf8');
}

const NULL = Buffer.from('null');
const CLOSE = Buffer.from('}');

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The chunks without the blanks that begin and end the text (no empty chunk). */
function withoutBlanks(chunks: readonly Buffer[]): Buffer[] {
  let first = 0;
  let start = 0;
  for (; first < chunks.length; first++, start = 0) {
    const chunk = chunks[first] as Buffer;
    while (start < chunk.length && isBlank(chunk[start] as number)) start++;
    if (start < chunk.length) break;
  }
  let last = chunks.length - 1;
  let end = 0;
  for (; last >= first; last--) {
    const chunk = chunks[last] as Buffer;
    end = chunk.length;
    const from = last === first ? start : 0;
    while (end > from && isBlank(chunk[end - 1] as number)) end--;
    if (end > from) break;
  }
  if (first > last) return [];
  const out = chunks.slice(first, last + 1);
  if (first === last) out[0] = (chunks[first] as Buffer).subarray(start, end);
  else {
    out[0] = (chunks[first] as Buffer).subarray(start);
    out[out.length - 1] = (chunks[last] as Buffer).subarray(0, end);
  }
  return out;
}

/** `{"jsonrpc": "2.0", "id": X, "error": {"code": 0, "message": "Odoo Server Error", "data": {...}}}` (Odoo 19). */
export function encodeJsonRpcError(id: Value, fault: OdooFault): string {
  const data: Struct = new Map<string, Value>([
    ['name', fault.pyName],
    ['message', fault.message],
    ['arguments', fault.arguments],
    ['context', new Map()],
    ['debug', fault.debug],
  ]);
  const error: Struct = new Map<string, Value>([
    ['code', 0],
    ['message', 'Odoo Server Error'],
    ['data', data],
  ]);
  return toPythonJson(
    new Map<string, Value>([
      ['jsonrpc', '2.0'],
      ['id', id],
      ['error', error],
    ]),
  );
}

/** Werkzeug's 415 page layout, with the accepted types said in words and in an `Accept` header. */
function unsupportedMediaType(mimetype: string): JsonRpcHttpError {
  const got =
    mimetype === ''
      ? 'a request without a Content-Type'
      : `Content-Type ${escapeHtml(JSON.stringify(mimetype.slice(0, 100)))}`;
  const body =
    '<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n' +
    `<p>&#39;/jsonrpc&#39; accepts only application/json and application/json-rpc request bodies, not ${got}.` +
    '<br><br>Please verify the Content-Type request header and try again.</p>\n';
  return new JsonRpcHttpError(415, body, { Accept: JSONRPC_MIMETYPES.join(', ') });
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Python's `dict(params)`: a dict as is, an iterable of pairs, else the TypeError/ValueError it raises. */
function pyDict(v: Value): Map<string, Value> | OdooFault {
  if (v instanceof Map) return v;
  if (typeof v === 'string') {
    // Iterating a str gives 1-character strings: never a pair.
    return v === ''
      ? new Map()
      : pythonError('ValueError', 'dictionary update sequence element #0 has length 1; 2 is required');
  }
  if (!Array.isArray(v)) return pythonError('TypeError', `'${pyTypeName(v)}' object is not iterable`);
  const out = new Map<string, Value>();
  let nonStringKey = false;
  for (let i = 0; i < v.length; i++) {
    const pair = pyIterate(v[i] as Value);
    if (pair === undefined)
      return pythonError(
        'TypeError',
        `cannot convert dictionary update sequence element #${i} to a sequence`,
      );
    if (pair.length !== 2) {
      return pythonError(
        'ValueError',
        `dictionary update sequence element #${i} has length ${pair.length}; 2 is required`,
      );
    }
    const [key, value] = pair as [Value, Value];
    if (Array.isArray(key) || key instanceof Map)
      return pythonError('TypeError', `unhashable type: '${pyTypeName(key)}'`);
    if (typeof key === 'string') out.set(key, value);
    else nonStringKey = true;
  }
  // The route is called with `**params`.
  return nonStringKey ? pythonError('TypeError', 'keywords must be strings') : out;
}

/** Python iteration of a JSON value (`*args`, pair unpacking): a list, a str's characters, a dict's keys. */
function pyIterate(v: Value): Value[] | undefined {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (v instanceof Map) return [...v.keys()];
  return undefined;
}

function missingArguments(names: string[]): OdooFault {
  const list = pythonNameList(names);
  const plural = names.length === 1 ? 'argument' : 'arguments';
  return pythonError(
    'TypeError',
    `JSONRPC.jsonrpc() missing ${names.length} required positional ${plural}: ${list}`,
  );
}

/** `rpc_dispatchers[service]` with a key that is not a str. */
function serviceLookupError(service: Value): OdooFault {
  if (Array.isArray(service) || service instanceof Map) {
    return pythonError('TypeError', `unhashable type: '${pyTypeName(service)}'`);
  }
  return keyError(service);
}

/** `KeyError(key)`: its message is `str(key)`, its `str()` is `repr(key)`. */
function keyError(key: Value): OdooFault {
  return pythonError('KeyError', pyStr(key), { str: pyRepr(key), arguments: [key] });
}

/** A method name that is not a str: `'exp_' + method` in common/db, `NameError` in object. */
function methodTypeError(service: string, method: Value): OdooFault {
  if (service === 'object') return pythonError('NameError', `Method not available ${pyStr(method)}`);
  return pythonError('TypeError', `can only concatenate str (not "${pyTypeName(method)}") to str`);
}

/** `args` that Python cannot iterate: `object` unpacks it, common/db call `exp_<method>(*args)`. */
function argsTypeError(service: string, method: string, args: Value): OdooFault {
  const type = pyTypeName(args);
  if (service === 'object') return pythonError('TypeError', `cannot unpack non-iterable ${type} object`);
  return pythonError(
    'TypeError',
    `odoo.service.${service}.exp_${method}() argument after * must be an iterable, not ${type}`,
  );
}

/** Python's `str(v)` for a JSON value. */
function pyStr(v: Value): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Python's `repr(v)` for a JSON value, for error messages. */
function pyRepr(v: Value): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
    case 'bigint':
      return String(v);
    case 'string':
      return reprStr(v);
  }
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof LargeText) return reprStr(v.text());
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${reprStr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return reprStr('base64' in v ? v.base64 : v.odoo);
}

/** Characters `str.isprintable()` rejects (approximately: by Unicode category), space excepted. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr(str)`: single quotes unless the text has `'` and no `"`; non-printables escaped. */
function reprStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp !== 0x20 && NON_PRINTABLE.test(ch)) {
      out += cp < 0x100 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + q;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');
