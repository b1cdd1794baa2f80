/**
 * A `/jsonrpc` request with one string argument streamed (see streamed-call.ts): the body is
 * scanned, without building values, up to `params.args[N]`; that string's contents are handed on
 * as they arrive (JSON escapes resolved) and the rest is kept to be decoded with the placeholder
 * in its place.
 *
 * Streamed: an object body whose `params` object names `service` and `method` before `args`
 * (as every client writes it), when `accept(service, method)` says so. Anything else is read
 * whole and goes the ordinary way. A raw control character or a bad escape inside the string is
 * what Python's `json.loads` refuses: Odoo's `400 Invalid JSON data`.
 */
import { bridgeError } from '../errors.ts';
import type { Value } from '../values.ts';
import { parseJsonValue } from './json/parse.ts';
import { JsonRpcHttpError, decodeJsonRpcRequest, type JsonRpcDecoded } from './jsonrpc.ts';
import {
  STREAMED_PLACEHOLDER,
  Utf8Text,
  hasControlByte,
  type HeadScan,
  scanToParameter,
  streamedCall,
  type ParameterPiece,
  type ParameterReader,
  type SplitCall,
  type SplitOptions,
} from './streamed-call.ts';

export interface JsonSplitOptions extends SplitOptions {
  /** Which argument to stream (`params.args[param]`). */
  param: number;
  /** Whether calls of this service and method stream that argument. */
  accept(service: string, method: string): boolean;
  /** The request's Content-Type, as the ordinary decoder needs it. */
  contentType: string | undefined;
}

/** Where the scan gives up and reads the body whole: a legitimate call names its argument sooner. */
const SCAN_LIMIT = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export async function splitJsonRpcCall(
  source: AsyncIterable<Uint8Array | string>,
  o: JsonSplitOptions,
): Promise<SplitCall<JsonRpcDecoded>> {
  const scanned = await scanToParameter(source, o, new HeadScanner(o.param));
  if (scanned.kind === 'whole') return scanned;
  const { found, pre, input } = scanned;

  const placeholder = Buffer.from(`"${STREAMED_PLACEHOLDER}`, 'latin1');
  const headBytes = pre.subarray(0, found.quote);
  let head: JsonRpcDecoded;
  try {
    head = decodeJsonRpcRequest(
      Buffer.concat([headBytes, placeholder, Buffer.from(`"${found.closers}`, 'latin1')]),
      o.contentType,
    );
  } catch (e) {
    if (e instanceof JsonRpcHttpError) return { kind: 'whole', body: await input.rest(pre) };
    throw e;
  }
  if (!head.ok || !isStreamed(head, o)) return { kind: 'whole', body: await input.rest(pre) };

  return streamedCall({
    input,
    head,
    headBytes,
    placeholder,
    first: pre.subarray(found.quote + 1),
    reader: new StringReader(),
    noun: 'argument',
    truncated: invalidJson,
    decodeWhole(body) {
      const whole = decodeJsonRpcRequest(body, o.contentType);
      if (whole.ok && !isStreamed(whole, o))
        throw bridgeError('the JSON-RPC request changed shape after the streamed argument (a repeated key?)');
      return whole;
    },
  });
}

/**
 * The start of a large request (server/incoming-body.ts), decoded as far as `params.args[count - 1]`
 * (or the end of `args`, or its last element complete in `prefix`), to learn who is calling before
 * the rest is read: the ordinary decoder's answer for that much of the body, closed where it
 * stops. Undefined when `params.args` does not start within the first 64 KiB. Throws
 * JsonRpcHttpError where Odoo would answer outside the envelope.
 */
export function decodeJsonRpcHead(
  prefix: Buffer,
  contentType: string | undefined,
  count: number,
): JsonRpcDecoded | undefined {
  const scanner = new HeadScanner(count, 'head');
  let r = scanner.run(prefix);
  // The prefix ends (or the scan gives up) inside args: cut after its last complete element.
  if (r === 'more' || r === 'whole') r = scanner.cut ?? 'whole';
  if (r === 'whole') return undefined;
  return decodeJsonRpcRequest(
    Buffer.concat([prefix.subarray(0, r.quote), Buffer.from(r.closers, 'latin1')]),
    contentType,
  );
}

function isStreamed(d: JsonRpcDecoded, o: JsonSplitOptions): boolean {
  if (!d.ok) return false;
  const { service, method, args } = d.request;
  return o.accept(service, method) && (args[o.param] as Value | undefined) === STREAMED_PLACEHOLDER;
}

function invalidJson(): JsonRpcHttpError {
  return new JsonRpcHttpError(400, 'Invalid JSON data');
}

