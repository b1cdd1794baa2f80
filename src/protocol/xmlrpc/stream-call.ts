/**
 * An XML-RPC `methodCall` with one string parameter streamed (see ../streamed-call.ts): the
 * request is scanned up to that parameter's `<value>`, the text inside it (or inside its
 * `<string>`) is handed on as it arrives, and the rest is kept to be decoded with the placeholder
 * in the parameter's place.
 *
 * Streamed: `<methodName>` first, then the parameter as `<value>text</value>` or
 * `<value><string>text</string></value>`, in UTF-8, ASCII or Latin-1. Anything else (no method
 * name before `<params>`, a `<base64>`, a DOCTYPE, UTF-16, an empty value, ...) is read whole and
 * goes the ordinary way, which decodes it like Odoo.
 *
 * The parameter's text is what Python's unmarshaller would collect: character data and CDATA,
 * references resolved, line ends normalised, comments and processing instructions left out. A
 * character XML does not allow there is expat's "not well-formed" error (without its position).
 */
import { isAscii } from 'node:buffer';
import { bridgeError, OdooFault, pythonError } from '../../errors.ts';
import {
  STREAMED_PLACEHOLDER,
  Utf8Text,
  hasControlByte,
  type HeadScan,
  scanToParameter,
  startsWithAt,
  streamedCall,
  type ParameterPiece,
  type ParameterReader,
  type SplitCall,
  type SplitOptions,
} from '../streamed-call.ts';
import { decodeMethodCall, type MethodCall } from './decode.ts';

export interface XmlSplitOptions extends SplitOptions {
  /** The index of the parameter to stream for this method name, or undefined: read it whole. */
  streamedParam(methodName: string): number | undefined;
}

const LT = 0x3c;
const GT = 0x3e;
const AMP = 0x26;
const SEMI = 0x3b;
const SLASH = 0x2f;
const BANG = 0x21;
const QMARK = 0x3f;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const isWs = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Encodings whose bytes below 0x80 are ASCII, so that markup and base64 read the same. */
const ASCII_COMPATIBLE = new Set([
  'utf-8',
  'utf8',
  'us-ascii',
  'ascii',
  'iso-8859-1',
  'iso8859-1',
  'latin-1',
  'latin1',
  'windows-1252',
  'cp1252',
]);

/** Reads `source` as an XML-RPC request; streams the parameter `streamedParam(methodName)` names. */
export async function splitXmlRpcCall(
  source: AsyncIterable<Uint8Array | string>,
  o: XmlSplitOptions,
): Promise<SplitCall<MethodCall>> {
  const scanned = await scanToParameter(source, o, new HeadScanner(o.streamedParam));
  if (scanned.kind === 'whole') return scanned;
  const { pre, input } = scanned;
  const { dataStart, container, open, param } = scanned.found;

  const placeholder = Buffer.from(STREAMED_PLACEHOLDER, 'latin1');
  const closers = Buffer.from(
    open
      .map((name) => `</${name}>`)
      .reverse()
      .join(''),
    'latin1',
  );
  const headBytes = pre.subarray(0, dataStart);
  // Throws the fault for a malformed start, before any of the parameter is read.
  const head = decodeMethodCall(Buffer.concat([headBytes, placeholder, closers]));
  if (head.params[param] !== STREAMED_PLACEHOLDER)
    throw bridgeError('could not locate the streamed XML-RPC parameter');

  return streamedCall({
    input,
    head,
    headBytes,
    placeholder,
    first: pre.subarray(dataStart),
    reader: new TextReader(container),
    noun: 'parameter',
    truncated: () => incomplete(headBytes, placeholder),
    decodeWhole(body) {
      const whole = decodeMethodCall(body);
      if (whole.methodName !== head.methodName || whole.params[param] !== STREAMED_PLACEHOLDER)
        throw bridgeError('the XML-RPC request changed shape after the streamed parameter');
      return whole;
    },
  });
}

/** What expat says when the document ends inside the parameter (its position is the placeholder's). */
function incomplete(headBytes: Buffer, placeholder: Buffer): OdooFault {
  try {
    decodeMethodCall(Buffer.concat([headBytes, placeholder]));
  } catch (e) {
    if (e instanceof OdooFault) return e;
  }
  return pythonError('xml.parsers.expat.ExpatError', 'no element found');
}

type Found = { dataStart: number; container: string; open: string[]; param: number };
type ScanResult = 'more' | 'whole' | Found;

/**
 * Finds where the streamed parameter's text starts, reading as little as it can. Re-run with the
 * same (grown) buffer after 'more'.
 */
class HeadScanner implements HeadScan<Found> {
  private pos = 0;
  private started = false;
  /** Raw names of the open elements. */
  private readonly open: string[] = [];
  private readonly local: string[] = [];
  private methodName: string | undefined;
  private nameText: string[] | undefined;
  private param: number | undefined;
  private paramIndex = -1;
  /** Just inside the streamed parameter's `<value>`: where its content starts. */
  private valueStart = -1;
  private readonly streamedParam: (methodName: string) => number | undefined;

