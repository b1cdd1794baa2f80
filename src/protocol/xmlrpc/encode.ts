/**
 * XML-RPC response encoding, byte for byte as Odoo 19 writes it (docs: odoo19-wire.md §1.4, §1.5):
 * Odoo's `OdooMarshaller` (CPython's `Marshaller` with `allow_none=False`, control characters
 * deleted from strings) inside Odoo's hand-written envelope.
 *
 * Two inputs:
 * - a {@link Value} (results the bridge computed itself), marshalled like a Python object;
 * - the JSON text an Odoo 19 JSON-2 endpoint answered, transcoded to XML in one pass without
 *   building objects ({@link transcodeJson}). That is the hot path of the whole bridge: a
 *   `search_read` of thousands of records goes through here.
 *
 * Marshalling errors are the faults Odoo raises for the same result: `None` anywhere is a
 * `TypeError`, an int outside 32 bits an `OverflowError` (both after Odoo has committed, which the
 * bridge cannot undo either).
 */
import { OdooFault, pythonError } from '../../errors.ts';
import { Binary, DateTime, PyFloat } from '../../values.ts';
import type { CallResult, Value } from '../../values.ts';
import { pyFloatRepr } from '../py-float.ts';

const RESPONSE_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n';
const RESPONSE_TAIL = '</param>\n</params>\n\n</methodResponse>\n';
const FAULT_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<fault>\n';
const FAULT_TAIL = '</fault>\n\n</methodResponse>\n';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** The whole `methodResponse` for a successful call. Throws the marshalling fault, if any. */
export function encodeResponse(result: CallResult): string {
  const value = result.kind === 'json' ? transcodeJson(result.text) : encodeValue(result.value);
  return RESPONSE_HEAD + value + RESPONSE_TAIL;
}

/**
 * The `methodResponse` fault for `/xmlrpc/2` (`'int'` codes) or the legacy `/xmlrpc` (`'string'`
 * codes), as Odoo's `xmlrpc_handle_exception_int` / `_string` build it. Odoo puts `str(e)` in
 * the fault, which is `fault.str` (equal to `fault.message` except for e.g. RedirectWarning).
 */
export function encodeFault(fault: OdooFault, style: 'int' | 'string'): string {
  let code: number | string;
  let text: string;
  if (style === 'int') {
    switch (fault.kind) {
      case 'generic':
        code = 1;
        text = fault.debug;
        break;
      case 'access_denied':
        code = 3;
        text = fault.str;
        break;
      case 'access_error':
        code = 4;
        text = fault.str;
        break;
      default: // user_error, missing_error, redirect_warning
        code = 2;
        text = fault.str;
    }
  } else {
    text = '';
    switch (fault.kind) {
      case 'generic':
        code = fault.message;
        text = fault.debug;
        break;
      case 'user_error':
        code = `warning -- UserError\n\n${fault.str}`;
        break;
      case 'missing_error':
        code = `warning -- MissingError\n\n${fault.str}`;
        break;
      case 'access_error':
        code = `warning -- AccessError\n\n${fault.str}`;
        break;
      case 'redirect_warning':
        code = `warning -- Warning\n\n${fault.str}`;
        break;
      case 'access_denied':
        code = 'AccessDenied';
        text = fault.str;
        break;
    }
  }
  const codeXml = typeof code === 'number' ? `<value><int>${code}</int></value>\n` : stringValue(code);
  return (
    FAULT_HEAD +
    '<value><struct>\n<member>\n<name>faultCode</name>\n' +
    codeXml +
    '</member>\n<member>\n<name>faultString</name>\n' +
    stringValue(text) +
    '</member>\n</struct></value>\n' +
    FAULT_TAIL
  );
}

// ------------------------------------------------------------------------------------------------
// Values
// ------------------------------------------------------------------------------------------------

function noneFault(): OdooFault {
  return pythonError('TypeError', 'cannot marshal None unless allow_none is enabled');
}

function overflowFault(): OdooFault {
  return pythonError('OverflowError', 'int exceeds XML-RPC limits');
}

/** One marshalled `<value>...</value>\n`, as `OdooMarshaller` writes it. */
export function encodeValue(v: Value): string {
  const out: string[] = [];
  writeValue(v, out);
  return out.join('');
}

