/**
 * Odoo's JSON-2 answer, as the UTF-8 bytes it came in, transcoded into the `<value>` XML that
 * `OdooMarshaller` writes for the same Python object, in one pass and without building it:
 * - integer lexemes → `<int>` after a range check on the digits (no float rounding);
 * - lexemes with `.`/`e`/`E` → `<double>`: Python's `repr`, which is the lexeme itself when
 *   Python wrote it (checked cheaply; other spellings are re-formatted);
 * - `NaN`, `Infinity`, `-Infinity` → `nan`, `inf`, `-inf`;
 * - strings: JSON escapes decoded, control characters deleted (values only), XML-escaped;
 * - `null` → the `TypeError` fault, an int outside 32 bits → the `OverflowError` fault.
 *
 * The first marshalling fault is raised only once the whole text has been read, so that malformed
 * JSON is always reported as such. A key repeated in one object is written twice (Python's dict
 * would keep the last value); `json.dumps` never writes one. A lone surrogate (`"\ud800"`) becomes
 * U+FFFD, as any UTF-8 encoder writes it (Odoo would fail to encode it).
 *
 * The text is read chunk by chunk as the socket delivered it ({@link JsonToXml.write}), never joined
 * or decoded: the bytes of a string are copied as they are (they were checked to be UTF-8, see
 * protocol/utf8-bytes.ts), and a long string's end is found with native searches (`indexOf`, at
 * memory speed) and a four-bytes-at-a-time check for control characters, and the run goes into the
 * answer as a view of Odoo's bytes, not even copied. A base64 attachment thus crosses at memory
 * speed. A token that a chunk's
 * end cuts (a number, a literal, an escape; at most {@link MAX_CARRY} bytes) is carried over to the
 * next chunk; a string is read across chunks without carrying anything.
 *
 * The JSON-RPC route runs the same reader in check mode ({@link checkJson}): nothing is written, and
 * an answer that is not JSON gets the same fault on both protocols.
 */
import { InvalidUpstreamJson, OdooFault } from '../../errors.ts';
import { pyFloatRepr } from '../py-float.ts';
import type { Utf8Bytes } from '../../utf8-bytes.ts';
import { firstControl, indexOrEnd } from '../byte-search.ts';
import { putCodePoint } from '../byte-writer.ts';
import {
  B_ARRAY_CLOSE,
  B_ARRAY_EMPTY,
  B_ARRAY_OPEN,
  B_DOUBLE_CLOSE,
  B_DOUBLE_OPEN,
  B_FALSE,
  B_INF,
  B_INT_CLOSE,
  B_INT_OPEN,
  B_MEMBER_NEXT,
  B_NAME_CLOSE,
  B_NAN,
  B_NEG_INF,
  B_STRING_CLOSE,
  B_STRING_OPEN,
  B_STRUCT_CLOSE,
  B_STRUCT_EMPTY,
  B_STRUCT_FIRST,
  B_TRUE,
  noneFault,
  overflowFault,
  putEntity,
  XmlBytes,
} from './xml-bytes.ts';

/** What the reader expects next (after blanks). */
const VALUE = 0;
/** After `[`: `]` or the first item. */
const FIRST_ITEM = 1;
/** After `{`: `}` or the first key. */
const FIRST_MEMBER = 2;
/** A key, after `,` in an object. */
const KEY = 3;
const COLON = 4;
/** After an item or a member's value: `,` or the container's end. */
const AFTER = 5;
/** Inside a string (a key or a value), after its opening quote. */
const IN_STRING = 6;
/** After the top-level value: blanks only. */
const END = 7;

const ARRAY = 0;
const OBJECT = 1;

/**
 * The longest token carried from one chunk to the next: Python writes no int longer than 4,300
 * digits (`sys.get_int_max_str_digits()`) and no float longer than 24 characters. A longer number
 * that a chunk's end cuts is refused as invalid JSON (whole in one chunk, it is read as ever); the
 * cap keeps a hostile upstream's tiny chunks from making the carrying quadratic.
 */