  constructor(streamedParam: (methodName: string) => number | undefined) {
    this.streamedParam = streamedParam;
  }

  run(buf: Buffer): ScanResult {
    const n = buf.length;
    if (!this.started) {
      if (n < 4) return 'more';
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) this.pos = 3;
      else if (buf[0] === 0xfe || buf[0] === 0xff || buf[0] === 0 || buf[1] === 0) return 'whole';
    }
    let pos = this.pos;
    try {
      while (pos < n) {
        const c = buf[pos] as number;
        if (c !== LT) {
          let end = buf.indexOf(LT, pos);
          if (end < 0) end = n;
          if (this.valueStart >= 0) {
            // Inside the parameter's <value>: text that is not blank is the parameter itself.
            for (let k = pos; k < end; k++)
              if (!isWs(buf[k]))
                return this.found(this.valueStart, this.open[this.open.length - 1] as string);
          } else if (this.nameText) this.nameText.push(buf.toString('latin1', pos, end));
          pos = end;
          continue;
        }
        if (n - pos < 2) return 'more';
        const c1 = buf[pos + 1];
        if (c1 === BANG) {
          if (n - pos < 9) return 'more';
          if (startsWithAt(buf, pos, '<!--')) {
            const end = buf.indexOf('-->', pos + 4, 'latin1');
            if (end < 0) return 'more';
            if (this.valueStart >= 0) return 'whole';
            pos = end + 3;
            continue;
          }
          if (startsWithAt(buf, pos, '<![CDATA[')) {
            const end = buf.indexOf(']]>', pos + 9, 'latin1');
            if (end < 0) return 'more';
            if (this.valueStart >= 0) return 'whole';
            if (this.nameText) this.nameText.push(buf.toString('latin1', pos + 9, end));
            pos = end + 3;
            continue;
          }
          return 'whole'; // a DOCTYPE: the ordinary decoder refuses it
        }
        if (c1 === QMARK) {
          const end = buf.indexOf('?>', pos + 2, 'latin1');
          if (end < 0) return 'more';
          if (this.valueStart >= 0) return 'whole';
          const pi = buf.toString('latin1', pos + 2, end);
          if (/^xml\s/.test(pi)) {
            const enc = /\bencoding\s*=\s*(["'])([^"']*)\1/.exec(pi)?.[2]?.toLowerCase();
            if (enc !== undefined && !ASCII_COMPATIBLE.has(enc)) return 'whole';
          }
          pos = end + 2;
          continue;
        }
        const gt = tagEnd(buf, pos + 1);
        if (gt < 0) return 'more';
        const r = this.tag(buf.toString('latin1', pos + 1, gt), gt + 1);
        if (r !== undefined) return r;
        pos = gt + 1;
      }
      return 'more';
    } finally {
      this.pos = pos;
    }
  }

  /** One start or end tag (`body` is between `<` and `>`); `after` is the offset past `>`. */
  private tag(body: string, after: number): ScanResult | undefined {
    const closing = body.charCodeAt(0) === SLASH;
    const selfClosing = !closing && body.endsWith('/');
    const raw = /^\/?([^\s/>]+)/.exec(body)?.[1];
    if (raw === undefined) return 'whole';
    const local = raw.slice(raw.lastIndexOf(':') + 1);
    if (this.valueStart >= 0) {
      // The parameter's first child: only <string> is streamed (not an empty <value></value>).
      if (!closing && local === 'string' && !selfClosing) return this.found(after, raw, raw);
      return 'whole';
    }
    if (closing) {
      if (this.open.pop() !== raw) return 'whole';
      this.local.pop();
      if (local === 'methodName' && this.nameText && this.local.length === 1) {
        this.methodName = decodeRefs(this.nameText.join(''));
        this.nameText = undefined;
        this.param = this.streamedParam(this.methodName);
        if (this.param === undefined) return 'whole';
      }
      return undefined;
    }
    const path = this.local.join('/');
    if (selfClosing) return undefined;
    this.open.push(raw);
    this.local.push(local);
    if (path === 'methodCall' && local === 'methodName') this.nameText = [];
    if (path === 'methodCall' && local === 'params' && this.param === undefined) return 'whole';
    if (path === 'methodCall/params' && local === 'param') this.paramIndex++;
    if (path === 'methodCall/params/param' && local === 'value' && this.paramIndex === this.param)
      this.valueStart = after;
    return undefined;
  }

  private found(dataStart: number, container: string, pushed?: string): ScanResult {
    const open = pushed === undefined ? [...this.open] : [...this.open, pushed];
    return { dataStart, container, open, param: this.param as number };
  }
}

/** Offset of the `>` ending the tag that starts at `from`, outside quoted attribute values; -1: not yet. */
function tagEnd(buf: Buffer, from: number): number {
  let quote = 0;
  for (let k = from; k < buf.length; k++) {
    const c = buf[k];
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === GT) return k;
    else if (c === DQUOTE || c === SQUOTE) quote = c;
  }
  return -1;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** The character a reference (`amp`, `#10`, `#x41`) stands for, or undefined when XML has none. */
function refChar(ref: string): string | undefined {
  const named = PREDEFINED[ref];
  if (named !== undefined) return named;
  const m = /^#(?:([0-9]+)|x([0-9a-fA-F]+))$/.exec(ref);
  if (!m) return undefined;
  const cp = m[1] !== undefined ? Number(m[1]) : parseInt(m[2] as string, 16);
  const ok =
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff);
  return ok ? String.fromCodePoint(cp) : undefined;
}