function writeValue(v: Value, out: string[]): void {
  if (v === null) throw noneFault();
  switch (typeof v) {
    case 'boolean':
      out.push(v ? '<value><boolean>1</boolean></value>\n' : '<value><boolean>0</boolean></value>\n');
      return;
    case 'number':
      if (!Number.isInteger(v)) {
        // Not a Python int: the Value model says this cannot happen; write what Python would
        // have written for the float it is.
        out.push(`<value><double>${pyFloatRepr(v)}</double></value>\n`);
        return;
      }
      if (v < INT_MIN || v > INT_MAX) throw overflowFault();
      out.push(`<value><int>${v}</int></value>\n`); // `${-0}` is "0", like Python's int
      return;
    case 'bigint':
      if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) throw overflowFault();
      out.push(`<value><int>${v}</int></value>\n`);
      return;
    case 'string':
      out.push(stringValue(v));
      return;
  }
  if (v instanceof PyFloat) {
    out.push(`<value><double>${pyFloatRepr(v.value)}</double></value>\n`);
  } else if (v instanceof Binary) {
    // Odoo marshals bytes as their text (`value.decode()`): binary fields hold base64.
    out.push(stringValue(v.base64));
  } else if (v instanceof DateTime) {
    out.push(stringValue(v.odoo));
  } else if (Array.isArray(v)) {
    out.push('<value><array><data>\n');
    for (const item of v) writeValue(item, out);
    out.push('</data></array></value>\n');
  } else {
    out.push('<value><struct>\n');
    for (const [key, item] of v) {
      out.push('<member>\n<name>', escapeKey(key), '</name>\n');
      writeValue(item, out);
      out.push('</member>\n');
    }
    out.push('</struct></value>\n');
  }
}

/** Characters a string value loses or changes: `& < >` and the C0 controls but TAB, LF, CR. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const VALUE_SPECIAL = /[&<>\x00-\x08\x0b\x0c\x0e-\x1f]/;
// eslint-disable-next-line no-control-regex -- same set
const VALUE_SPECIAL_G = /[&<>\x00-\x08\x0b\x0c\x0e-\x1f]/g;
const KEY_SPECIAL = /[&<>]/;
const KEY_SPECIAL_G = /[&<>]/g;

function xmlEntity(ch: string): string {
  return ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : '';
}

/** `<value><string>...</string></value>\n` with Odoo's control-character deletion. */
function stringValue(s: string): string {
  const text = VALUE_SPECIAL.test(s) ? s.replace(VALUE_SPECIAL_G, xmlEntity) : s;
  return `<value><string>${text}</string></value>\n`;
}

/** A struct member name: escaped, control characters kept (Odoo does not strip keys). */
function escapeKey(s: string): string {
  return KEY_SPECIAL.test(s) ? s.replace(KEY_SPECIAL_G, xmlEntity) : s;
}

// ------------------------------------------------------------------------------------------------
// JSON text → XML-RPC, in one pass
// ------------------------------------------------------------------------------------------------

/** The upstream answered something that is not JSON: a bridge-side error, not an Odoo one. */
function upstreamJsonError(text: string, pos: number, what: string): OdooFault {
  const near = JSON.stringify(text.slice(Math.max(0, pos - 20), pos + 20));
  return pythonError(
    'odoo_rpc_bridge.UpstreamError',
    `the upstream Odoo answered invalid JSON: ${what} at offset ${pos} (near ${near})`,
  );
}

/**
 * Per character code below 128: 1 when a JSON string scan must stop there (`"`, `\`, `&`, `<`,
 * `>`, raw control characters). Everything else, non-ASCII included, is copied as is.
 */
const STOP = (() => {
  const t = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) t[c] = 1;
  for (const ch of '"\\&<>') t[ch.charCodeAt(0)] = 1;
  return t;
})();

const HEX = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

const ARRAY = 0;
const OBJECT = 1;