const MAX_CARRY = 4400;
/** How many bytes of a string are copied one by one before its end is looked for natively. */
const SHORT = 48;
/** Room made in the output before each step of a string: SHORT plain bytes, or one escape. */
const STEP_ROOM = 6 * SHORT + 16;

/** Per byte: 1 where a string's plain run stops (`"`, `\`, `&`, `<`, `>`, raw control characters). */
const STOP = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 0x20; c++) t[c] = 1;
  for (const ch of '"\\&<>') t[ch.charCodeAt(0)] = 1;
  return t;
})();

/** Per byte: 1 for the bytes a number lexeme can hold. */
const NUMBER_BYTE = (() => {
  const t = new Uint8Array(256);
  for (const ch of '0123456789+-.eE') t[ch.charCodeAt(0)] = 1;
  return t;
})();

const HEX = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[65 + i] = 10 + i;
    t[97 + i] = 10 + i;
  }
  return t;
})();

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const W_TRUE = ascii('true');
const W_FALSE = ascii('false');
const W_NULL = ascii('null');
const W_NAN = ascii('NaN');
const W_INFINITY = ascii('Infinity');
const W_NEG_INFINITY = ascii('-Infinity');
const EMPTY = Buffer.alloc(0);

/** The upstream answered something that is not JSON: a bridge-side error, not an Odoo one. */
function upstreamJsonError(offset: number, near: string, what: string): OdooFault {
  return new InvalidUpstreamJson(`${what} at offset ${offset} (near ${JSON.stringify(near)})`);
}

/**
 * The reader and writer. Feed it the text's chunks in order with {@link write}, the last one with
 * `last` set; it throws the first malformed-JSON error as soon as it meets it, and the first
 * marshalling fault once the last chunk has been read.
 */
export class JsonToXml extends XmlBytes {
  private src: Buffer = EMPTY;
  private pos = 0;
  /** The offset of `src[0]` in the whole text (for messages). */
  private base = 0;
  private last = false;
  /** The start of a token the previous chunk's end cut, read again with the next chunk. */
  private carry: Buffer | undefined;
  private readonly stack: number[] = [];
  private state = VALUE;
  /** Whether the string being read is a value (else a key). */
  private isValue = true;
  /** The offset of its opening quote in the whole text. */
  private quoteAt = 0;
  private fault: OdooFault | null = null;
  /** Where the next `"`, `\`, `&`, `<`, `>` are in `src` (at or after where they were last looked for; src.length: none). */
  private nextQuote = -1;
  private nextBackslash = -1;
  private nextAmp = -1;
  private nextLt = -1;
  private nextGt = -1;

  /** Feeds the next bytes of the text; `last`: no more follow, so the text must be complete. */
  write(chunk: Buffer, last: boolean): void {
    let src = chunk;
    const carried = this.carry;
    if (carried !== undefined) {
      this.carry = undefined;
      this.base -= carried.length;
      src = Buffer.concat([carried, chunk]);
    }
    this.src = src;
    this.pos = 0;
    this.last = last;
    this.nextQuote = this.nextBackslash = this.nextAmp = this.nextLt = this.nextGt = -1;
    this.run();
    this.base += src.length;
    this.src = EMPTY;
  }

  /** Feeds the whole text. */
  writeAll(bytes: Utf8Bytes): void {
    const { chunks } = bytes;
    if (chunks.length === 0) this.write(EMPTY, true);
    for (let k = 0; k < chunks.length; k++) this.write(chunks[k] as Buffer, k === chunks.length - 1);
  }

  /** In check mode: whether marshalling faults count (they do when writing XML-RPC). */
  protected marshals(): boolean {
    return true;
  }

