/**
 * A lossless JSON reader with the semantics of Python's `json.loads` (CPython 3.11, the C scanner).
 *
 * Legacy JSON-RPC clients and Odoo itself speak Python's JSON, which `JSON.parse` loses:
 * - an integer lexeme is a Python `int` of any size: a `number` when it is a safe integer, else a
 *   `bigint` (Python refuses more than 4300 digits, and so does this reader);
 * - a lexeme with `.`, `e` or `E` is a Python `float` (`PyFloat`), so `1.0` stays a float;
 * - the non-standard tokens `NaN`, `Infinity` and `-Infinity` are floats;
 * - an object is a `Map` in key order; a repeated key keeps its first position and takes its last
 *   value, as a Python dict does; `__proto__` is an ordinary key.
 *
 * Errors are `JsonSyntaxError`s worded like Python's `JSONDecodeError`
 * (`Expecting value: line 1 column 1 (char 0)`), with Python's positions (counted in code points).
 */
import { PyFloat, type Value } from '../../values.ts';

/** What `JSONDecodeError` would say, with its position. `position` counts code points, as Python does. */
export class JsonSyntaxError extends Error {
  /** The message without its location, e.g. `Expecting ',' delimiter`. */
  readonly reason: string;
  /** Python's `pos`: the offset of the error in code points (the UTF-16 index unless astral characters precede it). */
  readonly position: number;
  readonly line: number;
  readonly column: number;

  constructor(reason: string, text: string, index: number, withLocation = true) {
    const { position, line, column } = locate(text, index);
    super(withLocation ? `${reason}: line ${line} column ${column} (char ${position})` : reason);
    this.name = 'JsonSyntaxError';
    this.reason = reason;
    this.position = position;
    this.line = line;
    this.column = column;
  }
}

/**
 * Nesting deeper than the limit. Python raises a `RecursionError` (not a `ValueError`) there, with
 * this message; a subclass so that callers that only care about "bad JSON" can catch the base class.
 */
export class JsonDepthError extends JsonSyntaxError {
  constructor(container: 'array' | 'object', text: string, index: number) {
    super(
      `maximum recursion depth exceeded while decoding a JSON ${container} from a unicode string`,
      text,
      index,
      false,
    );
    this.name = 'JsonDepthError';
  }
}

export interface JsonParseLimits {
  /** Deepest nesting of arrays and objects accepted; default 512. */
  maxDepth?: number;
}

/** CPython's `sys.get_int_max_str_digits()` default: longer integer lexemes are a `ValueError`. */
const MAX_INT_DIGITS = 4300;

/** Parse one JSON document as Python's `json.loads` would. Throws `JsonSyntaxError`. */
export function parseJsonValue(source: string, limits?: JsonParseLimits): Value {
  if (source.charCodeAt(0) === 0xfeff) {
    throw new JsonSyntaxError('Unexpected UTF-8 BOM (decode using utf-8-sig)', source, 0);
  }
  text = source;
  pos = 0;
  depth = 0;
  maxDepth = limits?.maxDepth ?? 512;
  stack.length = 0;
  top = 0;
  try {
    skipWhitespace();
    const value = parseValue();
    skipWhitespace();
    if (pos !== source.length) fail('Extra data', pos);
    return value;
  } catch (err) {
    // A maxDepth set beyond what the JS stack holds: the same answer as the limit itself.
    if (err instanceof RangeError)
      throw new JsonDepthError(text.charCodeAt(pos) === 0x7b ? 'object' : 'array', text, pos);
    throw err;
  } finally {
    // Drop every reference to the document: cached keys may be slices of it.
    text = '';
    stack.length = 0;
    keys.fill(undefined);
  }
}

/** Converts a UTF-16 index into Python's position, line and column (all in code points). */
function locate(text: string, index: number): { position: number; line: number; column: number } {
  const position = codePointIndex(text, index);
  let line = 1;
  let lastNewline = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lastNewline = i;
  }
  const column = lastNewline < 0 ? position + 1 : position - codePointIndex(text, lastNewline);
  return { position, line, column };
}

function codePointIndex(text: string, index: number): number {
  let pairs = 0;
  for (let i = 1; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) pairs++;
    }
  }
  return index - pairs;
}

/** The single-character escapes after a backslash, by character code. */
const SIMPLE_ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/** Exactly representable powers of ten, for the float fast path. */
const POWERS_OF_TEN: readonly number[] = Array.from({ length: 16 }, (_, k) => 10 ** k);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const KEY_CACHE_SIZE = 256;

