/**
 * Python's rules for the scalar texts of an XML-RPC request, with CPython's exact error messages:
 * `int()`, `float()`, `Decimal()`, `datetime.strptime(s, '%Y%m%dT%H:%M:%S')` and
 * `base64.decodebytes()`, plus `repr()` of strings and decoded values for the messages that quote
 * them. Used by the XML-RPC request decoder (`decode.ts`).
 */
import { pythonError } from '../../errors.ts';
import type { OdooFault } from '../../errors.ts';
import { pyFloatRepr } from '../py-float.ts';
import { Binary, DateTime, LargeText, PyFloat } from '../../values.ts';
import type { Value } from '../../values.ts';

// ------------------------------------------------------------------------------------------------
// Python's scalar parsers
// ------------------------------------------------------------------------------------------------

/** Python's `int()` result as a Value: a safe integer as `number`, anything larger as `bigint`. */
export function parsePyInt(s: string): number | bigint {
  // Fast path: optional sign and up to 15 ASCII digits, which is what real clients send.
  const n = s.length;
  if (n > 0 && n <= 16) {
    let i = 0;
    const c0 = s.charCodeAt(0);
    if (c0 === 0x2d || c0 === 0x2b) i = 1;
    if (i < n && n - i <= 15) {
      let v = 0;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        v = v * 10 + d;
      }
      if (i === n) return c0 === 0x2d && v !== 0 ? -v : v;
    }
  }
  return parsePyIntSlow(s);
}

/** CPython's limit on decimal digits for `int()` (`sys.get_int_max_str_digits()`). */
const INT_MAX_STR_DIGITS = 4300;

/**
 * `int()`'s syntax once whitespace is stripped and digits made ASCII. Each repetition starts with
 * `_`, which no digit matches, so a character can be matched one way only: linear in the text.
 */
export const PY_INT_LITERAL = /^[+-]?[0-9]+(?:_[0-9]+)*$/;

