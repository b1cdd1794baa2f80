/**
 * JSON the way the fake Odoo's Python side sees it.
 *
 * - Numbers keep their Python type: `1.0` parses to a {@link JsonFloat} (and is written back as
 *   `1.0`), integers stay integers (`bigint` beyond 2^53).
 * - {@link parsePyJson} fails with the messages of CPython 3.11's `json.loads` (Odoo copies them
 *   into its 400 answer: "could not parse the body as json: Expecting value: line 1 column 1
 *   (char 0)").
 * - {@link dumpsPy} writes what `json.dumps(value, ensure_ascii=False)` writes: `, ` and `: `
 *   separators, floats in `repr()` form, `NaN`/`Infinity` tokens.
 * - {@link pyRepr} writes Python's `repr()` of a parsed value, for error messages that quote
 *   values (`Invalid field 'x' on model 'res.partner'`, `Domain() invalid item in domain: [...]`).
 */
import { pyFloatRepr } from '../../src/protocol/py-float.ts';

/** A Python `float` inside the fake's data: kept apart from integers so that `1740.0` stays `1740.0`. */
export class JsonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A Python tuple: written as a JSON array, but `repr()` gives `(1,)` / `(1, 2)`. */
export class PyTuple {
  readonly items: PyJson[];
  constructor(items: PyJson[]) {
    this.items = items;
  }
}

export type PyJson = null | boolean | number | bigint | string | JsonFloat | PyTuple | PyJson[] | PyDict;
export interface PyDict {
  [key: string]: PyJson;
}

export function isDict(v: PyJson | undefined): v is PyDict {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof JsonFloat) &&
    !(v instanceof PyTuple)
  );
}

export function float(n: number): JsonFloat {
  return new JsonFloat(n);
}

/** The number a value holds, for comparisons and sums; `null` when it is not a number. */
export function numeric(v: PyJson | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof JsonFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** Python truthiness. */
export function truthy(v: PyJson | undefined): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === 0n || v === '') return false;
  if (v instanceof JsonFloat) return v.value !== 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Python `==` between two parsed values (1 == 1.0 == True, lists and dicts structurally). */
export function pyEquals(a: PyJson | undefined, b: PyJson | undefined): boolean {
  const na = typeof a === 'string' ? null : numeric(a);
  const nb = typeof b === 'string' ? null : numeric(b);
  if (na !== null && nb !== null) return na === nb;
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  const la = a instanceof PyTuple ? a.items : a;
  const lb = b instanceof PyTuple ? b.items : b;
  if (Array.isArray(la) && Array.isArray(lb)) {
    return la.length === lb.length && la.every((x, i) => pyEquals(x, lb[i]));
  }
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && pyEquals(a[k], b[k]));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Serialization

function dumpFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return pyFloatRepr(n);
}

/** `json.dumps(value, ensure_ascii=False)`. */
export function dumpsPy(value: PyJson): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    // A non-integral JS number that slipped in untagged is still a Python float.
    return dumpFloat(value);
  }
  if (typeof value === 'bigint') return value.toString();
  // JSON.stringify escapes exactly what Python escapes with ensure_ascii=False: `"`, `\`, and
  // the C0 controls (\b \f \n \r \t short forms, \u00XX lower-case for the rest).
  if (typeof value === 'string') return JSON.stringify(value);
  if (value instanceof JsonFloat) return dumpFloat(value.value);
  if (value instanceof PyTuple) return dumpsPy(value.items);
  if (Array.isArray(value)) return `[${value.map(dumpsPy).join(', ')}]`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) parts.push(`${JSON.stringify(k)}: ${dumpsPy(v)}`);
  return `{${parts.join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// repr()

function reprStr(s: string): string {
  // CPython picks single quotes unless the text has a ' and no ".
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a parsed JSON value (lists stay lists, floats as `repr(float)`). */
export function pyRepr(value: PyJson | undefined): string {
  if (value === undefined || value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return reprStr(value);
  if (value instanceof JsonFloat) return pyFloatRepr(value.value);
  if (value instanceof PyTuple) {
    return value.items.length === 1
      ? `(${pyRepr(value.items[0])},)`
      : `(${value.items.map(pyRepr).join(', ')})`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${reprStr(k)}: ${pyRepr(v)}`)
    .join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Python's `json.JSONDecodeError`; `String(err.message)` is what `str(exc)` gives. */