/** A run of characters that need no attention inside a string; irregexp scans it far faster than a loop. */
// eslint-disable-next-line no-control-regex -- control characters end a plain run
const PLAIN_RUN = /[^"\\\u0000-\u001f]*/y;

/** The index of the first quote, backslash or control character at or after `from` (or the end). */
function skipPlain(text: string, from: number): number {
  PLAIN_RUN.lastIndex = from;
  PLAIN_RUN.test(text);
  return PLAIN_RUN.lastIndex;
}

// The reader's state. Module variables rather than an object per call: V8 optimizes the reader
// once instead of after every call, and parsing runs no user code, so it is never re-entered.
let text = '';
let pos = 0;
let depth = 0;
let maxDepth = 512;
/**
 * Items of the arrays being read, `stack[0..top)`; each array leaves as a slice of exactly its
 * length (a pushed-to array keeps spare capacity, which a large request would carry, and the GC
 * copy, to the end).
 */
const stack: Value[] = [];
let top = 0;
/** Object keys repeat (once per record): a small cache hands back the same string, without a copy. */
const keys: Array<string | undefined> = new Array<string | undefined>(KEY_CACHE_SIZE).fill(undefined);

function fail(reason: string, index: number): never {
  throw new JsonSyntaxError(reason, text, index);
}

/** Python's JSON whitespace: space, tab, LF and CR only. */
function skipWhitespace(): void {
  const t = text;
  let i = pos;
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  pos = i;
}

function parseValue(): Value {
  const t = text;
  const i = pos;
  switch (t.charCodeAt(i)) {
    case 0x22: // "
      return parseString();
    case 0x7b: // {
      return parseObject();
    case 0x5b: // [
      return parseArray();
    case 0x6e: // n
      return literal('null', null);
    case 0x74: // t
      return literal('true', true);
    case 0x66: // f
      return literal('false', false);
    case 0x4e: // N
      return literal('NaN', new PyFloat(NaN));
    case 0x49: // I
      return literal('Infinity', new PyFloat(Infinity));
    case 0x2d: // -
      if (t.startsWith('-Infinity', i)) {
        pos = i + 9;
        return new PyFloat(-Infinity);
      }
      return parseNumber();
    default:
      return parseNumber();
  }
}

function literal(word: string, value: Value): Value {
  if (!text.startsWith(word, pos)) fail('Expecting value', pos);
  pos += word.length;
  return value;
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, as Python's number regex; a partial `.`/`e` is left unread. */
function parseNumber(): Value {
  const t = text;
  const start = pos;
  let i = start;
  const negative = t.charCodeAt(i) === 0x2d;
  if (negative) i++;
  let c = t.charCodeAt(i);
  // The digits are accumulated while scanning (exact while there are at most 15 of them), so that
  // short numbers need no slice and no Number().
  let mantissa = 0;
  if (c === 0x30) {
    c = t.charCodeAt(++i);
  } else if (c >= 0x31 && c <= 0x39) {
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      c = t.charCodeAt(++i);
    } while (c >= 0x30 && c <= 0x39);
  } else {
    fail('Expecting value', start);
  }
  const intEnd = i;
  const intDigits = intEnd - start - (negative ? 1 : 0);
  let fraction = 0;
  if (c === 0x2e && isDigit(t.charCodeAt(i + 1))) {
    c = t.charCodeAt(++i);
    do {
      mantissa = mantissa * 10 + (c - 0x30);
      c = t.charCodeAt(++i);
    } while (c >= 0x30 && c <= 0x39);
    fraction = i - intEnd - 1;
  }
  let exponent = false;
  if (c === 0x65 || c === 0x45) {
    let j = i + 1;
    const sign = t.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    if (isDigit(t.charCodeAt(j))) {
      j++;
      while (isDigit(t.charCodeAt(j))) j++;
      i = j;
      exponent = true;
    }
  }
  pos = i;

  if (fraction > 0 || exponent) {
    // Clinger's fast path: an exact integer below 2^53 divided by an exact power of ten is
    // correctly rounded, as Number() and Python's float() are.
    if (!exponent && intDigits + fraction <= 15) {
      const v = mantissa / (POWERS_OF_TEN[fraction] as number);
      return new PyFloat(negative ? -v : v);
    }
    return new PyFloat(Number(t.slice(start, i)));
  }
  if (intDigits <= 15) return negative ? 0 - mantissa : mantissa; // 0 - 0 is +0: Python has no negative zero int
  if (intDigits > MAX_INT_DIGITS) {
    throw new JsonSyntaxError(
      `Exceeds the limit (${MAX_INT_DIGITS} digits) for integer string conversion: value has ${intDigits} digits; ` +
        'use sys.set_int_max_str_digits() to increase the limit',
      t,
      start,
      false,
    );
  }
  const big = BigInt(t.slice(start, intEnd));
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
}

/** A key: like `parseString`, through the key cache when it is short and has no escapes. */
function parseKey(): string {
  const t = text;
  const start = pos + 1;
  let i = start;
  let hash = 0;
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x22) break;
    if (c === 0x5c || c < 0x20 || i - start >= 32 || i >= t.length) return parseString();
    hash = (hash * 31 + c) | 0;
    i++;
  }
  const slot = (hash ^ (hash >>> 8)) & (KEY_CACHE_SIZE - 1);
  const cached = keys[slot];
  pos = i + 1;
  if (cached !== undefined && cached.length === i - start) {
    let k = 0;
    while (k < cached.length && cached.charCodeAt(k) === t.charCodeAt(start + k)) k++;
    if (k === cached.length) return cached;
  }
  const key = t.slice(start, i);
  keys[slot] = key;
  return key;
}