function parsePyIntSlow(s: string): number | bigint {
  const t = stripAsciiSpace(numericToAscii(s));
  if (!PY_INT_LITERAL.test(t)) {
    throw pythonError(
      'ValueError',
      `invalid literal for int() with base 10: ${truncateCodePoints(reprOf(s, 400), 200)}`,
    );
  }
  const digits = t.replace(/[+_-]/g, '');
  if (digits.length > INT_MAX_STR_DIGITS) {
    throw pythonError(
      'ValueError',
      `Exceeds the limit (${INT_MAX_STR_DIGITS} digits) for integer string conversion: value has ${digits.length} digits; use sys.set_int_max_str_digits() to increase the limit`,
    );
  }
  const big = BigInt(t.startsWith('-') ? `-${digits}` : digits);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/**
 * `float()`'s (and `Decimal()`'s) decimal syntax, without underscores: digits with an optional
 * point and fraction, or a point and digits, then an optional exponent. The fraction is one
 * optional group (`[0-9]+(?:\.[0-9]*)?`), not `[0-9]+\.?[0-9]*`: there the two runs could share a
 * run of digits n ways, and V8's backtracking tried them all: a failing literal of 80,000 digits
 * blocked the event loop for tens of seconds. Now each character has one way to match, and the cost
 * is linear in the text (no length cap is needed, and none would be right: float() takes any length).
 */
export const PY_FLOAT_SIMPLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
/** `float()`'s infinities and NaN, signed, in any case. */
export const PY_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
/** An underscore not between two digits (a constant amount of work at each position). */
export const PY_BAD_UNDERSCORE = /(?:^|[^0-9])_|_(?:[^0-9]|$)/;

/** Python's `float()` of a string. */
export function parsePyFloat(s: string): number {
  if (PY_FLOAT_SIMPLE.test(s)) return Number(s);
  const t = stripAsciiSpace(numericToAscii(s));
  const special = PY_FLOAT_SPECIAL.exec(t);
  if (special !== null) {
    if ((special[2] as string).toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  // Underscores are allowed only between two digits.
  if (PY_BAD_UNDERSCORE.test(t)) throw floatError(s);
  const plain = t.replace(/_/g, '');
  if (!PY_FLOAT_SIMPLE.test(plain)) throw floatError(s);
  return Number(plain);
}

function floatError(s: string): OdooFault {
  return pythonError('ValueError', `could not convert string to float: ${quoted(s)}`);
}

/** `Decimal()`'s infinities and (signalling) NaN with an optional payload, signed, in any case. */
export const PY_DECIMAL_SPECIAL = /^([+-]?)(inf|infinity|s?nan[0-9]*)$/i;

/**
 * `float(Decimal(s))`: Decimal's syntax (underscores anywhere, Unicode whitespace stripped,
 * `Inf`/`Infinity`/`NaN`/`sNaN` with payload), rounded to the nearest double.
 */
export function parsePyDecimal(s: string): number {
  let t = stripPyWhitespace(s);
  t = numericToAscii(t).replace(/_/g, '');
  const special = PY_DECIMAL_SPECIAL.exec(t);
  if (special !== null) {
    if (/nan/i.test(special[2] as string)) return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!PY_FLOAT_SIMPLE.test(t)) {
    throw pythonError('decimal.InvalidOperation', "[<class 'decimal.ConversionSyntax'>]");
  }
  return Number(t);
}

/** ASCII whitespace as C's `isspace` sees it, which `int()`/`float()` strip. */
function stripAsciiSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isAsciiSpace(s.charCodeAt(a))) a++;
  while (b > a && isAsciiSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Non-ASCII characters `str.isspace()` accepts. */
const PY_UNICODE_SPACE = /[\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** `str.isspace()` for one UTF-16 unit (all of Python's whitespace is in the BMP). */
function isPySpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  return PY_UNICODE_SPACE.test(String.fromCharCode(c));
}

/** `str.strip()`. */
function stripPyWhitespace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isPySpace(s.charCodeAt(a))) a++;
  while (b > a && isPySpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

const ND = /\p{Nd}/u;

/**
 * ASCII codes of the non-ASCII digits (`0`-`9`) and whitespace (space) met so far. Finding a
 * digit's value takes up to 50 tests (the mathematical digits are five runs of ten back to back),
 * which a text of a million such digits would repeat a million times. Unicode has 770 `Nd` code
 * points and 19 other spaces, so the map stays small.
 */
const ASCII_OF = new Map<number, number>();

/** What CPython's transform makes of code point `cp` (U+007F up): an ASCII digit, a space, or `?`. */
function asciiOf(cp: number): number {
  let code = ASCII_OF.get(cp);
  if (code !== undefined) return code;
  const ch = String.fromCodePoint(cp);
  if (PY_UNICODE_SPACE.test(ch)) code = 0x20;
  else if (ND.test(ch)) {
    // Unicode encodes decimal digits in contiguous runs of ten, 0 to 9.
    let first = cp;
    while (ND.test(String.fromCodePoint(first - 1))) first--;
    code = 0x30 + ((cp - first) % 10);
  } else return 0x3f;
  ASCII_OF.set(cp, code); // digits and spaces only: bounded
  return code;
}

/**
 * CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`: non-ASCII whitespace becomes a space,
 * non-ASCII decimal digits their ASCII digit, and the first other character from U+007F up a `?`
 * that ends the text. The `?` makes every caller's syntax check fail, as it does in CPython.
 * One pass writing a byte per character: a `replace()` callback per character cost 10 times more.
 */
function numericToAscii(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 0x7f) i++;
  if (i === s.length) return s;
  const out = Buffer.allocUnsafe(s.length);
  let o = 0;
  for (let j = 0; j < s.length; j++) {
    let c = s.charCodeAt(j);
    if (c >= 0x7f) {
      const low = s.charCodeAt(j + 1);
      if (c >= 0xd800 && c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        j++;
      }
      c = asciiOf(c);
      if (c === 0x3f) {
        out[o++] = c;
        break;
      }
    }
    out[o++] = c;
  }
  return out.toString('latin1', 0, o);
}

/** The value of a run of decimal digits (ASCII or not). */
function digitsValue(s: string): number {
  let v = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    v = v * 10 + (cp < 0x7f ? cp : asciiOf(cp)) - 0x30;
  }
  return v;
}

/**
 * `datetime.strptime(s, '%Y%m%dT%H:%M:%S')`, including its quirks: one-digit fields, a
 * space-padded day, a lowercase `t`, Unicode digits, and no surrounding whitespace. Anchored at
 * the start, without `$`, and made of fixed-width alternatives: it reads at most 19 characters
 * whatever the length of the text (the rest is "unconverted data").
 */
export const DATETIME_RE =
  /^(\p{Nd}\p{Nd}\p{Nd}\p{Nd})(1[0-2]|0[1-9]|[1-9])(3[01]|[12]\p{Nd}|0[1-9]|[1-9]| [1-9])T(2[0-3]|[01]\p{Nd}|\p{Nd}):([0-5]\p{Nd}|\p{Nd}):(6[01]|[0-5]\p{Nd}|\p{Nd})/iu;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseDateTime(s: string): DateTime {
  const m = DATETIME_RE.exec(s);
  if (m === null) {
    throw pythonError('ValueError', `time data ${quoted(s)} does not match format '%Y%m%dT%H:%M:%S'`);
  }
  if (m[0].length !== s.length) {
    const rest = s.slice(m[0].length);
    throw pythonError(
      'ValueError',
      `unconverted data remains: ${rest.length > QUOTE_LIMIT ? `${rest.slice(0, QUOTE_LIMIT)}...` : rest}`,
    );
  }
  const [year, month, day, hour, minute, second] = m
    .slice(1, 7)
    .map((g) => digitsValue((g as string).trim())) as [number, number, number, number, number, number];
  if (year < 1) throw pythonError('ValueError', `year ${year} is out of range`);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const maxDay = month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day > maxDay) throw pythonError('ValueError', 'day is out of range for month');
  if (second > 59) throw pythonError('ValueError', 'second must be in 0..59');
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return new DateTime(
    `${String(year).padStart(4, '0')}-${p2(month)}-${p2(day)} ${p2(hour)}:${p2(minute)}:${p2(second)}`,
  );
}

const B64_INDEX = (() => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < 64; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/**
 * `Binary().decode(data.encode('ascii'))`, i.e. `base64.decodebytes`: characters outside the
 * alphabet are skipped, padding ends the data. The result is re-encoded as canonical base64.
 */
export function parseBase64(s: string): Binary {
  // Fast path: canonical base64, possibly wrapped in lines (Python wraps every 76 characters),
  // which is exactly the text that re-encoding its bytes gives back.
  const compact = /[\t\n\r ]/.test(s) ? s.replace(/[\t\n\r ]+/g, '') : s;
  if (compact.length % 4 === 0 && Buffer.from(compact, 'base64').toString('base64') === compact) {
    return new Binary(compact);
  }
  return new Binary(Buffer.from(a2bBase64(s)).toString('base64'));
}

/** CPython's non-strict `binascii.a2b_base64`, with its errors. */
function a2bBase64(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) throw asciiEncodeError(s, i);
  }
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let o = 0;
  let quad = 0;
  let left = 0;
  let pads = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x3d /* = */) {
      if (quad >= 2 && quad + ++pads >= 4) return out.subarray(0, o);
      continue;
    }
    const v = B64_INDEX[c] as number;
    if (v < 0) continue;
    pads = 0;
    switch (quad) {
      case 0:
        quad = 1;
        left = v;
        break;
      case 1:
        quad = 2;
        out[o++] = (left << 2) | (v >> 4);
        left = v & 0x0f;
        break;
      case 2:
        quad = 3;
        out[o++] = ((left << 4) | (v >> 2)) & 0xff;
        left = v & 0x03;
        break;
      default:
        quad = 0;
        out[o++] = ((left << 6) | v) & 0xff;
        left = 0;
    }
  }
  if (quad === 1) {
    const n = Math.floor(o / 3) * 4 + 1;
    throw pythonError(
      'binascii.Error',
      `Invalid base64-encoded string: number of data characters (${n}) cannot be 1 more than a multiple of 4`,
    );
  }
  if (quad !== 0) throw pythonError('binascii.Error', 'Incorrect padding');
  return out.subarray(0, o);
}

