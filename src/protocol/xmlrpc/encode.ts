/**
 * XML-RPC response encoding, byte for byte as Odoo 19 writes it (docs/wire.md §1.4, §1.5):
 * Odoo's `OdooMarshaller` (CPython's `Marshaller` with `allow_none=False`, control characters
 * deleted from string values) inside Odoo's hand-written envelope.
 *
 * Two inputs:
 * - a {@link Value} (results the bridge computed itself), marshalled like a Python object;
 * - the JSON text an Odoo 19 JSON-2 endpoint answered, transcoded to XML in one pass without
 *   building objects ({@link transcodeJson}). That is the hot path of the whole bridge: a
 *   `search_read` of thousands of records goes through here.
 *
 * Both write UTF-8 straight into bytes ({@link XmlBytes}): markup as precomputed bytes, text while
 * it is escaped, so a large answer makes almost no garbage. A small answer is one buffer; a large
 * one is written into 128 KiB chunks that are reused from one answer to the next
 * (protocol/chunk-pool.ts). {@link encodeResponseChunks} hands the chunks to the HTTP layer as
 * they are; the string variants decode them once.
 *
 * Marshalling errors are the faults Odoo raises for the same result: `None` anywhere is a
 * `TypeError`, an int outside 32 bits an `OverflowError` (Odoo raises both after committing, and
 * the bridge cannot undo the JSON-2 call either).
 */
import { OdooFault, pythonError, upstreamError } from '../../errors.ts';
import { Binary, DateTime, PyFloat } from '../../values.ts';
import type { CallResult, Value } from '../../values.ts';
import { CHUNK_BYTES, pooledAnswer, releaseNothing, takeChunk, type EncodedAnswer } from '../chunk-pool.ts';
import { pyFloatRepr } from '../py-float.ts';

const RESPONSE_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n';
const RESPONSE_TAIL = '</param>\n</params>\n\n</methodResponse>\n';
const FAULT_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<fault>\n';
const FAULT_TAIL = '</fault>\n\n</methodResponse>\n';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/** The whole `methodResponse` for a successful call. Throws the marshalling fault, if any. */
export function encodeResponse(result: CallResult): string {
  return encodeResponseBytes(result).toString('utf8');
}

/** {@link encodeResponse} as one buffer of UTF-8 bytes. */
export function encodeResponseBytes(result: CallResult): Buffer {
  return writeResponse(result).bytes();
}

/**
 * {@link encodeResponse} as the UTF-8 bytes to send, in chunks (no string round trip, no copy for
 * large answers). The caller sends them, then calls `release()`.
 */
export function encodeResponseChunks(result: CallResult): EncodedAnswer {
  return writeResponse(result).answer();
}

function writeResponse(result: CallResult): XmlBytes {
  if (result.kind === 'json') {
    const w = new JsonToXml(result.text, B_HEAD.length + B_TAIL.length);
    return enveloped(w, () => w.run());
  }
  const w = new XmlBytes(1024);
  return enveloped(w, () => writeValue(w, result.value));
}

/** `fill` between the response's head and tail; on a marshalling fault the chunks go back to the pool. */
function enveloped(w: XmlBytes, fill: () => void): XmlBytes {
  try {
    w.put(B_HEAD);
    fill();
    w.put(B_TAIL);
    return w;
  } catch (e) {
    w.answer().release();
    throw e;
  }
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
  const w = new XmlBytes(256 + 3 * (text.length + String(code).length));
  w.put(B_FAULT_HEAD);
  writeValue(w, code);
  w.put(B_FAULT_MIDDLE);
  writeValue(w, text);
  w.put(B_FAULT_TAIL);
  return w.result();
}

/** One marshalled `<value>...</value>\n`, as `OdooMarshaller` writes it. */
export function encodeValue(v: Value): string {
  const w = new XmlBytes(1024);
  writeValue(w, v);
  return w.result();
}

