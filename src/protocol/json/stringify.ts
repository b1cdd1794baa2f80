/**
 * JSON text exactly as Python writes it with `json.dumps(v, ensure_ascii=False)`: what Odoo sends
 * to JSON-RPC clients and reads from JSON-2 request bodies.
 *
 * - separators `, ` and `: `, no indentation;
 * - a `PyFloat` is written with Python's float repr (`1.0`, `1e+16`), non-finite ones as the
 *   non-standard tokens `NaN`, `Infinity`, `-Infinity`; ints of any size as their digits;
 * - strings escape only `"`, `\` and control characters below U+0020 (`\n`, `\r`, `\t`, `\b`, `\f`,
 *   else `\u00XX`); everything else, U+2028 and U+007F included, is written raw;
 * - a `Binary` is its base64 text and a `DateTime` its Odoo string, as Odoo's `json_default` writes
 *   bytes and datetimes.
 *
 * One deliberate difference: a lone surrogate (which only a `\udXXX` escape can produce) is written
 * as that escape. Python would write it raw and then fail to encode the response as UTF-8; the
 * escape is what a Python peer reads back as the same string.
 */
import { Binary, DateTime, PyFloat, type Value } from '../../values.ts';
import { pyFloatRepr } from '../py-float.ts';

/** Serialize a value as Python's `json.dumps(v, ensure_ascii=False)` would. */
export function toPythonJson(v: Value): string {
  return write(v);
}

function write(v: Value): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      // A `number` is a Python int; a fractional one would be a caller's bug, written as a float rather than corrupted.
      return Number.isInteger(v) ? String(v) : floatText(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
  }
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    let out = '[' + write(v[0] as Value);
    for (let i = 1; i < v.length; i++) out += ', ' + write(v[i] as Value);
    return out + ']';
  }
  if (v instanceof Map) {
    if (v.size === 0) return '{}';
    let out = '{';
    let first = true;
    for (const [key, item] of v) {
      out += (first ? '' : ', ') + quote(key) + ': ' + write(item);
      first = false;
    }
    return out + '}';
  }
  if (v instanceof PyFloat) return floatText(v.value);
  if (v instanceof Binary) return quote(v.base64);
  if (v instanceof DateTime) return quote(v.odoo);
  throw new TypeError(`not a Value: ${Object.prototype.toString.call(v)}`);
}

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return pyFloatRepr(n);
}

/** Anything that needs the slow path: controls, quote, backslash, any surrogate (paired ones are kept). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** Escapes for code units 0..0x1f, `"` and `\`. */
const ESCAPES: string[] = [];
for (let c = 0; c < 0x20; c++) ESCAPES[c] = '\\u' + c.toString(16).padStart(4, '0');
ESCAPES[0x08] = '\\b';
ESCAPES[0x09] = '\\t';
ESCAPES[0x0a] = '\\n';
ESCAPES[0x0c] = '\\f';
ESCAPES[0x0d] = '\\r';
ESCAPES[0x22] = '\\"';
ESCAPES[0x5c] = '\\\\';

/** A JSON string literal as Python's `encode_basestring` writes it. */
function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escape: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c) {
      escape = ESCAPES[c];
    } else if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff) {
        const next = s.charCodeAt(i + 1);
        if (next >= 0xdc00 && next <= 0xdfff) {
          i++; // a well-formed pair: written raw
          continue;
        }
      }
      escape = '\\u' + c.toString(16);
    } else {
      continue;
    }
    out += s.slice(run, i) + escape;
    run = i + 1;
  }
  return out + s.slice(run) + '"';
}