/**
 * Transcodes JSON text (as Python's `json.dumps` writes it, `NaN`/`Infinity` included) into the
 * `<value>` XML that `OdooMarshaller` writes for the same Python object, without building one:
 * - integer lexemes → `<int>` after a range check on the digits (no float rounding);
 * - lexemes with `.`/`e`/`E` → `<double>`: Python's `repr`, which is the lexeme itself when
 *   Python wrote it (checked cheaply; other spellings are re-formatted);
 * - `NaN`, `Infinity`, `-Infinity` → `nan`, `inf`, `-inf`;
 * - strings: JSON escapes decoded, control characters deleted (values only), XML-escaped;
 * - `null` → the `TypeError` fault, an int outside 32 bits → the `OverflowError` fault.
 *
 * The first marshalling fault is raised only once the whole text has been checked, so that
 * malformed JSON is always reported as such. A key repeated in one object is written twice
 * (Python's dict would keep the last value); `json.dumps` never writes one.
 *
 * Speed: one left-to-right scan; the output is appended to a string (V8 keeps it as a rope until
 * it is used), verbatim slices of the input for string contents and constants for the markup.
 */
export function transcodeJson(text: string): string {
  const n = text.length;
  const stack: number[] = [];
  let out = '';
  let pos = 0;
  let fault: OdooFault | null = null;

  for (;;) {
    // A value starts at pos.
    let c = text.charCodeAt(pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
    let opened = false;
    switch (c) {
      case 0x22 /* " */: {
        const r = scanString(text, pos, true);
        pos = r.end;
        out += '<value><string>' + r.xml + '</string></value>\n';
        break;
      }
      case 0x7b /* { */: {
        c = text.charCodeAt(++pos);
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
        if (c === 0x7d) {
          pos++;
          out += '<value><struct>\n</struct></value>\n';
        } else {
          stack.push(OBJECT);
          const r = scanKey(text, pos);
          pos = r.end;
          out += '<value><struct>\n<member>\n<name>' + r.xml + '</name>\n';
          opened = true;
        }
        break;
      }
      case 0x5b /* [ */: {
        c = text.charCodeAt(++pos);
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
        if (c === 0x5d) {
          pos++;
          out += '<value><array><data>\n</data></array></value>\n';
        } else {
          stack.push(ARRAY);
          out += '<value><array><data>\n';
          opened = true;
        }
        break;
      }
      case 0x74 /* t */:
        if (!text.startsWith('true', pos)) throw upstreamJsonError(text, pos, 'invalid literal');
        pos += 4;
        out += '<value><boolean>1</boolean></value>\n';
        break;
      case 0x66 /* f */:
        if (!text.startsWith('false', pos)) throw upstreamJsonError(text, pos, 'invalid literal');
        pos += 5;
        out += '<value><boolean>0</boolean></value>\n';
        break;
      case 0x6e /* n */:
        if (!text.startsWith('null', pos)) throw upstreamJsonError(text, pos, 'invalid literal');
        pos += 4;
        fault ??= noneFault();
        break;
      case 0x4e /* N */:
        if (!text.startsWith('NaN', pos)) throw upstreamJsonError(text, pos, 'invalid literal');
        pos += 3;
        out += '<value><double>nan</double></value>\n';
        break;
      case 0x49 /* I */:
        if (!text.startsWith('Infinity', pos)) throw upstreamJsonError(text, pos, 'invalid literal');
        pos += 8;
        out += '<value><double>inf</double></value>\n';
        break;
      default: {
        if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) {
          throw upstreamJsonError(text, pos, pos >= n ? 'unexpected end' : 'expected a value');
        }
        const r = scanNumber(text, pos);
        pos = r.end;
        out += r.xml;
        if (r.overflow) fault ??= overflowFault();
      }
    }
    if (opened) continue;

    // After a value: close containers until one continues with ','.
    for (;;) {
      c = text.charCodeAt(pos);
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
      const top = stack.length - 1;
      if (top < 0) {
        if (pos !== n) throw upstreamJsonError(text, pos, 'extra data after the value');
        if (fault !== null) throw fault;
        return out;
      }
      if (stack[top] === OBJECT) {
        if (c === 0x2c /* , */) {
          const r = scanKey(text, pos + 1);
          pos = r.end;
          out += '</member>\n<member>\n<name>' + r.xml + '</name>\n';
          break;
        }
        if (c !== 0x7d) throw upstreamJsonError(text, pos, "expected ',' or '}'");
        pos++;
        stack.pop();
        out += '</member>\n</struct></value>\n';
      } else {
        if (c === 0x2c) {
          pos++;
          break;
        }
        if (c !== 0x5d) throw upstreamJsonError(text, pos, "expected ',' or ']'");
        pos++;
        stack.pop();
        out += '</data></array></value>\n';
      }
    }
  }
}

