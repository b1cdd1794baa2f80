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
  used = 0;
  chunks.length = 0;
  try {
    write(v);
    flush();
    return chunks.length === 1 ? (chunks[0] as string) : chunks.join('');
  } finally {
    used = 0;
    chunks.length = 0;
  }
}

// The output is written as UTF-16 code units into a fixed buffer, turned into a string chunk when
// full; long plain strings go in as chunks of their own. Appending with `+=` instead would build a
// tree of pieces as large as the output, which the GC then copies (3x slower on a 5 MB body).
// Module state: serializing runs no user code, so it is never re-entered.
const CAPACITY = 16384;
const units = new Uint16Array(CAPACITY);
let used = 0;
const chunks: string[] = [];
/** ignoreBOM: a U+FEFF that starts a chunk is text, not a byte order mark. */
const utf16 = new TextDecoder('utf-16le', { ignoreBOM: true });
/** Strings longer than this are added as chunks rather than copied. */
const LONG = 256;

function flush(): void {
  if (used > 0) {
    chunks.push(utf16.decode(units.subarray(0, used)));
    used = 0;
  }
}

/** Appends text that has no surrogates (punctuation, numbers, escapes, checked long strings). */
function emit(s: string): void {
  const n = s.length;
  if (n > LONG) {
    flush();
    chunks.push(s);
    return;
  }
  if (used + n > CAPACITY) flush();
  for (let i = 0; i < n; i++) units[used++] = s.charCodeAt(i);
}

function unit(c: number): void {
  if (used === CAPACITY) flush();
  units[used++] = c;
}

/** `, ` between items and `: ` after keys. */
function separator(c: number): void {
  if (used + 2 > CAPACITY) flush();
  units[used++] = c;
  units[used++] = 0x20;
}

function write(v: Value): void {
  if (v === null) return emit('null');
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
      // A `number` is a Python int; a fractional one would be a caller's bug, written as a float rather than corrupted.
      return emit(Number.isInteger(v) ? String(v) : floatText(v));
    case 'boolean':
      return emit(v ? 'true' : 'false');
    case 'bigint':
      return emit(v.toString());
  }
  if (Array.isArray(v)) {
    unit(0x5b);
    for (let i = 0; i < v.length; i++) {
      if (i > 0) separator(0x2c);
      write(v[i] as Value);
    }
    return unit(0x5d);
  }
  if (v instanceof Map) {
    unit(0x7b);
    let first = true;
    for (const [key, item] of v) {
      if (!first) separator(0x2c);
      first = false;
      quote(key);
      separator(0x3a);
      write(item);
    }
    return unit(0x7d);
  }
  if (v instanceof PyFloat) return emit(floatText(v.value));
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

/** Anything that needs care: controls, quote, backslash, any surrogate (paired ones are kept). */
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
function quote(s: string): void {
  unit(0x22);
  if (s.length > LONG && !NEEDS_ESCAPE.test(s)) {
    emit(s);
    return unit(0x22);
  }
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c) {
      emit(ESCAPES[c] as string);
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        // A well-formed pair, written raw; never split across two chunks.
        if (used + 2 > CAPACITY) flush();
        units[used++] = c;
        units[used++] = next;
        i++;
      } else {
        emit('\\u' + c.toString(16)); // a lone surrogate
      }
    } else {
      unit(c);
    }
  }
  unit(0x22);
}