  /**
   * A plain run of a string, which is its XML as it is: a long one goes into the answer as a view
   * of Odoo's own bytes (they stay unchanged until the answer is sent), a short one is copied.
   * Check mode: nothing to write.
   */
  protected copyRun(src: Buffer, from: number, to: number): void {
    this.putShared(src.subarray(from, to));
  }

  private run(): void {
    const src = this.src;
    const end = src.length;
    for (;;) {
      if (this.state === IN_STRING) {
        if (!this.string()) return;
        if (this.isValue) {
          this.put(B_STRING_CLOSE);
          this.state = this.stack.length === 0 ? END : AFTER;
        } else {
          this.put(B_NAME_CLOSE);
          this.state = COLON;
        }
        continue;
      }
      let i = this.pos;
      let c = src[i] as number;
      while (i < end && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) c = src[++i] as number;
      this.pos = i;
      if (i === end) {
        if (this.last) this.ended();
        return;
      }
      switch (this.state) {
        case FIRST_ITEM:
          if (c === 0x5d /* ] */) {
            this.pos++;
            this.put(B_ARRAY_EMPTY);
            this.state = this.stack.length === 0 ? END : AFTER;
            continue;
          }
          this.stack.push(ARRAY);
          this.put(B_ARRAY_OPEN);
          this.state = VALUE;
          if (!this.value(c)) return;
          continue;
        case VALUE:
          if (!this.value(c)) return;
          continue;
        case FIRST_MEMBER:
          if (c === 0x7d /* } */) {
            this.pos++;
            this.put(B_STRUCT_EMPTY);
            this.state = this.stack.length === 0 ? END : AFTER;
            continue;
          }
          this.stack.push(OBJECT);
          this.put(B_STRUCT_FIRST);
          this.state = KEY;
          this.key(c);
          continue;
        case KEY:
          this.key(c);
          continue;
        case COLON:
          if (c !== 0x3a /* : */) throw this.error(i, "expected ':'");
          this.pos++;
          this.state = VALUE;
          continue;
        case AFTER:
          this.pos++;
          if (this.stack[this.stack.length - 1] === OBJECT) {
            if (c === 0x2c /* , */) {
              this.put(B_MEMBER_NEXT);
              this.state = KEY;
            } else if (c === 0x7d) {
              this.stack.pop();
              this.put(B_STRUCT_CLOSE);
              if (this.stack.length === 0) this.state = END;
            } else throw this.error(i, "expected ',' or '}'");
          } else if (c === 0x2c) {
            this.state = VALUE;
          } else if (c === 0x5d) {
            this.stack.pop();
            this.put(B_ARRAY_CLOSE);
            if (this.stack.length === 0) this.state = END;
          } else throw this.error(i, "expected ',' or ']'");
          continue;
        default: // END
          throw this.error(i, 'extra data after the value');
      }
    }
  }

  /** The last chunk is read: the text must be complete. */
  private ended(): void {
    const at = this.pos;
    switch (this.state) {
      case END:
        if (this.fault !== null && this.marshals()) throw this.fault;
        return;
      case VALUE:
      case FIRST_ITEM:
        throw this.error(at, 'unexpected end');
      case FIRST_MEMBER:
      case KEY:
        throw this.error(at, 'expected a string key');
      case COLON:
        throw this.error(at, "expected ':'");
      case AFTER:
        throw this.error(
          at,
          this.stack[this.stack.length - 1] === OBJECT ? "expected ',' or '}'" : "expected ',' or ']'",
        );
      default: // IN_STRING: string() reports it
        throw this.error(at, 'unexpected end');
    }
  }