/** `str.encode('ascii')` failing at UTF-16 index `at`: Python reports code point positions. */
function asciiEncodeError(s: string, at: number): OdooFault {
  const start = codePointCount(s, 0, at);
  let endIndex = at;
  while (endIndex < s.length && s.charCodeAt(endIndex) > 0x7f) endIndex++;
  const end = start + codePointCount(s, at, endIndex);
  const cp = s.codePointAt(at) as number;
  const escaped = cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
  const what =
    end - start === 1
      ? `character '${escaped}' in position ${start}`
      : `characters in position ${start}-${end - 1}`;
  const reason = 'ordinal not in range(128)';
  return pythonError('UnicodeEncodeError', ['ascii', s, String(start), String(end), reason].join('\n'), {
    str: `'ascii' codec can't encode ${what}: ${reason}`,
    arguments: ['ascii', s, start, end, reason],
  });
}

/** Code points in `s[from, to)` (a surrogate pair counts once). */
function codePointCount(s: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < to) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

// ------------------------------------------------------------------------------------------------
// Python repr()
// ------------------------------------------------------------------------------------------------

/** Characters `str.isprintable()` rejects (beyond ASCII, which is handled first). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr(str)`, for error messages that must read exactly like CPython's. */
export function pyRepr(s: string): string {
  return reprOf(s, s.length);
}