function parseString(): string {
  const t = text;
  const quote = pos;
  const start = quote + 1;
  let i = start;
  // Fast path: no escapes, no control characters. Long runs are skipped by the regex engine.
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 0x22) {
      pos = i + 1;
      return t.slice(start, i);
    }
    if (c === 0x5c || c < 0x20 || i >= t.length) break;
    if (++i - start === 32) i = skipPlain(t, i);
  }
  // Slow path: escapes are decoded piece by piece.
  let out = t.slice(start, i);
  let run = i;
  for (;;) {
    if (i >= t.length) fail('Unterminated string starting at', quote);
    const c = t.charCodeAt(i);
    if (c === 0x22) {
      pos = i + 1;
      return out + t.slice(run, i);
    }
    if (c < 0x20) fail('Invalid control character at', i);
    if (c !== 0x5c) {
      i = skipPlain(t, i + 1);
      continue;
    }
    out += t.slice(run, i);
    if (i + 1 >= t.length) fail('Unterminated string starting at', quote);
    const e = t.charCodeAt(i + 1);
    if (e === 0x75) {
      // \uXXXX; a surrogate pair needs nothing special: its two units join in a JS string.
      // Python wants at least one character after the four digits (the closing quote).
      if (i + 6 >= t.length) fail('Invalid \\uXXXX escape', i + 1);
      let code = 0;
      for (let k = i + 2; k < i + 6; k++) {
        const d = hexDigit(t.charCodeAt(k));
        if (d < 0) fail('Invalid \\uXXXX escape', i + 1);
        code = (code << 4) | d;
      }
      out += String.fromCharCode(code);
      i += 6;
    } else {
      const simple = SIMPLE_ESCAPES[e];
      if (simple === undefined) fail('Invalid \\escape', i);
      out += simple;
      i += 2;
    }
    run = i;
  }
}

function enter(container: 'array' | 'object'): void {
  if (++depth > maxDepth) throw new JsonDepthError(container, text, pos);
}

function parseArray(): Value[] {
  enter('array');
  const t = text;
  pos++;
  skipWhitespace();
  if (t.charCodeAt(pos) === 0x5d) {
    pos++;
    depth--;
    return [];
  }
  const base = top;
  for (;;) {
    const item = parseValue();
    stack[top++] = item;
    skipWhitespace();
    const c = t.charCodeAt(pos);
    if (c === 0x5d) break;
    if (c !== 0x2c) fail("Expecting ',' delimiter", pos);
    pos++;
    skipWhitespace();
  }
  const items = stack.slice(base, top);
  top = base;
  pos++;
  depth--;
  return items;
}

function parseObject(): Map<string, Value> {
  enter('object');
  const t = text;
  const map = new Map<string, Value>();
  pos++;
  skipWhitespace();
  if (t.charCodeAt(pos) === 0x7d) {
    pos++;
    depth--;
    return map;
  }
  for (;;) {
    if (t.charCodeAt(pos) !== 0x22) fail('Expecting property name enclosed in double quotes', pos);
    const key = parseKey();
    skipWhitespace();
    if (t.charCodeAt(pos) !== 0x3a) fail("Expecting ':' delimiter", pos);
    pos++;
    skipWhitespace();
    map.set(key, parseValue());
    skipWhitespace();
    const c = t.charCodeAt(pos);
    if (c === 0x7d) break;
    if (c !== 0x2c) fail("Expecting ',' delimiter", pos);
    pos++;
    skipWhitespace();
  }
  pos++;
  depth--;
  return map;
}