  /** A value starting with byte `c` at `pos`; false when the chunk's end cut it (carried over). */
  private value(c: number): boolean {
    switch (c) {
      case 0x22 /* " */:
        this.put(B_STRING_OPEN);
        this.isValue = true;
        this.quoteAt = this.base + this.pos;
        this.pos++;
        this.state = IN_STRING;
        return true;
      case 0x7b /* { */:
        this.pos++;
        this.state = FIRST_MEMBER;
        return true;
      case 0x5b /* [ */:
        this.pos++;
        this.state = FIRST_ITEM;
        return true;
      case 0x74 /* t */:
        return this.literal(W_TRUE, B_TRUE);
      case 0x66 /* f */:
        return this.literal(W_FALSE, B_FALSE);
      case 0x6e /* n */:
        if (!this.literal(W_NULL, null)) return false;
        this.fault ??= noneFault();
        return true;
      case 0x4e /* N */:
        return this.literal(W_NAN, B_NAN);
      case 0x49 /* I */:
        return this.literal(W_INFINITY, B_INF);
      default:
        if (c !== 0x2d && !(c >= 0x30 && c <= 0x39)) throw this.error(this.pos, 'expected a value');
        return this.number();
    }
  }

  /** A member's key starting with byte `c`; the `<member>\n<name>` before it is already written. */
  private key(c: number): void {
    if (c !== 0x22) throw this.error(this.pos, 'expected a string key');
    this.isValue = false;
    this.quoteAt = this.base + this.pos;
    this.pos++;
    this.state = IN_STRING;
  }

  private afterValue(): void {
    this.state = this.stack.length === 0 ? END : AFTER;
  }

  /** Keeps `src[from..]` to be read again with the next chunk; false, for the caller to return. */
  private carryFrom(from: number, what: string): false {
    if (this.src.length - from > MAX_CARRY) throw this.error(from, what);
    this.carry = Buffer.from(this.src.subarray(from));
    this.pos = this.src.length;
    return false;
  }

  private literal(word: Buffer, xml: Uint8Array | null): boolean {
    const src = this.src;
    const at = this.pos;
    if (src.length - at < word.length && !this.last) return this.carryFrom(at, 'invalid literal');
    for (let k = 0; k < word.length; k++)
      if (src[at + k] !== word[k]) throw this.error(at, 'invalid literal');
    this.pos = at + word.length;
    if (xml !== null) this.put(xml);
    this.afterValue();
    return true;
  }

