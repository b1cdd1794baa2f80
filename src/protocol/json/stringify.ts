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
 *
 * Written as UTF-8 bytes straight into buffers (protocol/byte-writer.ts). A long string (a base64
 * attachment) is encoded by the engine at memory speed and then searched for the bytes that need
 * an escape (`"`, `\`, controls: found natively, see byte-search.ts); only a string that has some
 * is written again character by character.
 */
import { Binary, DateTime, LargeText, PyFloat, type Value } from '../../values.ts';
import { firstControl } from '../byte-search.ts';
import { ByteWriter, putCodePoint } from '../byte-writer.ts';
import type { EncodedAnswer } from '../chunk-pool.ts';
import { pyFloatRepr } from '../py-float.ts';

/** Serialize a value as Python's `json.dumps(v, ensure_ascii=False)` would. */
export function toPythonJson(v: Value): string {
  const w = new JsonWriter(0, true);
  w.value(v);
  return w.result();
}

/**
 * {@link toPythonJson} as UTF-8 bytes, for a request body: written into chunks of the writer's own
 * (not the pool's), which a socket may go on reading after the request has been answered.
 */
export function toPythonJsonBytes(v: Value): EncodedAnswer {
  const w = new JsonWriter(0, false);
  w.value(v);
  return w.answer();
}

/** Strings longer than this are encoded natively, then checked for what needs an escape. */
const LONG = 256;

/** Escapes for code units 0..0x1f, `"` and `\`, as bytes. */
const ESCAPES: Uint8Array[] = [];
for (let c = 0; c < 0x20; c++) ESCAPES[c] = ascii('\\u' + c.toString(16).padStart(4, '0'));
ESCAPES[0x08] = ascii('\\b');
ESCAPES[0x09] = ascii('\\t');
ESCAPES[0x0a] = ascii('\\n');
ESCAPES[0x0c] = ascii('\\f');
ESCAPES[0x0d] = ascii('\\r');
ESCAPES[0x22] = ascii('\\"');
ESCAPES[0x5c] = ascii('\\\\');

function ascii(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

const encoder = new TextEncoder();

class JsonWriter extends ByteWriter {
  value(v: Value): void {
    if (v === null) return this.putAscii('null');
    switch (typeof v) {
      case 'string':
        return this.quote(v);
      case 'number':
        // A `number` is a Python int; a fractional one would be a caller's bug, written as a float rather than corrupted.
        return this.putAscii(Number.isInteger(v) ? String(v) : floatText(v));
      case 'boolean':
        return this.putAscii(v ? 'true' : 'false');
      case 'bigint':
        return this.putAscii(v.toString());
    }
    if (Array.isArray(v)) {
      this.byte(0x5b);
      for (let i = 0; i < v.length; i++) {
        if (i > 0) this.separator(0x2c);
        this.value(v[i] as Value);
      }
      return this.byte(0x5d);
    }
    if (v instanceof Map) {
      this.byte(0x7b);
      let first = true;
      for (const [key, item] of v) {
        if (!first) this.separator(0x2c);
        first = false;
        this.quote(key);
        this.separator(0x3a);
        this.value(item);
      }
      return this.byte(0x7d);
    }
    if (v instanceof PyFloat) return this.putAscii(floatText(v.value));
    if (v instanceof LargeText) return this.largeText(v);
    if (v instanceof Binary) return this.quote(v.base64);
    if (v instanceof DateTime) return this.quote(v.odoo);
    throw new TypeError(`not a Value: ${Object.prototype.toString.call(v)}`);
  }

  private byte(c: number): void {
    if (this.o === this.buf.length) this.room(1);
    this.buf[this.o++] = c;
  }

  /** `, ` between items and `: ` after keys. */
  private separator(c: number): void {
    if (this.o + 2 > this.buf.length) this.room(2);
    this.buf[this.o++] = c;
    this.buf[this.o++] = 0x20;
  }

  /**
   * Its bytes need no escape (protocol/large-texts.ts kept only such texts): they go into the
   * output as they are, the request's own chunks, not even copied.
   */
  private largeText(t: LargeText): void {
    this.byte(0x22);
    for (const chunk of t.bytes.chunks) this.putShared(chunk);
    this.byte(0x22);
  }

  /** A JSON string literal as Python's `encode_basestring` writes it. */
  private quote(s: string): void {
    this.byte(0x22);
    if (s.length <= LONG || !this.plainLong(s)) this.escaped(s);
    this.byte(0x22);
  }

  /**
   * A long string written by the engine's UTF-8 encoder, chunk by chunk, each piece then searched
   * for `"`, `\` and control characters. False, with nothing written, when it has any of them (or
   * a lone surrogate, which the encoder would write as U+FFFD).
   */
  private plainLong(s: string): boolean {
    if (!s.isWellFormed()) return false;
    const mark = this.mark();
    let rest = s;
    for (;;) {
      if (this.buf.length - this.o < 4) this.room(4);
      const buf = this.buf;
      const o = this.o;
      const { read, written } = encoder.encodeInto(rest, o === 0 ? buf : buf.subarray(o));
      const end = o + written;
      const piece = buf.subarray(o, end); // searched up to what was written, not the buffer's end
      if (piece.indexOf(0x22) >= 0 || piece.indexOf(0x5c) >= 0 || firstControl(buf, o, end) < end) {
        this.rewind(mark);
        return false;
      }
      this.o = end;
      if (read === rest.length) return true;
      rest = rest.slice(read);
      this.room(this.buf.length - this.o + 1); // the chunk is full: on to a new one
    }
  }

  /** `s` escaped character by character, as UTF-8. */
  private escaped(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; i++) {
      if (this.o + 12 > this.buf.length) this.room(12);
      const buf = this.buf;
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c < 0x20 || c === 0x22 || c === 0x5c) {
          const e = ESCAPES[c] as Uint8Array;
          buf.set(e, this.o);
          this.o += e.length;
        } else buf[this.o++] = c;
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const next = s.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          this.o = putCodePoint(buf, this.o, 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00));
          i++;
        } else this.putAscii('\\u' + c.toString(16)); // a lone surrogate
      } else this.o = putCodePoint(buf, this.o, c);
    }
  }
}

function floatText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return pyFloatRepr(n);
}