type Role = 'root' | 'params' | 'args' | 'other';
interface Frame {
  kind: 'object' | 'array';
  role: Role;
  /** object: 'key' | 'colon' | 'value' | 'next'; array: 'first' | 'value' | 'next'. */
  state: 'key' | 'colon' | 'value' | 'next' | 'first';
  key: string | undefined;
  index: number;
}

/**
 * Walks the JSON structure (no values built) to `params.args[param]`. Re-run with the same
 * (grown) buffer after 'more'. In `head` mode it stops after `params.args[param - 1]` instead (or
 * at the end of `args`), and `quote` is where the body is cut.
 */
class HeadScanner implements HeadScan<{ quote: number; closers: string }> {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private started = false;
  private readonly param: number;
  private readonly mode: 'stream' | 'head';
  /** In `head` mode: where to cut after the last complete element of args seen so far. */
  cut: { quote: number; closers: string } | undefined;

  constructor(param: number, mode: 'stream' | 'head' = 'stream') {
    this.param = param;
    this.mode = mode;
  }

  private closers(frames: Frame[]): string {
    return frames
      .map((f) => (f.kind === 'object' ? '}' : ']'))
      .reverse()
      .join('');
  }

  run(buf: Buffer): 'more' | 'whole' | { quote: number; closers: string } {
    const n = buf.length;
    let pos = this.pos;
    try {
      for (;;) {
        while (pos < n && isWs(buf[pos])) pos++;
        if (pos >= n) return pos > SCAN_LIMIT ? 'whole' : 'more';
        if (pos > SCAN_LIMIT) return 'whole';
        const c = buf[pos] as number;
        const top = this.stack[this.stack.length - 1];
        if (top === undefined) {
          if (this.started || c !== 0x7b /* { */) return 'whole';
          this.started = true;
          this.stack.push({ kind: 'object', role: 'root', state: 'key', key: undefined, index: 0 });
          pos++;
          continue;
        }
        if (top.kind === 'object' && top.state === 'key') {
          if (c === 0x7d /* } */ && top.key === undefined) {
            pos++;
            if (this.close()) return 'whole';
            continue;
          }
          if (c !== QUOTE) return 'whole';
          const end = stringEnd(buf, pos);
          if (end < 0) return 'more';
          try {
            top.key = JSON.parse(buf.toString('utf8', pos, end + 1)) as string;
          } catch {
            return 'whole';
          }
          top.state = 'colon';
          pos = end + 1;
          continue;
        }
        if (top.kind === 'object' && top.state === 'colon') {
          if (c !== 0x3a /* : */) return 'whole';
          top.state = 'value';
          pos++;
          continue;
        }
        if (this.mode === 'head' && top.role === 'args') {
          // Enough of args read (the cut leaves it open), or all of it (the cut keeps its `]`).
          if (top.state === 'next') {
            this.cut = { quote: pos, closers: this.closers(this.stack) };
            if (top.index === this.param - 1) return this.cut;
          }
          if ((top.state === 'next' || top.state === 'first') && c === 0x5d /* ] */)
            return { quote: pos + 1, closers: this.closers(this.stack.slice(0, -1)) };
        }
        if (top.state === 'next') {
          if (c === 0x2c /* , */) {
            if (top.kind === 'object') {
              top.state = 'key';
              top.key = '';
            } else {
              top.state = 'value';
              top.index++;
            }
            pos++;
            continue;
          }
          if ((top.kind === 'object' && c === 0x7d) || (top.kind === 'array' && c === 0x5d)) {
            pos++;
            if (this.close()) return 'whole';
            continue;
          }
          return 'whole';
        }
        if (top.kind === 'array' && top.state === 'first' && c === 0x5d /* ] */) {
          pos++;
          if (this.close()) return 'whole';
          continue;
        }
        // A value.
        top.state = 'next';
        if (this.mode === 'stream' && top.role === 'args' && top.index === this.param) {
          if (c !== QUOTE) return 'whole';
          return { quote: pos, closers: this.closers(this.stack) };
        }
        if (c === 0x7b || c === 0x5b) {
          let role: Role = 'other';
          if (c === 0x7b && top.role === 'root' && top.key === 'params') role = 'params';
          if (c === 0x5b && top.role === 'params' && top.key === 'args') role = 'args';
          this.stack.push(
            c === 0x7b
              ? { kind: 'object', role, state: 'key', key: undefined, index: 0 }
              : { kind: 'array', role, state: 'first', key: undefined, index: 0 },
          );
          pos++;
          if (role === 'args' && this.mode === 'head')
            this.cut = { quote: pos, closers: this.closers(this.stack) };
          continue;
        }
        if (c === QUOTE) {
          const end = stringEnd(buf, pos);
          if (end < 0) {
            top.state = top.kind === 'object' ? 'value' : top.index === 0 ? 'first' : 'value';
            return 'more';
          }
          pos = end + 1;
          continue;
        }
        // A number or a literal: up to the next delimiter.
        let end = pos;
        while (end < n && !isDelimiter(buf[end] as number)) end++;
        if (end >= n) {
          top.state = top.kind === 'object' ? 'value' : top.index === 0 ? 'first' : 'value';
          return 'more';
        }
        pos = end;
      }
    } finally {
      this.pos = pos;
    }
  }