function decodeRefs(s: string): string {
  return s.replace(/&([^;]{1,10});/g, (m, ref: string) => refChar(ref) ?? m);
}

function notWellFormed(): OdooFault {
  return pythonError('xml.parsers.expat.ExpatError', 'not well-formed (invalid token)');
}

function notAString(): OdooFault {
  return bridgeError(
    'db.restore: the backup parameter holds XML elements; it must be the backup as a base64 string (<string>...</string>)',
  );
}

/** The two non-ASCII characters XML 1.0 does not allow (the control characters are checked as bytes). */
const NOT_XML = /[\ufffe\uffff]/;

const TEXT = 0;
const COMMENT = 1;
const PI = 2;
const CDATA = 3;
const CLOSERS = ['', '-->', '?>', ']]>'] as const;

/** The parameter's text, chunk by chunk, up to the end tag of its container. */
class TextReader implements ParameterReader {
  private readonly container: string;
  private readonly utf8 = new Utf8Text();
  private pending: Buffer = Buffer.alloc(0);
  private mode = TEXT;
  private afterCr = false;

  constructor(container: string) {
    this.container = container;
  }

  /** `rest`, once the end tag is found, is the request from that end tag on. */
  feed(chunk: Buffer): ParameterPiece {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    const out: string[] = [];
    const n = buf.length;
    let i = 0;
    while (i < n) {
      if (this.mode !== TEXT) {
        const closer = CLOSERS[this.mode] as string;
        const end = buf.indexOf(closer, i, 'latin1');
        const stop = end < 0 ? Math.max(i, n - (closer.length - 1)) : end;
        if (this.mode === CDATA && stop > i) this.raw(out, buf.subarray(i, stop));
        if (end < 0) {
          this.keep(buf, stop);
          return { texts: out };
        }
        i = end + closer.length;
        this.mode = TEXT;
        continue;
      }
      let lt = buf.indexOf(LT, i);
      if (lt < 0) lt = n;
      let stop = buf.indexOf(AMP, i);
      if (stop < 0 || stop > lt) stop = lt;
      if (stop > i) this.raw(out, buf.subarray(i, stop));
      i = stop;
      if (i >= n) break;
      if (buf[i] === AMP) {
        const semi = buf.indexOf(SEMI, i);
        if (semi < 0 || semi - i > 12) {
          if (semi < 0 && n - i <= 12) {
            this.keep(buf, i);
            return { texts: out };
          }
          throw notWellFormed();
        }
        const ch = refChar(buf.toString('latin1', i + 1, semi));
        if (ch === undefined) throw notWellFormed();
        this.flush(out);
        out.push(ch);
        this.afterCr = false;
        i = semi + 1;
        continue;
      }
      // '<'
      if (n - i < 9 && (buf[i + 1] === undefined || buf[i + 1] === BANG)) {
        this.keep(buf, i);
        return { texts: out };
      }
      const c1 = buf[i + 1];
      if (c1 === SLASH) {
        const gt = buf.indexOf(GT, i);
        if (gt < 0) {
          if (n - i > 1024) throw notAString();
          this.keep(buf, i);
          return { texts: out };
        }
        if (buf.toString('latin1', i + 2, gt).trimEnd() !== this.container) throw notAString();
        this.flush(out);
        return { texts: out, rest: Buffer.from(buf.subarray(i)) };
      }
      if (c1 === BANG && startsWithAt(buf, i, '<!--')) {
        this.mode = COMMENT;
        i += 4;
      } else if (c1 === BANG && startsWithAt(buf, i, '<![CDATA[')) {
        this.mode = CDATA;
        i += 9;
      } else if (c1 === QMARK) {
        this.mode = PI;
        i += 2;
      } else throw notAString();
    }
    return { texts: out };
  }

  private keep(buf: Buffer, from: number): void {
    this.pending = Buffer.from(buf.subarray(from));
  }

  private flush(out: string[]): void {
    const s = this.utf8.flush();
    if (s.length > 0) this.push(out, s);
  }

  private raw(out: string[], bytes: Buffer): void {
    if (hasControlByte(bytes, true)) throw notWellFormed();
    const s = this.utf8.write(bytes);
    if (!isAscii(bytes) && NOT_XML.test(s)) throw notWellFormed();
    if (s.length > 0) this.push(out, s);
  }

  /** Character data as the parser reports it: `\r\n` and `\r` read as `\n`. */
  private push(out: string[], text: string): void {
    let s = text;
    if (this.afterCr && s.charCodeAt(0) === 0x0a) s = s.slice(1);
    this.afterCr = false;
    if (s.includes('\r')) {
      this.afterCr = s.endsWith('\r');
      s = s.replace(/\r\n?/g, '\n');
    }
    out.push(s);
  }
}