// ------------------------------------------------------------------------------------------------
// The byte writer and the markup
// ------------------------------------------------------------------------------------------------

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const B_HEAD = ascii(RESPONSE_HEAD);
const B_TAIL = ascii(RESPONSE_TAIL);
const B_FAULT_HEAD = ascii(`${FAULT_HEAD}<value><struct>\n<member>\n<name>faultCode</name>\n`);
const B_FAULT_MIDDLE = ascii('</member>\n<member>\n<name>faultString</name>\n');
const B_FAULT_TAIL = ascii(`</member>\n</struct></value>\n${FAULT_TAIL}`);
const B_STRING_OPEN = ascii('<value><string>');
const B_STRING_CLOSE = ascii('</string></value>\n');
const B_STRUCT_OPEN = ascii('<value><struct>\n');
const B_STRUCT_EMPTY = ascii('<value><struct>\n</struct></value>\n');
const B_STRUCT_FIRST = ascii('<value><struct>\n<member>\n<name>');
const B_MEMBER_OPEN = ascii('<member>\n<name>');
const B_NAME_CLOSE = ascii('</name>\n');
const B_MEMBER_CLOSE = ascii('</member>\n');
const B_MEMBER_NEXT = ascii('</member>\n<member>\n<name>');
const B_STRUCT_END = ascii('</struct></value>\n');
const B_STRUCT_CLOSE = ascii('</member>\n</struct></value>\n');
const B_ARRAY_EMPTY = ascii('<value><array><data>\n</data></array></value>\n');
const B_ARRAY_OPEN = ascii('<value><array><data>\n');
const B_ARRAY_CLOSE = ascii('</data></array></value>\n');
const B_TRUE = ascii('<value><boolean>1</boolean></value>\n');
const B_FALSE = ascii('<value><boolean>0</boolean></value>\n');
const B_NAN = ascii('<value><double>nan</double></value>\n');
const B_INF = ascii('<value><double>inf</double></value>\n');
const B_NEG_INF = ascii('<value><double>-inf</double></value>\n');
const B_DOUBLE_OPEN = ascii('<value><double>');
const B_DOUBLE_CLOSE = ascii('</double></value>\n');
const B_INT_OPEN = ascii('<value><int>');
const B_INT_CLOSE = ascii('</int></value>\n');

/**
 * A UTF-8 byte writer with the XML-RPC text primitives. It writes into one buffer while the answer
 * fits the first one, then into pooled chunks: a full chunk is set aside as it is and writing goes
 * on in a new one, so nothing is ever copied. `room(need)` guarantees `need` contiguous bytes in
 * the current buffer, which may be a new one: callers reload `buf` and `o` after calling it.
 */
class XmlBytes {
  protected buf: Buffer;
  protected o = 0;
  /** Views of the chunks already full, in order (none for a small answer). */
  private full: Buffer[] | undefined;
  private fullBytes = 0;
  /** The pooled chunks written into, given back by the answer's release() (none for a small answer). */
  private pooled: Buffer[] | undefined;

  /** `size`: the expected length; up to a chunk, one plain buffer of that size is tried first. */
  constructor(size: number) {
    if (size > CHUNK_BYTES) {
      this.buf = takeChunk();
      this.pooled = [this.buf];
    } else this.buf = Buffer.allocUnsafe(Math.max(1024, size));
  }

  get length(): number {
    return this.fullBytes + this.o;
  }

  /** The bytes written, and the pooled chunks' release: what the HTTP layer sends. */
  answer(): EncodedAnswer {
    const last = this.buf.subarray(0, this.o);
    const pooled = this.pooled;
    if (pooled === undefined && this.full === undefined)
      return { chunks: [last], length: this.o, pooled: false, release: releaseNothing };
    const chunks = this.full === undefined ? [last] : [...this.full, last];
    if (pooled === undefined) return { chunks, length: this.length, pooled: false, release: releaseNothing };
    return pooledAnswer(chunks, this.length, pooled);
  }

  /** The bytes written, as one buffer of their own (a copy when there are several chunks). */
  bytes(): Buffer {
    if (this.full === undefined && this.pooled === undefined) return this.buf.subarray(0, this.o);
    const a = this.answer();
    const copy = Buffer.concat(a.chunks, a.length);
    a.release();
    return copy;
  }

  result(): string {
    if (this.full === undefined && this.pooled === undefined) return this.buf.toString('utf8', 0, this.o);
    return this.bytes().toString('utf8');
  }