/** What a scanner read: the XML for it and where the input continues. */
interface Scanned {
  xml: string;
  end: number;
}

interface ScannedNumber extends Scanned {
  overflow: boolean;
}

/** Reads an object key starting at or after `pos` (whitespace, the string, whitespace, `:`). */
function scanKey(text: string, pos: number): Scanned {
  let c = text.charCodeAt(pos);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
  if (c !== 0x22) throw upstreamJsonError(text, pos, 'expected a string key');
  const r = scanString(text, pos, false);
  let i = r.end;
  c = text.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  if (c !== 0x3a /* : */) throw upstreamJsonError(text, i, "expected ':'");
  r.end = i + 1;
  return r;
}

/**
 * Reads the JSON string whose opening quote is at `quote`: its XML text (escaped; in values,
 * control characters deleted) and the offset after the closing quote.
 */
function scanString(text: string, quote: number, isValue: boolean): Scanned {
  const n = text.length;
  let i = quote + 1;
  // Fast path: nothing to decode or escape, the XML is a slice of the input.
  for (;;) {
    const c = text.charCodeAt(i);
    if (c >= 128 || STOP[c] === 0) {
      i++;
      continue;
    }
    if (c === 0x22 /* " */) return { xml: text.slice(quote + 1, i), end: i + 1 };
    break;
  }
  let xml = '';
  let start = quote + 1;
  for (;;) {
    if (i >= n) throw upstreamJsonError(text, quote, 'unterminated string');
    const c = text.charCodeAt(i);
    if (c >= 128 || STOP[c] === 0) {
      i++;
      continue;
    }
    if (i > start) xml += text.slice(start, i);
    if (c === 0x22) return { xml, end: i + 1 };
    if (c === 0x26) xml += '&amp;';
    else if (c === 0x3c) xml += '&lt;';
    else if (c === 0x3e) xml += '&gt;';
    else if (c === 0x5c /* \ */) {
      const e = text.charCodeAt(i + 1);
      let ch: number;
      switch (e) {
        case 0x22:
        case 0x5c:
        case 0x2f:
          ch = e;
          break;
        case 0x62:
          ch = 0x08;
          break;
        case 0x66:
          ch = 0x0c;
          break;
        case 0x6e:
          ch = 0x0a;
          break;
        case 0x72:
          ch = 0x0d;
          break;
        case 0x74:
          ch = 0x09;
          break;
        case 0x75: {
          ch = 0;
          for (let k = 2; k < 6; k++) {
            const h = text.charCodeAt(i + k);
            const d = h < 128 ? (HEX[h] as number) : -1;
            if (d < 0) throw upstreamJsonError(text, i, 'invalid \\u escape');
            ch = ch * 16 + d;
          }
          i += 4;
          break;
        }
        default:
          throw upstreamJsonError(text, i, 'invalid escape');
      }
      i += 2;
      start = i;
      if (ch < 0x20 && ch !== 0x09 && ch !== 0x0a && ch !== 0x0d) {
        if (!isValue) xml += String.fromCharCode(ch); // keys keep them, as Odoo does
      } else if (ch === 0x26) xml += '&amp;';
      else if (ch === 0x3c) xml += '&lt;';
      else if (ch === 0x3e) xml += '&gt;';
      else xml += String.fromCharCode(ch); // a surrogate half joins its partner in the output
      continue;
    } else {
      throw upstreamJsonError(text, i, 'raw control character in a string');
    }
    i++;
    start = i;
  }
}