  /** Closes the innermost container; true when the argument cannot come any more. */
  private close(): boolean {
    const f = this.stack.pop() as Frame;
    return f.role !== 'other';
  }
}

function isWs(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDelimiter(c: number): boolean {
  return c === 0x2c || c === 0x7d || c === 0x5d || c === 0x3a || isWs(c) || c === QUOTE;
}

/** Offset of the quote ending the string whose opening quote is at `at`; -1: not in `buf` yet. */
function stringEnd(buf: Buffer, at: number): number {
  for (let k = at + 1; k < buf.length; k++) {
    const c = buf[k];
    if (c === BACKSLASH) k++;
    else if (c === QUOTE) return k;
  }
  return -1;
}

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/** A JSON string's contents, chunk by chunk, up to its closing quote. */
class StringReader implements ParameterReader {
  private readonly utf8 = new Utf8Text();
  private pending: Buffer = Buffer.alloc(0);

  /** `rest`, once the closing quote is found, is the body from that quote on. */
  feed(chunk: Buffer): ParameterPiece {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const out: string[] = [];
    const n = buf.length;
    let i = 0;
    let backslash = buf.indexOf(BACKSLASH, i);
    while (i < n) {
      let quote = buf.indexOf(QUOTE, i);
      if (quote < 0) quote = n;
      if (backslash >= 0 && backslash < i) backslash = buf.indexOf(BACKSLASH, i);
      const stop = backslash >= 0 && backslash < quote ? backslash : quote;
      if (stop > i) this.raw(out, buf.subarray(i, stop));
      i = stop;
      if (i >= n) break;
      if (buf[i] === QUOTE) {
        const s = this.utf8.flush();
        if (s.length > 0) out.push(s);
        return { texts: out, rest: Buffer.from(buf.subarray(i)) };
      }
      // A backslash escape.
      const e = buf[i + 1];
      if (e === undefined || (e === 0x75 && n - i < 6)) {
        this.pending = Buffer.from(buf.subarray(i));
        return { texts: out };
      }
      let ch: string | undefined;
      if (e === 0x75 /* u */) {
        const hex = buf.toString('latin1', i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw invalidJson();
        ch = String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        ch = ESCAPES[e];
        if (ch === undefined) throw invalidJson();
        i += 2;
      }
      const s = this.utf8.flush();
      if (s.length > 0) out.push(s);
      out.push(ch);
    }
    return { texts: out };
  }

  /** Raw bytes of the string: a control character is what Python's strict `json.loads` refuses. */
  private raw(out: string[], bytes: Buffer): void {
    if (hasControlByte(bytes, false)) throw invalidJson();
    const s = this.utf8.write(bytes);
    if (s.length > 0) out.push(s);
  }
}

/** Bytes of a body's end kept to find its `"id"` (server/legacy-call.ts). */
export const TAIL_BYTES = 256;

/**
 * The request's `"id"` read from the body's last bytes, for the answer to a large request whose
 * rest was dropped unread: clients write the id last (`…}, "id": 7}`). Only a number, a string
 * without escapes, `true`, `false` or `null` that is the root object's last member; undefined
 * otherwise. Read backwards from the final `}`, which can only be the root's end, so the member
 * before it is the root's.
 */
export function idFromTail(tail: Buffer): Value | undefined {
  const text = tail.toString('latin1');
  let k = text.length - 1;
  const back = (): void => {
    while (k >= 0 && isWs(text.charCodeAt(k))) k--;
  };
  back();
  if (text[k] !== '}') return undefined;
  k--;
  back();
  const valueEnd = k + 1;
  if (text[k] === '"') {
    const open = text.lastIndexOf('"', k - 1);
    if (open < 0 || text.slice(open, k).includes('\\')) return undefined;
    k = open - 1;
  } else {
    while (k >= 0 && !isDelimiter(text.charCodeAt(k))) k--;
  }
  const raw = text.slice(k + 1, valueEnd);
  back();
  if (text[k] !== ':') return undefined;
  k--;
  back();
  if (text.slice(k - 3, k + 1) !== '"id"') return undefined;
  k -= 4;
  back();
  if (text[k] !== ',' && text[k] !== '{') return undefined;
  try {
    // The id as the ordinary decoder would read it (a float is a PyFloat, a big int a bigint).
    return parseJsonValue(Buffer.from(raw, 'latin1').toString('utf8'));
  } catch {
    return undefined;
  }
}