  /**
   * Makes room for `need` more contiguous bytes: the current buffer is set aside as full and
   * writing goes on in a new chunk (or, for more than a chunk at once, a buffer of that size).
   */
  protected room(need: number): void {
    if (this.o + need <= this.buf.length) return;
    if (this.o > 0) {
      (this.full ??= []).push(this.buf.subarray(0, this.o));
      this.fullBytes += this.o;
    }
    if (need <= CHUNK_BYTES) {
      this.buf = takeChunk();
      (this.pooled ??= []).push(this.buf);
    } else this.buf = Buffer.allocUnsafe(need);
    this.o = 0;
  }

  put(bytes: Uint8Array): void {
    const len = bytes.length;
    if (this.o + len > this.buf.length) this.room(len);
    this.buf.set(bytes, this.o);
    this.o += len;
  }

  /** Writes an ASCII string (numbers). */
  putAscii(s: string): void {
    const len = s.length;
    if (this.o + len > this.buf.length) this.room(len);
    const buf = this.buf;
    let o = this.o;
    for (let k = 0; k < len; k++) buf[o++] = s.charCodeAt(k);
    this.o = o;
  }

  /**
   * Writes `s` XML-escaped (`& < >`) as UTF-8. In string values, C0 control characters other
   * than TAB, LF and CR are deleted, as Odoo deletes them; in member names they are kept. A lone
   * surrogate becomes U+FFFD, as any UTF-8 encoder writes it.
   */
  putText(s: string, isValue: boolean): void {
    const len = s.length;
    if (this.o + 5 * len > this.buf.length) this.room(5 * len);
    const buf = this.buf;
    let o = this.o;
    for (let i = 0; i < len; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        if (TEXT_PLAIN[c] === 1) buf[o++] = c;
        else if (c === 0x26 || c === 0x3c || c === 0x3e) o = putEntity(buf, o, c);
        else if (!isValue) buf[o++] = c; // a control character, kept in member names only
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const low = s.charCodeAt(i + 1);
        if (c <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
          i++;
          c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        } else c = 0xfffd;
      }
      o = putCodePoint(buf, o, c);
    }
    this.o = o;
  }
}

/** Per ASCII code: 1 when a string value copies it as is (not `& < >`, not a deleted control). */
const TEXT_PLAIN = (() => {
  const t = new Uint8Array(128).fill(1);
  for (let c = 0; c < 0x20; c++) if (c !== 0x09 && c !== 0x0a && c !== 0x0d) t[c] = 0;
  for (const ch of '&<>') t[ch.charCodeAt(0)] = 0;
  return t;
})();