export class PyJsonDecodeError extends Error {
  readonly msg: string;
  readonly pos: number;
  constructor(msg: string, doc: string, pos: number) {
    // Python counts characters (code points); JS indexes UTF-16 units.
    const before = doc.slice(0, pos);
    const cpPos = [...before].length;
    const lineno = before.split('\n').length;
    const lastNl = before.lastIndexOf('\n');
    const colno = lastNl === -1 ? cpPos + 1 : [...before.slice(lastNl + 1)].length + 1;
    super(`${msg}: line ${lineno} column ${colno} (char ${cpPos})`);
    this.msg = msg;
    this.pos = cpPos;
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER_RE = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;

class Parser {
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }

  skipWs(i: number): number {
    while (i < this.s.length && WS.has(this.s[i] as string)) i++;
    return i;
  }

  fail(msg: string, pos: number): never {
    throw new PyJsonDecodeError(msg, this.s, pos);
  }

  /** Parses the value that starts exactly at `i` (no leading whitespace skipped). */
  value(i: number): [PyJson, number] {
    const s = this.s;
    const c = s[i];
    if (c === '"') return this.string(i + 1);
    if (c === '{') return this.object(i + 1);
    if (c === '[') return this.array(i + 1);
    if (c === 'n' && s.startsWith('null', i)) return [null, i + 4];
    if (c === 't' && s.startsWith('true', i)) return [true, i + 4];
    if (c === 'f' && s.startsWith('false', i)) return [false, i + 5];
    if (c === 'N' && s.startsWith('NaN', i)) return [new JsonFloat(NaN), i + 3];
    if (c === 'I' && s.startsWith('Infinity', i)) return [new JsonFloat(Infinity), i + 8];
    if (c === '-' && s.startsWith('-Infinity', i)) return [new JsonFloat(-Infinity), i + 9];
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(s);
    if (m) {
      const text = m[0];
      const end = i + text.length;
      if (m[1] !== undefined || m[2] !== undefined) return [new JsonFloat(Number(text)), end];
      const big = BigInt(text);
      const asNumber = Number(text);
      return [Number.isSafeInteger(asNumber) ? asNumber : big, end];
    }
    return this.fail('Expecting value', i);
  }

  string(i: number): [string, number] {
    const s = this.s;
    const begin = i - 1;
    let out = '';
    for (;;) {
      if (i >= s.length) this.fail('Unterminated string starting at', begin);
      const c = s[i] as string;
      const code = c.charCodeAt(0);
      if (c === '"') return [out, i + 1];
      if (code < 0x20) this.fail('Invalid control character at', i);
      if (c !== '\\') {
        out += c;
        i++;
        continue;
      }
      const esc = s[i + 1];
      if (esc === undefined) this.fail('Unterminated string starting at', begin);
      const simple: Record<string, string> = {
        '"': '"',
        '\\': '\\',
        '/': '/',
        b: '\b',
        f: '\f',
        n: '\n',
        r: '\r',
        t: '\t',
      };
      if (esc !== 'u') {
        const rep = simple[esc];
        if (rep === undefined) this.fail('Invalid \\escape', i);
        out += rep;
        i += 2;
        continue;
      }
      const hex = s.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\uXXXX escape', i + 1);
      let cp = parseInt(hex, 16);
      i += 6;
      // A high surrogate followed by an escaped low surrogate combines, as in CPython.
      if (cp >= 0xd800 && cp <= 0xdbff && s[i] === '\\' && s[i + 1] === 'u') {
        const hex2 = s.slice(i + 2, i + 6);
        if (/^[0-9a-fA-F]{4}$/.test(hex2)) {
          const lo = parseInt(hex2, 16);
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
          }
        }
      }
      out += String.fromCodePoint(cp);
    }
  }

  object(i: number): [PyDict, number] {
    const s = this.s;
    const obj: PyDict = {};
    i = this.skipWs(i);
    if (s[i] === '}') return [obj, i + 1];
    for (;;) {
      if (s[i] !== '"') this.fail('Expecting property name enclosed in double quotes', i);
      const [key, afterKey] = this.string(i + 1);
      i = this.skipWs(afterKey);
      if (s[i] !== ':') this.fail("Expecting ':' delimiter", i);
      i = this.skipWs(i + 1);
      const [val, afterVal] = this.value(i);
      // Object.defineProperty keeps a "__proto__" key as data instead of changing the prototype.
      Object.defineProperty(obj, key, { value: val, enumerable: true, writable: true, configurable: true });
      i = this.skipWs(afterVal);
      if (s[i] === '}') return [obj, i + 1];
      if (s[i] !== ',') this.fail("Expecting ',' delimiter", i);
      i = this.skipWs(i + 1);
    }
  }

  array(i: number): [PyJson[], number] {
    const s = this.s;
    const arr: PyJson[] = [];
    i = this.skipWs(i);
    if (s[i] === ']') return [arr, i + 1];
    for (;;) {
      const [val, after] = this.value(i);
      arr.push(val);
      i = this.skipWs(after);
      if (s[i] === ']') return [arr, i + 1];
      if (s[i] !== ',') this.fail("Expecting ',' delimiter", i);
      i = this.skipWs(i + 1);
    }
  }
}

/** `json.loads(text)` with CPython 3.11's error messages. */
export function parsePyJson(text: string): PyJson {
  const p = new Parser(text);
  if (text.startsWith('\ufeff')) p.fail('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  const [value, end] = p.value(p.skipWs(0));
  const after = p.skipWs(end);
  if (after !== text.length) p.fail('Extra data', after);
  return value;
}

/**
 * Turns plain JS data (as written in the seed files or by a test) into parsed-JSON values:
 * objects and arrays are copied, everything else is kept. Integral numbers stay integers; write
 * `float(1740)` for a Python float.
 */
export function fromPlain(v: unknown): PyJson {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v : new JsonFloat(v);
  if (v instanceof JsonFloat || v instanceof PyTuple) return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  if (typeof v === 'object') {
    const out: PyDict = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromPlain(x);
    return out;
  }
  throw new TypeError(`fromPlain: unsupported ${typeof v}`);
}

/** Deep copy of a parsed value (records handed out must not alias the stored ones). */
export function clone(v: PyJson): PyJson {
  if (Array.isArray(v)) return v.map(clone);
  if (v instanceof PyTuple) return new PyTuple(v.items.map(clone));
  if (isDict(v)) {
    const out: PyDict = {};
    for (const [k, x] of Object.entries(v)) out[k] = clone(x);
    return out;
  }
  return v;
}