  /**
   * The string's bytes from `pos`, written escaped; true once its closing quote is read, false when
   * the chunk ran out first (or cut an escape, carried over).
   */
  private string(): boolean {
    const src = this.src;
    const end = src.length;
    const isValue = this.isValue;
    let i = this.pos;
    let buf = this.buf;
    let o = this.o;
    for (;;) {
      if (o + STEP_ROOM > buf.length) {
        this.o = o;
        this.room(STEP_ROOM);
        buf = this.buf;
        o = this.o;
      }
      // The common case: plain bytes (non-ASCII included: the text is valid UTF-8), copied as is.
      const stop = Math.min(end, i + SHORT);
      let c = 0;
      while (i < stop && STOP[(c = src[i] as number)] === 0) {
        buf[o++] = c;
        i++;
      }
      if (i === stop) {
        this.o = o;
        this.pos = i;
        if (i === end) {
          if (this.last) throw this.error(this.quoteAt - this.base, 'unterminated string');
          return false;
        }
        // A long string: the end of its plain run found natively, the run copied in one go.
        const runEnd = this.plainRunEnd(i);
        this.copyRun(src, i, runEnd);
        i = runEnd;
        buf = this.buf;
        o = this.o;
        continue;
      }
      if (c === 0x22) {
        this.o = o;
        this.pos = i + 1;
        return true;
      }
      if (c === 0x5c) {
        // An escape: at most 12 bytes (a surrogate pair written as two); one the chunk may cut
        // is read again with the next chunk.
        if (end - i < 12 && !this.last) {
          this.o = o;
          return this.carryFrom(i, 'invalid escape');
        }
        const e = src[i + 1];
        let k = i + 2;
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
            c = hex4(src, k);
            if (c < 0) throw this.error(i, 'invalid \\u escape');
            k += 4;
            break;
          default:
            throw this.error(i, 'invalid escape');
        }
        i = k;
        if (c >= 0x80) {
          if (c >= 0xd800 && c <= 0xdbff) {
            const low = src[k] === 0x5c && src[k + 1] === 0x75 ? hex4(src, k + 2) : -1;
            if (low >= 0xdc00 && low <= 0xdfff) {
              i = k + 6;
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
        if (c === 0x26 || c === 0x3c || c === 0x3e) o = putEntity(buf, o, c);
        else buf[o++] = c;
        continue;
      }
      if (c < 0x20) throw this.error(i, 'raw control character in a string');
      o = putEntity(buf, o, c); // & < >
      i++;
    }
  }

  /** Where the plain run of a string that goes on at `i` ends: its next stop byte, or the chunk's end. */
  private plainRunEnd(i: number): number {
    const src = this.src;
    if (this.nextQuote < i) this.nextQuote = indexOrEnd(src, 0x22, i);
    if (this.nextBackslash < i) this.nextBackslash = indexOrEnd(src, 0x5c, i);
    if (this.nextAmp < i) this.nextAmp = indexOrEnd(src, 0x26, i);
    if (this.nextLt < i) this.nextLt = indexOrEnd(src, 0x3c, i);
    if (this.nextGt < i) this.nextGt = indexOrEnd(src, 0x3e, i);
    const end = Math.min(this.nextQuote, this.nextBackslash, this.nextAmp, this.nextLt, this.nextGt);
    return firstControl(src, i, end);
  }

  /** The number (or `-Infinity`) at `pos`; false when the chunk's end cut it (carried over). */
  private number(): boolean {
    const src = this.src;
    const n = src.length;
    const begin = this.pos;
    if (src[begin] === 0x2d && src[begin + 1] === 0x49) return this.literal(W_NEG_INFINITY, B_NEG_INF);
    let t = begin;
    while (t < n && NUMBER_BYTE[src[t] as number] === 1) t++;
    if (t === n && !this.last) return this.carryFrom(begin, 'invalid number');
    let i = begin;
    if (src[i] === 0x2d) i++;
    const intStart = i;
    let c = src[i];
    if (c === 0x30) i++;
    else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      do i++;
      while (isDigit(src[i]));
    } else throw this.error(begin, 'invalid number');
    const intEnd = i;
    let isFloat = false;
    if (src[i] === 0x2e /* . */) {
      i++;
      if (!isDigit(src[i])) throw this.error(begin, 'invalid number');
      do i++;
      while (isDigit(src[i]));
      isFloat = true;
    }
    c = src[i];
    if (c === 0x65 || c === 0x45) {
      i++;
      c = src[i];
      if (c === 0x2b || c === 0x2d) i++;
      if (!isDigit(src[i])) throw this.error(begin, 'invalid number');
      do i++;
      while (isDigit(src[i]));
      isFloat = true;
    }
    this.pos = i;
    this.afterValue();
    if (isFloat) {
      this.put(B_DOUBLE_OPEN);
      if (isReprShaped(src, begin, i)) this.putSpan(src, begin, i);
      else this.putAscii(pyFloatRepr(Number(src.toString('latin1', begin, i))));
      this.put(B_DOUBLE_CLOSE);
      return true;
    }
    const digits = intEnd - intStart;
    const negative = intStart !== begin;
    if (
      digits > 10 ||
      (digits === 10 && src.toString('latin1', intStart, intEnd) > (negative ? '2147483648' : '2147483647'))
    ) {
      this.fault ??= overflowFault();
    }
    this.put(B_INT_OPEN);
    // Python's int('-0') is 0.
    if (negative && digits === 1 && src[intStart] === 0x30) this.putSpan(src, intStart, i);
    else this.putSpan(src, begin, i);
    this.put(B_INT_CLOSE);
    return true;
  }

  /** The malformed-JSON fault, at index `at` of the current chunk. */
  private error(at: number, what: string): OdooFault {
    const src = this.src;
    const near = src.toString('utf8', Math.max(0, at - 20), Math.min(src.length, at + 20));
    return upstreamJsonError(this.base + at, near, what);
  }
}

/**
 * The reader in check mode: whether the text is JSON as Python's `json.loads` reads it (NaN and
 * Infinity included), nothing written. Throws the same malformed-JSON fault as the transcoder.
 */
class JsonCheck extends JsonToXml {
  constructor() {
    super(4096);
  }