/** Writes `&amp;`, `&lt;` or `&gt;`; returns the new offset. */
function putEntity(buf: Uint8Array, o: number, c: number): number {
  buf[o++] = 0x26;
  if (c === 0x26) {
    buf[o++] = 0x61;
    buf[o++] = 0x6d;
    buf[o++] = 0x70;
  } else {
    buf[o++] = c === 0x3c ? 0x6c : 0x67;
    buf[o++] = 0x74;
  }
  buf[o++] = 0x3b;
  return o;
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

function writeValue(w: XmlBytes, v: Value): void {
  if (v === null) throw noneFault();
  switch (typeof v) {
    case 'boolean':
      w.put(v ? B_TRUE : B_FALSE);
      return;
    case 'number':
      if (!Number.isInteger(v)) {
        // Not a Python int: the Value model says this cannot happen; write what Python would
        // have written for the float it is.
        writeDouble(w, v);
        return;
      }
      if (v < INT_MIN || v > INT_MAX) throw overflowFault();
      w.put(B_INT_OPEN);
      w.putAscii(String(v)); // String(-0) is "0", like Python's int
      w.put(B_INT_CLOSE);
      return;
    case 'bigint':
      if (v < BigInt(INT_MIN) || v > BigInt(INT_MAX)) throw overflowFault();
      w.put(B_INT_OPEN);
      w.putAscii(String(v));
      w.put(B_INT_CLOSE);
      return;
    case 'string':
      writeString(w, v);
      return;
  }
  if (v instanceof PyFloat) {
    writeDouble(w, v.value);
  } else if (v instanceof Binary) {
    // Odoo marshals bytes as their text (`value.decode()`): binary fields hold base64.
    writeString(w, v.base64);
  } else if (v instanceof DateTime) {
    writeString(w, v.odoo);
  } else if (Array.isArray(v)) {
    w.put(B_ARRAY_OPEN);
    for (const item of v) writeValue(w, item);
    w.put(B_ARRAY_CLOSE);
  } else {
    w.put(B_STRUCT_OPEN);
    for (const [key, item] of v) {
      w.put(B_MEMBER_OPEN);
      w.putText(key, false);
      w.put(B_NAME_CLOSE);
      writeValue(w, item);
      w.put(B_MEMBER_CLOSE);
    }
    w.put(B_STRUCT_END);
  }
}

function writeString(w: XmlBytes, s: string): void {
  w.put(B_STRING_OPEN);
  w.putText(s, true);
  w.put(B_STRING_CLOSE);
}

function writeDouble(w: XmlBytes, n: number): void {
  w.put(B_DOUBLE_OPEN);
  w.putAscii(pyFloatRepr(n));
  w.put(B_DOUBLE_CLOSE);
}

// ------------------------------------------------------------------------------------------------
// JSON text → XML-RPC, in one pass
// ------------------------------------------------------------------------------------------------

/** The upstream answered something that is not JSON: a bridge-side error, not an Odoo one. */
function upstreamJsonError(text: string, pos: number, what: string): OdooFault {
  const near = JSON.stringify(text.slice(Math.max(0, pos - 20), pos + 20));
  return upstreamError(`the upstream Odoo answered invalid JSON: ${what} at offset ${pos} (near ${near})`);
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
 * (Python's dict would keep the last value); `json.dumps` never writes one. A lone surrogate
 * (`"\ud800"`) becomes U+FFFD, as any UTF-8 encoder writes it (Odoo would fail to encode it).
 */
export function transcodeJson(text: string): string {
  const w = new JsonToXml(text, 0);
  w.run();
  return w.result();
}

/**
 * The single pass behind {@link transcodeJson}. The XML is written as UTF-8 straight into bytes
 * ({@link XmlBytes}), markup as precomputed bytes and string contents while they are scanned,
 * and turned into a string once: no intermediate strings, so almost no garbage.
 */
class JsonToXml extends XmlBytes {
  private readonly text: string;
  private readonly n: number;
  private pos = 0;
  private fault: OdooFault | null = null;

  constructor(text: string, extra: number) {
    // Python-written JSON grows about 3.5 times as XML-RPC (more for lists of small ints): an
    // answer expected to fit a chunk gets one buffer of that size, a larger one pooled chunks.
    super(text.length * 4 + extra);
    this.text = text;
    this.n = text.length;
  }

  private skipWs(): number {
    const text = this.text;
    let pos = this.pos;
    let c = text.charCodeAt(pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++pos);
    this.pos = pos;
    return c;
  }

  run(): void {
    const text = this.text;
    const stack: number[] = [];
    for (;;) {
      // A value starts here.
      let c = this.skipWs();
      let opened = false;
      switch (c) {
        case 0x22 /* " */:
          this.put(B_STRING_OPEN);
          this.string(true);
          this.put(B_STRING_CLOSE);
          break;
        case 0x7b /* { */:
          this.pos++;
          if (this.skipWs() === 0x7d) {
            this.pos++;
            this.put(B_STRUCT_EMPTY);
          } else {
            stack.push(OBJECT);
            this.put(B_STRUCT_FIRST);
            this.key();
            opened = true;
          }
          break;
        case 0x5b /* [ */:
          this.pos++;
          if (this.skipWs() === 0x5d) {
            this.pos++;
            this.put(B_ARRAY_EMPTY);
          } else {
            stack.push(ARRAY);
            this.put(B_ARRAY_OPEN);
            opened = true;
          }
          break;
        case 0x74 /* t */:
          this.literal('true', B_TRUE);
          break;
        case 0x66 /* f */:
          this.literal('false', B_FALSE);
          break;
        case 0x6e /* n */:
          this.literal('null', null);
          this.fault ??= noneFault();
          break;
        case 0x4e /* N */:
          this.literal('NaN', B_NAN);
          break;
        case 0x49 /* I */:
          this.literal('Infinity', B_INF);
          break;
        default:
          if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) {
            throw upstreamJsonError(
              text,
              this.pos,
              this.pos >= this.n ? 'unexpected end' : 'expected a value',
            );
          }
          this.number();
      }
      if (opened) continue;

      // After a value: close containers until one continues with ','.
      for (;;) {
        c = this.skipWs();
        const top = stack.length - 1;
        if (top < 0) {
          if (this.pos !== this.n) throw upstreamJsonError(text, this.pos, 'extra data after the value');
          if (this.fault !== null) throw this.fault;
          return;
        }
        if (stack[top] === OBJECT) {
          if (c === 0x2c /* , */) {
            this.pos++;
            this.put(B_MEMBER_NEXT);
            this.key();
            break;
          }
          if (c !== 0x7d) throw upstreamJsonError(text, this.pos, "expected ',' or '}'");
          this.pos++;
          stack.pop();
          this.put(B_STRUCT_CLOSE);
        } else {
          if (c === 0x2c) {
            this.pos++;
            break;
          }
          if (c !== 0x5d) throw upstreamJsonError(text, this.pos, "expected ',' or ']'");
          this.pos++;
          stack.pop();
          this.put(B_ARRAY_CLOSE);
        }
      }
    }
  }

  private literal(word: string, xml: Uint8Array | null): void {
    if (!this.text.startsWith(word, this.pos))
      throw upstreamJsonError(this.text, this.pos, 'invalid literal');
    this.pos += word.length;
    if (xml !== null) this.put(xml);
  }

  /** A member name and its `:`; the `<member>\n<name>` before it is already written. */
  private key(): void {
    if (this.skipWs() !== 0x22) throw upstreamJsonError(this.text, this.pos, 'expected a string key');
    this.string(false);
    this.put(B_NAME_CLOSE);
    if (this.skipWs() !== 0x3a /* : */) throw upstreamJsonError(this.text, this.pos, "expected ':'");
    this.pos++;
  }

  /**
   * The JSON string at `pos` (its opening quote), written as escaped UTF-8; in values, control
   * characters are deleted as Odoo deletes them.
   */
  private string(isValue: boolean): void {
    const text = this.text;
    const quote = this.pos;
    let i = quote + 1;
    let buf = this.buf;
    let o = this.o;
    let end = -1;
    for (;;) {
      if (i > end) {
        // Up to the next quote, at most 5 bytes per character (`&amp;`) are written.
        end = text.indexOf('"', i);
        if (end < 0) throw upstreamJsonError(text, quote, 'unterminated string');
        if (o + 5 * (end - i) + 16 > buf.length) {
          this.o = o;
          this.room(5 * (end - i) + 16);
          buf = this.buf;
          o = this.o;
        }
      }
      let c = text.charCodeAt(i);
      // The common case: plain ASCII, copied as is.
      while (c < 0x80 && STOP[c] === 0) {
        buf[o++] = c;
        c = text.charCodeAt(++i);
      }
      if (c < 0x80) {
        if (c === 0x22 /* " */) break;
        i++;
        if (c === 0x5c /* \ */) {
          const e = text.charCodeAt(i);
          i++;
          switch (e) {
            case 0x22:
            case 0x5c:
            case 0x2f:
              c = e;
              break;
            case 0x62:
              c = 0x08;
              break;
            case 0x66:
              c = 0x0c;
              break;
            case 0x6e:
              c = 0x0a;
              break;
            case 0x72:
              c = 0x0d;
              break;
            case 0x74:
              c = 0x09;
              break;
            case 0x75:
              c = hex4(text, i);
              i += 4;
              break;
            default:
              throw upstreamJsonError(text, i - 2, 'invalid escape');
          }
          if (c >= 0x80) {
            if (c >= 0xd800 && c <= 0xdbff) {
              // A surrogate pair written as two escapes.
              const low =
                text.charCodeAt(i) === 0x5c && text.charCodeAt(i + 1) === 0x75 ? hex4(text, i + 2) : -1;
              if (low >= 0xdc00 && low <= 0xdfff) {
                i += 6;
                o = putCodePoint(buf, o, 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00));
                continue;
              }
              c = 0xfffd;
            } else if (c >= 0xdc00 && c <= 0xdfff) c = 0xfffd;
            o = putCodePoint(buf, o, c);
            continue;
          }
          if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) {
            if (!isValue) buf[o++] = c; // keys keep them, as Odoo does
            continue;
          }
        } else if (c < 0x20) {
          throw upstreamJsonError(text, i - 1, 'raw control character in a string');
        }
        // An ASCII character, raw or unescaped: the XML specials get their entity.
        if (c === 0x26 || c === 0x3c || c === 0x3e) o = putEntity(buf, o, c);
        else buf[o++] = c;
        continue;
      }
      // Non-ASCII, copied as UTF-8 (a raw surrogate pair as one code point).
      i++;
      if (c >= 0xd800 && c <= 0xdbff) {
        const low = text.charCodeAt(i);
        if (low >= 0xdc00 && low <= 0xdfff) {
          i++;
          o = putCodePoint(buf, o, 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00));
          continue;
        }
        c = 0xfffd;
      } else if (c >= 0xdc00 && c <= 0xdfff) c = 0xfffd;
      o = putCodePoint(buf, o, c);
    }
    this.o = o;
    this.pos = i + 1;
  }

  /** The number (or `-Infinity`) at `pos`. */
  private number(): void {
    const text = this.text;
    const begin = this.pos;
    let i = begin;
    if (text.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    let c = text.charCodeAt(i);
    if (c === 0x30) i++;
    else if (c >= 0x31 && c <= 0x39) {
      do i++;
      while (isDigit(text.charCodeAt(i)));
    } else if (c === 0x49 && text.startsWith('Infinity', i)) {
      this.pos = i + 8;
      this.put(B_NEG_INF);
      return;
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
    this.pos = i;
    if (isFloat) {
      this.put(B_DOUBLE_OPEN);
      if (isReprShaped(text, begin, i)) this.putSlice(begin, i);
      else this.putAscii(pyFloatRepr(Number(text.slice(begin, i))));
      this.put(B_DOUBLE_CLOSE);
      return;
    }
    const digits = intEnd - intStart;
    const negative = intStart !== begin;
    if (
      digits > 10 ||
      (digits === 10 && text.slice(intStart, intEnd) > (negative ? '2147483648' : '2147483647'))
    ) {
      this.fault ??= overflowFault();
    }
    this.put(B_INT_OPEN);
    // Python's int('-0') is 0.
    if (negative && digits === 1 && text.charCodeAt(intStart) === 0x30) this.putSlice(intStart, i);
    else this.putSlice(begin, i);
    this.put(B_INT_CLOSE);
  }

  /** Copies an ASCII slice of the input. */
  private putSlice(from: number, to: number): void {
    if (this.o + (to - from) > this.buf.length) this.room(to - from);
    const text = this.text;
    const buf = this.buf;
    let o = this.o;
    for (let k = from; k < to; k++) buf[o++] = text.charCodeAt(k);
    this.o = o;
  }
}

/** The 4 hex digits at `i`, or an upstream error. */
function hex4(text: string, i: number): number {
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const h = text.charCodeAt(k);
    const d = h < 128 ? (HEX[h] as number) : -1;
    if (d < 0) throw upstreamJsonError(text, i - 2, 'invalid \\u escape');
    v = v * 16 + d;
  }
  return v;
}

/** Writes a non-ASCII code point as UTF-8; returns the new offset. */
function putCodePoint(buf: Uint8Array, o: number, cp: number): number {
  if (cp < 0x800) {
    buf[o] = 0xc0 | (cp >> 6);
    buf[o + 1] = 0x80 | (cp & 0x3f);
    return o + 2;
  }
  if (cp < 0x10000) {
    buf[o] = 0xe0 | (cp >> 12);
    buf[o + 1] = 0x80 | ((cp >> 6) & 0x3f);
    buf[o + 2] = 0x80 | (cp & 0x3f);
    return o + 3;
  }
  buf[o] = 0xf0 | (cp >> 18);
  buf[o + 1] = 0x80 | ((cp >> 12) & 0x3f);
  buf[o + 2] = 0x80 | ((cp >> 6) & 0x3f);
  buf[o + 3] = 0x80 | (cp & 0x3f);
  return o + 4;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Whether the float lexeme `text[begin, end)` is already `repr(float(lexeme))`. Python's
 * `json.dumps` wrote `repr`, so this is the usual case: repr's exact shape with at most 15
 * significant digits is provably the shortest round-trip text. Anything else (17-digit values,
 * `1E5`, `1.50`, ...) is converted and re-formatted by the caller.
 */
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