/**
 * `repr()` of the first `limit` UTF-16 units of `s` (the quote is chosen on all of `s`), without
 * the closing quote when `s` is cut: enough for `%.200R` and keeps messages about huge values small.
 */
function reprOf(s: string, limit: number): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const cut = s.length > limit;
  const head = cut ? s.slice(0, limit) : s;
  const close = cut ? '' : quote;
  if (/^[\x20-\x7e]*$/.test(head) && !head.includes('\\') && !head.includes(quote))
    return quote + head + close;
  let out = quote;
  for (const ch of head) {
    const cp = ch.codePointAt(0) as number;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (cp === 0x09) out += '\\t';
    else if (cp === 0x0a) out += '\\n';
    else if (cp === 0x0d) out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (!NON_PRINTABLE.test(ch)) out += ch;
    else if (cp <= 0xff) out += `\\x${hex(cp, 2)}`;
    else if (cp <= 0xffff) out += `\\u${hex(cp, 4)}`;
    else out += `\\U${hex(cp, 8)}`;
  }
  return out + close;
}

/** Longest value quoted whole in an error message; longer ones are cut and marked with `...`. */
const QUOTE_LIMIT = 1000;

/** `%r` of a value in a message, cut (a deliberate difference) when it is very long. */
export function quoted(s: string): string {
  return s.length <= QUOTE_LIMIT ? pyRepr(s) : `${reprOf(s, QUOTE_LIMIT)}...`;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** `'%.Nr'`-style truncation: the first `n` code points. */
function truncateCodePoints(s: string, n: number): string {
  let i = 0;
  for (let count = 0; i < s.length && count < n; count++) {
    const c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    i += c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1;
  }
  return s.slice(0, i);
}

/** `repr()` of a decoded value, enough for the rare messages that quote one. */
export function pyValueRepr(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return pyRepr(v);
  if (v instanceof LargeText) return pyRepr(v.text());
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof DateTime) return `datetime.datetime(${v.odoo})`;
  if (v instanceof Binary) return '<xmlrpc.client.Binary object>';
  if (Array.isArray(v)) return `[${v.map(pyValueRepr).join(', ')}]`;
  return `{${Array.from(v, ([k, x]) => `${pyRepr(k)}: ${pyValueRepr(x)}`).join(', ')}}`;
}