/** Reads the number (or `-Infinity`) at `pos` and writes its `<value>`. */
function scanNumber(text: string, pos: number): ScannedNumber {
  const begin = pos;
  let i = pos;
  if (text.charCodeAt(i) === 0x2d) i++;
  const intStart = i;
  let c = text.charCodeAt(i);
  if (c === 0x30) i++;
  else if (c >= 0x31 && c <= 0x39) {
    do i++;
    while (isDigit(text.charCodeAt(i)));
  } else if (c === 0x49 && text.startsWith('Infinity', i)) {
    return { xml: '<value><double>-inf</double></value>\n', end: i + 8, overflow: false };
  } else throw upstreamJsonError(text, begin, 'invalid number');
  const intEnd = i;
  let isFloat = false;
  if (text.charCodeAt(i) === 0x2e /* . */) {
    i++;
    if (!isDigit(text.charCodeAt(i))) throw upstreamJsonError(text, begin, 'invalid number');
    do i++;
    while (isDigit(text.charCodeAt(i)));
    isFloat = true;
  }
  c = text.charCodeAt(i);
  if (c === 0x65 || c === 0x45) {
    i++;
    c = text.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) throw upstreamJsonError(text, begin, 'invalid number');
    do i++;
    while (isDigit(text.charCodeAt(i)));
    isFloat = true;
  }
  if (isFloat)
    return {
      xml: '<value><double>' + floatRepr(text, begin, i) + '</double></value>\n',
      end: i,
      overflow: false,
    };
  const digits = intEnd - intStart;
  const negative = intStart !== begin;
  const overflow =
    digits > 10 || (digits === 10 && text.slice(intStart, intEnd) > (negative ? '2147483648' : '2147483647'));
  // Python's int('-0') is 0.
  const lexeme = negative && digits === 1 && text.charCodeAt(intStart) === 0x30 ? '0' : text.slice(begin, i);
  return { xml: '<value><int>' + lexeme + '</int></value>\n', end: i, overflow };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * `repr(float(lexeme))` for a JSON float lexeme `text[begin, end)`. Python's `json.dumps` already
 * wrote `repr`, so the lexeme is returned as is when it has repr's exact shape and at most 15
 * significant digits (then it is provably the shortest round-trip text); anything else (17-digit
 * values, `1E5`, `1.50`, ...) is converted and re-formatted.
 */
function floatRepr(text: string, begin: number, end: number): string {
  const lexeme = text.slice(begin, end);
  return isReprShaped(text, begin, end) ? lexeme : pyFloatRepr(Number(lexeme));
}

function isReprShaped(text: string, begin: number, end: number): boolean {
  let i = begin;
  if (text.charCodeAt(i) === 0x2d) i++;
  const intStart = i;
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  const intLen = i - intStart;
  let fracStart = -1;
  let fracLen = 0;
  if (text.charCodeAt(i) === 0x2e) {
    fracStart = ++i;
    while (i < end && isDigit(text.charCodeAt(i))) i++;
    fracLen = i - fracStart;
  }
  if (i === end) {
    // Positional notation: Python uses it for 1e-4 <= |x| < 1e16.
    if (fracStart < 0) return false;
    const lastFrac = text.charCodeAt(end - 1);
    if (text.charCodeAt(intStart) === 0x30) {
      // 0.xxx: at most 3 zeros after the point, no trailing zero, except 0.0 itself.
      if (fracLen === 1 && lastFrac === 0x30) return true;
      let z = fracStart;
      while (z < end && text.charCodeAt(z) === 0x30) z++;
      const sig = end - z;
      return z - fracStart <= 3 && sig > 0 && sig <= 15 && lastFrac !== 0x30;
    }
    if (intLen > 16) return false;
    if (fracLen === 1 && lastFrac === 0x30) {
      // Integral: the digits without trailing zeros must fit in 15.
      let t = intStart + intLen;
      while (t > intStart && text.charCodeAt(t - 1) === 0x30) t--;
      return t - intStart <= 15;
    }
    return lastFrac !== 0x30 && intLen + fracLen <= 15;
  }
  // Scientific notation: d[.ddd]e±XX with |x| < 1e-4 or >= 1e16, a normal double.
  if (intLen !== 1 || text.charCodeAt(intStart) === 0x30) return false;
  if (fracStart >= 0 && (fracLen === 0 || text.charCodeAt(fracStart + fracLen - 1) === 0x30)) return false;
  if (1 + fracLen > 15) return false;
  if (text.charCodeAt(i) !== 0x65) return false; // 'e', never 'E'
  const sign = text.charCodeAt(i + 1);
  if (sign !== 0x2b && sign !== 0x2d) return false;
  const expStart = i + 2;
  const expLen = end - expStart;
  if (expLen < 2 || expLen > 3 || (expLen === 3 && text.charCodeAt(expStart) === 0x30)) return false;
  const exp = Number(text.slice(expStart, end));
  if (sign === 0x2b) return exp >= 16 && exp <= 307;
  return exp >= 5 && exp <= 307;
}