  protected override marshals(): boolean {
    return false;
  }

  protected override copyRun(): void {}

  /** Markup: nothing to write. */
  override put(): void {}

  /** The little it writes (markup, short strings) goes round one scratch buffer. */
  protected override room(need: number): void {
    if (this.o + need <= this.buf.length) return;
    this.o = 0;
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
  }
}

/** Throws the upstream error unless `bytes` are one JSON text (Python's: NaN and Infinity included). */
export function checkJson(bytes: Utf8Bytes): void {
  new JsonCheck().writeAll(bytes);
}

/** The 4 hex digits at `i` as a number, or -1. */
function hex4(src: Buffer, i: number): number {
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const d = HEX[src[k] ?? 0x100] ?? -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/**
 * Whether the float lexeme `src[begin, end)` is already `repr(float(lexeme))`. Python's
 * `json.dumps` wrote `repr`, so this is the usual case: repr's exact shape with at most 15
 * significant digits is provably the shortest round-trip text. Anything else (17-digit values,
 * `1E5`, `1.50`, ...) is converted and re-formatted by the caller.
 */
function isReprShaped(src: Buffer, begin: number, end: number): boolean {
  let i = begin;
  if (src[i] === 0x2d) i++;
  const intStart = i;
  while (i < end && isDigit(src[i])) i++;
  const intLen = i - intStart;
  let fracStart = -1;
  let fracLen = 0;
  if (src[i] === 0x2e) {
    fracStart = ++i;
    while (i < end && isDigit(src[i])) i++;
    fracLen = i - fracStart;
  }
  if (i === end) {
    // Positional notation: Python uses it for 1e-4 <= |x| < 1e16.
    if (fracStart < 0) return false;
    const lastFrac = src[end - 1];
    if (src[intStart] === 0x30) {
      // 0.xxx: at most 3 zeros after the point, no trailing zero, except 0.0 itself.
      if (fracLen === 1 && lastFrac === 0x30) return true;
      let z = fracStart;
      while (z < end && src[z] === 0x30) z++;
      const sig = end - z;
      return z - fracStart <= 3 && sig > 0 && sig <= 15 && lastFrac !== 0x30;
    }
    if (intLen > 16) return false;
    if (fracLen === 1 && lastFrac === 0x30) {
      // Integral: the digits without trailing zeros must fit in 15.
      let t = intStart + intLen;
      while (t > intStart && src[t - 1] === 0x30) t--;
      return t - intStart <= 15;
    }
    return lastFrac !== 0x30 && intLen + fracLen <= 15;
  }
  // Scientific notation: d[.ddd]e±XX with |x| < 1e-4 or >= 1e16, a normal double.
  if (intLen !== 1 || src[intStart] === 0x30) return false;
  if (fracStart >= 0 && (fracLen === 0 || src[fracStart + fracLen - 1] === 0x30)) return false;
  if (1 + fracLen > 15) return false;
  if (src[i] !== 0x65) return false; // 'e', never 'E'
  const sign = src[i + 1];
  if (sign !== 0x2b && sign !== 0x2d) return false;
  const expStart = i + 2;
  const expLen = end - expStart;
  if (expLen < 2 || expLen > 3 || (expLen === 3 && src[expStart] === 0x30)) return false;
  const exp = Number(src.toString('latin1', expStart, end));
  if (sign === 0x2b) return exp >= 16 && exp <= 307;
  return exp >= 5 && exp <= 307;
}
