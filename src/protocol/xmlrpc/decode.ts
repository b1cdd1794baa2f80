/**
 * XML-RPC request decoding: the server side of `xmlrpc.client.loads(body, use_datetime=True)`, as
 * Odoo calls it on every `/xmlrpc` and `/xmlrpc/2` request (docs: odoo19-wire.md §1.2).
 *
 * The result must be what Odoo's Python would have received, and every failure must be the fault
 * Odoo would have answered, so this module mirrors CPython's `Unmarshaller` rather than the
 * XML-RPC specification: a flat value stack with marks for open arrays/structs, tag prefixes
 * (`ex:nil`) stripped, unknown tags ignored except directly inside `<value>`, text collected since
 * the last start tag, and Python's own parsing rules for `int()`, `float()`, `Decimal()`,
 * `strptime()` and `base64.decodebytes()` with their error messages.
 *
 * Differences from CPython, all deliberate:
 * - XML is parsed by saxes (strict, non-validating) instead of expat. Well-formedness errors are
 *   reported as `xml.parsers.expat.ExpatError` with expat's message; on randomly mangled requests
 *   the message is expat's in every case tested and the line/column in ~99% (a few characters
 *   off otherwise). saxes is stricter on the XML declaration (`version` must be `1.x`) and on
 *   processing-instruction syntax, where expat accepts some oddities.
 * - A DOCTYPE is refused (no DTD, so no entity expansion at all), and the nesting depth, element
 *   count and text length are capped ({@link XmlLimits}).
 * - `<bigdecimal>` becomes a `PyFloat` (Python would give a `decimal.Decimal`): the nearest double
 *   of the decimal, which is what Odoo's float fields store anyway.
 * - A struct whose member names are not strings (`<value><int>1</int></value>` as a name) is a
 *   `TypeError` fault: Python would build a dict with an int key, which JSON-2 cannot carry.
 * - A `methodCall` without `<methodName>` is a `ResponseError` fault (CPython returns `None` and
 *   lets the service fail).
 * - Multi-byte legacy encodings (`shift_jis`, `gb18030`, ...) are decoded by `TextDecoder`; pyexpat
 *   refuses them with "multi-byte encodings are not supported".
 */
import { TextDecoder } from 'node:util';
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { bridgeError, OdooFault, pythonError } from '../../errors.ts';
import { pyFloatRepr } from '../py-float.ts';
import { Binary, DateTime, PyFloat, pyTypeName } from '../../values.ts';
import type { Struct, Value } from '../../values.ts';

/** Resource caps that stop a hostile request before it costs memory or CPU. */
export interface XmlLimits {
  /** Deepest element nesting; `<methodCall>` is depth 1. Each nested array/struct adds 2–3 levels. */
  maxDepth: number;
  /** Total number of elements in the document. */
  maxElements: number;
  /**
   * Longest text collected for one element (a `<string>`, `<base64>`, ...), in UTF-16 code units.
   * Like CPython, the text counted is everything since the element's start tag.
   */
  maxStringLength: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxDepth: 100,
  maxElements: 5_000_000,
  // Odoo's own body limit is 128 MiB (DEFAULT_MAX_CONTENT_LENGTH), so no real request is refused.
  maxStringLength: 128 * 1024 * 1024,
});

export interface MethodCall {
  methodName: string;
  params: Value[];
}

/**
 * Decodes an XML-RPC `methodCall` body. Throws an {@link OdooFault} (never anything else) for
 * every malformed or refused request, carrying the exception Odoo would have raised.
 */
export function decodeMethodCall(body: Buffer | string, limits?: Partial<XmlLimits>): MethodCall {
  const lim: XmlLimits = {
    maxDepth: limits?.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxElements: limits?.maxElements ?? DEFAULT_XML_LIMITS.maxElements,
    maxStringLength: limits?.maxStringLength ?? DEFAULT_XML_LIMITS.maxStringLength,
  };
  try {
    const doc = typeof body === 'string' ? { text: body, invalid: undefined } : decodeBytes(body);
    const u = new Unmarshaller(lim);
    parseXml(doc.text, u, doc.invalid);
    return u.close();
  } catch (e) {
    if (e instanceof OdooFault) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw bridgeError(`internal error while decoding the XML-RPC request: ${why}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Bytes to text
// ------------------------------------------------------------------------------------------------

/** A decoded document. `invalid` is set when the bytes stop being valid in their encoding. */
interface DecodedDoc {
  /** The document text; when `invalid` is set, only the part before the bad bytes. */
  text: string;
  /** The expat message to raise after `text` has been parsed (parse errors in `text` come first). */
  invalid: string | undefined;
}

const LATIN1_LABELS = new Set([
  'iso-8859-1',
  'iso8859-1',
  'iso_8859-1',
  'iso88591',
  'latin-1',
  'latin1',
  'latin_1',
  'l1',
  'cp819',
  'ibm819',
  'iso-ir-100',
  'csisolatin1',
  'iso_8859-1:1987',
  '8859',
]);
const ASCII_LABELS = new Set([
  'us-ascii',
  'ascii',
  'us',
  'ansi_x3.4-1968',
  'ansi_x3.4-1986',
  'iso646-us',
  'iso_646.irv:1991',
  '646',
  'cp367',
  'ibm367',
  'csascii',
  'iso-ir-6',
]);
const UTF16_LABELS = new Set(['utf-16', 'utf16', 'utf-16le', 'utf-16be', 'utf_16', 'utf_16_le', 'utf_16_be']);
/** Bytes Python's cp1252 codec leaves undefined, which pyexpat then refuses as invalid tokens. */
const CP1252_UNDEFINED = new Set([0x81, 0x8d, 0x8f, 0x90, 0x9d]);
const CP1252_LABELS = new Set(['windows-1252', 'cp1252', 'x-cp1252', 'windows1252']);

/**
 * Turns the body into text the way expat would read it: a byte-order mark wins, otherwise the
 * XML declaration's `encoding=` names the encoding, otherwise UTF-8.
 */
function decodeBytes(buf: Buffer): DecodedDoc {
  const b0 = buf[0];
  const b1 = buf[1];
  if (b0 === 0xef && b1 === 0xbb && buf[2] === 0xbf) return decodeUtf8(buf, 3);
  if (b0 === 0xff && b1 === 0xfe) return decodeWith('utf-16le', buf, 2);
  if (b0 === 0xfe && b1 === 0xff) return decodeWith('utf-16be', buf, 2);
  if (b0 === 0x3c && b1 === 0x00 && buf[2] === 0x3f && buf[3] === 0x00) return decodeWith('utf-16le', buf, 0);
  if (b0 === 0x00 && b1 === 0x3c && buf[2] === 0x00 && buf[3] === 0x3f) return decodeWith('utf-16be', buf, 0);

  const declared = declaredEncoding(buf);
  if (declared === undefined) return decodeUtf8(buf, 0);
  const label = declared.name.toLowerCase();
  if (label === 'utf-8' || label === 'utf8' || label === 'utf_8') return decodeUtf8(buf, 0);
  if (LATIN1_LABELS.has(label)) return { text: buf.toString('latin1'), invalid: undefined };
  if (ASCII_LABELS.has(label)) return decodeSingleByte(buf, (b) => b >= 0x80, 'latin1');
  if (UTF16_LABELS.has(label)) {
    // Expat: an 8-bit document cannot be UTF-16.
    throw expatError(
      'encoding specified in XML declaration is incorrect',
      buf.toString('latin1'),
      declared.offset,
    );
  }
  if (CP1252_LABELS.has(label)) return decodeSingleByte(buf, (b) => CP1252_UNDEFINED.has(b), 'windows-1252');
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw pythonError('LookupError', `unknown encoding: ${declared.name}`);
  }
  return decodeWithDecoder(decoder, label, buf, 0);
}

/** The `encoding=` of a leading `<?xml ...?>` declaration, read as ASCII. */
function declaredEncoding(buf: Buffer): { name: string; offset: number } | undefined {
  if (buf.length < 6 || buf[0] !== 0x3c || buf[1] !== 0x3f) return undefined;
  const head = buf.toString('latin1', 0, Math.min(buf.length, 1024));
  const end = head.indexOf('?>');
  const decl = end < 0 ? head : head.slice(0, end);
  const m = /^<\?xml\s[^]*?\bencoding\s*=\s*(["'])([^"']*)\1/.exec(decl);
  if (m === null || m[2] === undefined) return undefined;
  return { name: m[2], offset: m.index + m[0].length - 1 - m[2].length };
}

function decodeUtf8(buf: Buffer, start: number): DecodedDoc {
  const bytes = start === 0 ? buf : buf.subarray(start);
  try {
    return {
      text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes),
      invalid: undefined,
    };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    return {
      text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes.subarray(0, bad)),
      invalid: INVALID_TOKEN,
    };
  }
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence (error path only). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  while (i < n) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    const c1 = b[i + 1];
    if (c1 === undefined || c1 < lo || c1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const ck = b[i + k];
      if (ck === undefined || ck < 0x80 || ck > 0xbf) return i;
    }
    i += need + 1;
  }
  return n;
}

/** ASCII and cp1252: one byte, one character, with some bytes refused as invalid tokens. */
function decodeSingleByte(
  buf: Buffer,
  refused: (b: number) => boolean,
  label: 'latin1' | 'windows-1252',
): DecodedDoc {
  let bad = -1;
  for (let i = 0; i < buf.length; i++) {
    if (refused(buf[i] as number)) {
      bad = i;
      break;
    }
  }
  const bytes = bad < 0 ? buf : buf.subarray(0, bad);
  const text = label === 'latin1' ? bytes.toString('latin1') : new TextDecoder('windows-1252').decode(bytes);
  return { text, invalid: bad < 0 ? undefined : INVALID_TOKEN };
}

function decodeWith(label: string, buf: Buffer, start: number): DecodedDoc {
  return decodeWithDecoder(new TextDecoder(label, { fatal: true, ignoreBOM: true }), label, buf, start);
}

function decodeWithDecoder(decoder: TextDecoder, label: string, buf: Buffer, start: number): DecodedDoc {
  const bytes = start === 0 ? buf : buf.subarray(start);
  try {
    return { text: decoder.decode(bytes), invalid: undefined };
  } catch {
    // Locate the first bad sequence approximately: the first replacement character.
    const lenient = new TextDecoder(label, { ignoreBOM: true }).decode(bytes);
    const bad = lenient.indexOf('\ufffd');
    return { text: lenient.slice(0, bad < 0 ? lenient.length : bad), invalid: INVALID_TOKEN };
  }
}

// ------------------------------------------------------------------------------------------------
// XML parsing (saxes) and expat-style errors
// ------------------------------------------------------------------------------------------------

const INVALID_TOKEN = 'not well-formed (invalid token)';

/** Raised from saxes' error handler so that its errors are told apart from everything else. */
class SaxesFailure {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/**
 * Text runs at least this long, directly inside an element and free of markup, are checked and
 * handed to the unmarshaller here instead of going through saxes one character at a time: a 5 MB
 * base64 field then costs a regular-expression scan instead of five million parser steps. Runs are
 * found by sampling every `LONG_RUN`th character, so any run of twice that length is found while
 * dense markup costs almost nothing.
 */
const LONG_RUN = 1024;
const DELIMITER = /[<>]/g;
/**
 * A cheap first test for {@link NON_XML_CHAR}: a positive class scans several times faster than
 * the exact negated one; it also matches surrogate pairs, for which the exact test then runs.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const MAYBE_NON_XML_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]/;
/** Anything outside XML 1.0's `Char` production (lone surrogates included). */
const NON_XML_CHAR = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u;
/** An `&` that does not start a predefined entity or a character reference. */
const BAD_AMP = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;
const ENTITY_REF = /&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));/g;
const PREDEFINED: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);

function parseXml(text: string, u: Unmarshaller, invalid: string | undefined): void {
  const parser = new SaxesParser({ xmlns: false, forceXMLVersion: true, defaultXMLVersion: '1.0' });
  /** Characters of `text` not given to saxes (long runs handled here): saxes offset + skipped = ours. */
  let skipped = 0;
  /** Our offset just past the `>` of the last start or end tag saxes reported. */
  let lastTagEnd = -1;
  let sawRoot = false;

  parser.on('doctype', () => {
    throw dtdRefused();
  });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    sawRoot = true;
    u.start(tag.name);
    lastTagEnd = parser.position + skipped;
  });
  parser.on('closetag', (tag: SaxesTagPlain) => {
    const end = parser.position + skipped;
    if (!tag.isSelfClosing) {
      // On `</b>` closing an open `<a>`, saxes reports `a` closed before failing; expat stops at
      // the mismatch, before `a`'s handler runs (which could raise an error of its own).
      const name = text.lastIndexOf('</', end - 1) + 2;
      const after = text.charCodeAt(name + tag.name.length);
      if (!text.startsWith(tag.name, name) || !(after === 0x3e || isXmlSpace(after))) {
        const valid = NAME_START_CHAR.test(text[name] ?? '');
        throw expatError(valid ? 'mismatched tag' : INVALID_TOKEN, text, name);
      }
    }
    u.end();
    lastTagEnd = end;
  });
  parser.on('text', (t: string) => u.data(t));
  parser.on('cdata', (t: string) => u.data(t));
  parser.on('error', (err: Error) => {
    throw new SaxesFailure(err.message);
  });

  let cursor = 0;
  try {
    const n = text.length;
    for (let k = LONG_RUN; k < n;) {
      // The first markup delimiter at or after the sample...
      DELIMITER.lastIndex = k;
      const d = DELIMITER.exec(text)?.index ?? -1;
      if (d < 0) break;
      const next = (Math.floor(d / LONG_RUN) + 1) * LONG_RUN;
      // ...must be the `<` ending a text run that began, after a `>`, within the last LONG_RUN
      // characters (a longer run contains an earlier sample). Both scans are bounded, so the
      // loop stays linear whatever the input.
      let gt = -1;
      if (text.charCodeAt(d) === 0x3c /* < */) {
        for (let j = k - 1, stop = Math.max(cursor - 1, k - LONG_RUN - 1); j > stop; j--) {
          const c = text.charCodeAt(j);
          if (c === 0x3e /* > */) {
            gt = j;
            break;
          }
          if (c === 0x3c) break;
        }
      }
      k = next;
      if (gt < 0 || d - gt - 1 < LONG_RUN) continue;
      const runStart = gt + 1;
      parser.write(text.slice(cursor, runStart));
      cursor = runStart;
      if (lastTagEnd !== runStart || u.depth === 0) continue; // not character data of an element
      const value = plainText(text.slice(runStart, d));
      if (value === undefined) continue; // let saxes find and report the problem
      u.data(value);
      skipped += d - runStart;
      cursor = d;
    }
    parser.write(cursor === 0 ? text : text.slice(cursor));
    if (invalid !== undefined) throw expatError(invalid, text, text.length);
    parser.close();
  } catch (e) {
    if (!(e instanceof SaxesFailure)) throw e;
    throw saxesToExpat(e.message, text, parser.position + skipped, sawRoot, u.depth, lastTagEnd);
  }
}

/** The character data of a markup-free run, or undefined when saxes must look at it. */
function plainText(run: string): string | undefined {
  if (MAYBE_NON_XML_CHAR.test(run) && NON_XML_CHAR.test(run)) return undefined;
  // End-of-line handling applies to the raw text, before references (`&#13;` stays a CR).
  let s = run.includes('\r') ? run.replace(/\r\n?/g, '\n') : run;
  if (s.includes('&')) {
    if (BAD_AMP.test(s)) return undefined;
    let ok = true;
    s = s.replace(
      ENTITY_REF,
      (_m, name: string | undefined, dec: string | undefined, hex: string | undefined) => {
        if (name !== undefined) return PREDEFINED.get(name) as string;
        const cp = dec !== undefined ? Number(dec) : parseInt(hex as string, 16);
        if (!isXmlChar(cp)) {
          ok = false;
          return '';
        }
        return String.fromCodePoint(cp);
      },
    );
    if (!ok) return undefined;
  }
  return s;
}

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function dtdRefused(): OdooFault {
  return pythonError(
    'odoo_rpc_bridge.XmlRejected',
    'XML-RPC requests with a DTD (<!DOCTYPE ...>) are not accepted: the bridge refuses DTDs to rule out entity-expansion and external-entity attacks',
  );
}

/** `xml.parsers.expat.ExpatError` with expat's "<message>: line L, column C" text. */
function expatError(what: string, text: string, offset: number): OdooFault {
  const { line, column } = lineColumn(text, offset);
  return pythonError('xml.parsers.expat.ExpatError', `${what}: line ${line}, column ${column}`);
}

/** Expat's position: 1-based line, 0-based column counted in characters (code points). */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) {
      line++;
      lineStart = i + 1;
    } else if (c === 0x0d) {
      if (text.charCodeAt(i + 1) === 0x0a) i++;
      line++;
      lineStart = i + 1;
    }
  }
  let column = 0;
  for (let i = lineStart; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    column++;
  }
  return { line, column };
}

/**
 * Rewrites a saxes error as the error expat would have raised for the same document. `offset` is
 * where saxes stopped (just past the offending character or token).
 */
function saxesToExpat(
  saxesMessage: string,
  text: string,
  offset: number,
  sawRoot: boolean,
  depth: number,
  lastTagEnd: number,
): OdooFault {
  const msg = saxesMessage.replace(/^\d+:\d+: /, '');
  const at = Math.min(offset, text.length);
  if (msg.startsWith('inappropriately located doctype')) return dtdRefused();
  // A DOCTYPE that never ends (truncated body) reaches the end before the doctype event.
  const doctype = text.indexOf('<!DOCTYPE');
  if (!sawRoot && doctype >= 0 && doctype < at) return dtdRefused();

  // saxes reads an entity reference up to the next `;`, through any markup: a malformed one
  // surfaces late (at that `;` or at the end). Expat stops at its first bad character.
  const endOfInput =
    msg.startsWith('document must contain a root element') ||
    msg.startsWith('unclosed tag') ||
    msg.startsWith('unexpected end');
  if (
    endOfInput ||
    msg.startsWith('disallowed character in entity name') ||
    msg.startsWith('empty entity name')
  ) {
    // Whichever comes first: a malformed reference, or a comment/CDATA/PI left open.
    const bad = badReference(text, Math.max(0, lastTagEnd), at);
    const unclosed = endOfInput ? unclosedSection(text) : undefined;
    if (unclosed !== undefined && (bad === undefined || unclosed.start <= bad.at)) {
      return expatError(unclosed.what, text, unclosed.at);
    }
    if (bad !== undefined) return expatError(bad.unclosed ? 'unclosed token' : INVALID_TOKEN, text, bad.at);
  }
  if (endOfInput) {
    const lt = text.lastIndexOf('<');
    if (lt > text.lastIndexOf('>')) return expatError('unclosed token', text, lt);
    return expatError('no element found', text, text.length);
  }
  if (msg.startsWith('text data outside of root node')) {
    if (!sawRoot) return junkError(text, prologEnd(text), false);
    const gt = text.lastIndexOf('>', at - 1);
    let start = gt + 1;
    while (start < text.length && isXmlSpace(text.charCodeAt(start))) start++;
    return junkError(text, start, depth === 0);
  }
  if (msg.startsWith('documents may contain only one root')) {
    return expatError('junk after document element', text, text.lastIndexOf('<', at - 1));
  }
  if (msg.startsWith('unmatched closing tag') || msg.startsWith('unexpected close tag')) {
    return expatError('mismatched tag', text, text.lastIndexOf('</', at - 1) + 2);
  }
  if (msg.startsWith('undefined entity')) {
    return expatError('undefined entity', text, text.lastIndexOf('&', at - 1));
  }
  if (msg.startsWith('malformed character entity')) {
    const amp = text.lastIndexOf('&', at - 1);
    const ref = text.slice(amp, at);
    const numeric = /^&#(?:[0-9]+|x[0-9a-fA-F]+);$/.test(ref);
    return expatError(numeric ? 'reference to invalid character number' : INVALID_TOKEN, text, amp);
  }
  if (msg.includes('XML declaration must') || msg.includes('an XML declaration must')) {
    return expatError('XML or text declaration not at start of entity', text, text.lastIndexOf('<?', at - 1));
  }
  if (XML_DECL_ERRORS.some((m) => msg.startsWith(m))) {
    // Expat first reads the declaration as a whole token, up to `?>`.
    const start = text.indexOf('<?');
    if (text.indexOf('?>', start) < 0) return expatError('unclosed token', text, start);
    return expatError('XML declaration not well-formed', text, at - 1);
  }
  return expatError(INVALID_TOKEN, text, at - 1);
}

/** Where the prolog's whitespace, declaration, comments and PIs end: the first other character. */
function prologEnd(text: string): number {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    while (i < text.length && isXmlSpace(text.charCodeAt(i))) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return i;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return i;
      i = end + 3;
    } else return i;
  }
}

/** Characters expat's prolog tokenizer reads as (the start of) a token rather than garbage. */
const TOKEN_CHAR = /[\w.:\-[\]()|,%#*+\u00b7-\uffff]/;
const NAME_CHAR = /[\w.:\-\u00b7-\uffff]/;
const NAME_START_CHAR = /[A-Za-z_:\u00c0-\uffff]/;

/**
 * Expat's error for stray text at `start`, before the root element or after it: a name-like
 * token is a "syntax error" (or "junk after document element"), a name running into `<` or an
 * unexpected character an "invalid token", an unterminated quote an "unclosed token".
 */
function junkError(text: string, start: number, afterRoot: boolean): OdooFault {
  const ch = text[start] ?? '';
  if (ch === '"' || ch === "'") {
    if (text.indexOf(ch, start + 1) < 0) return expatError('unclosed token', text, start);
    return expatError(afterRoot ? 'junk after document element' : 'syntax error', text, start);
  }
  if (!TOKEN_CHAR.test(ch)) return expatError(INVALID_TOKEN, text, start);
  if (afterRoot) return expatError('junk after document element', text, start);
  let end = start;
  while (end < text.length && NAME_CHAR.test(text[end] as string)) end++;
  if (end > start && text.charCodeAt(end) === 0x3c) return expatError(INVALID_TOKEN, text, end);
  return expatError('syntax error', text, start);
}

/** saxes' complaints about the `<?xml ...?>` declaration itself. */
const XML_DECL_ERRORS = [
  'XML declaration is incomplete',
  'expected the name',
  'expected one of',
  'did not expect any more name/value pairs',
  'value required',
  'value must be quoted',
  'version number must match',
  'encoding value must match',
  'standalone value must match',
  'whitespace required',
  'XML declaration must contain a version',
  'The character ? is disallowed anywhere in XML declarations',
];

const WELL_FORMED_REFERENCE = /&(?:[A-Za-z_:\u00c0-\uffff][\w.:\u00b7-\uffff-]*|#[0-9]+|#x[0-9a-fA-F]+);/y;
const AMPERSAND = /&/g;

/**
 * Where expat stops on the first malformed entity or character reference in `text[from, to)`:
 * the first character after `&` that cannot continue it, or the `&` itself (`unclosed`) when the
 * text ends inside the reference. Undefined when all references are well formed.
 */
function badReference(text: string, from: number, to: number): { at: number; unclosed: boolean } | undefined {
  AMPERSAND.lastIndex = from;
  for (let m = AMPERSAND.exec(text); m !== null && m.index < to; m = AMPERSAND.exec(text)) {
    WELL_FORMED_REFERENCE.lastIndex = m.index;
    if (WELL_FORMED_REFERENCE.test(text)) continue;
    let q = m.index + 1;
    if (text.charCodeAt(q) === 0x23 /* # */) {
      q++;
      const hex = text.charCodeAt(q) === 0x78; /* x */
      if (hex) q++;
      while (q < text.length && (hex ? /[0-9a-fA-F]/ : /[0-9]/).test(text[q] as string)) q++;
    } else {
      while (q < text.length && NAME_CHAR.test(text[q] as string)) q++;
    }
    return q >= text.length ? { at: m.index, unclosed: true } : { at: q, unclosed: false };
  }
  return undefined;
}

/** A comment, CDATA section or processing instruction still open at the end of the text. */
function unclosedSection(text: string): { what: string; start: number; at: number } | undefined {
  const comment = text.lastIndexOf('<!--');
  if (comment >= 0 && text.indexOf('-->', comment + 4) < 0) {
    return { what: 'unclosed token', start: comment, at: comment };
  }
  const cdata = text.lastIndexOf('<![CDATA[');
  if (cdata >= 0 && text.indexOf(']]>', cdata + 9) < 0) {
    // Expat has passed the section's text on; what is left is a trailing `]` or `]]`, or nothing.
    let at = text.length;
    while (at > cdata + 9 && text.charCodeAt(at - 1) === 0x5d) at--;
    return { what: 'unclosed CDATA section', start: cdata, at };
  }
  const pi = text.lastIndexOf('<?');
  if (pi >= 0 && text.indexOf('?>', pi + 2) < 0) return { what: 'unclosed token', start: pi, at: pi };
  return undefined;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// ------------------------------------------------------------------------------------------------
// The unmarshaller: CPython's algorithm, our code
// ------------------------------------------------------------------------------------------------

const T_OTHER = 0;
const T_NIL = 1;
const T_BOOLEAN = 2;
const T_INT = 3;
const T_DOUBLE = 4;
const T_BIGDECIMAL = 5;
const T_STRING = 6;
const T_ARRAY = 7;
const T_STRUCT = 8;
const T_BASE64 = 9;
const T_DATETIME = 10;
const T_VALUE = 11;
const T_PARAMS = 12;
const T_FAULT = 13;
const T_METHODNAME = 14;

/**
 * The code of a tag `Unmarshaller.dispatch` knows, else `T_OTHER` (ignored, or refused inside
 * `<value>`). A switch on the length, then plain comparisons: faster than hashing every name.
 */
function tagCode(tag: string): number {
  switch (tag.length) {
    case 2:
      return tag === 'i4' || tag === 'i8' || tag === 'i1' || tag === 'i2' ? T_INT : T_OTHER;
    case 3:
      return tag === 'int' ? T_INT : tag === 'nil' ? T_NIL : T_OTHER;
    case 4:
      return tag === 'name' ? T_STRING : T_OTHER;
    case 5:
      if (tag === 'value') return T_VALUE;
      if (tag === 'array') return T_ARRAY;
      if (tag === 'float') return T_DOUBLE;
      return tag === 'fault' ? T_FAULT : T_OTHER;
    case 6:
      if (tag === 'string') return T_STRING;
      if (tag === 'struct') return T_STRUCT;
      if (tag === 'double') return T_DOUBLE;
      if (tag === 'params') return T_PARAMS;
      return tag === 'base64' ? T_BASE64 : T_OTHER;
    case 7:
      return tag === 'boolean' ? T_BOOLEAN : T_OTHER;
    case 10:
      if (tag === 'methodName') return T_METHODNAME;
      if (tag === 'biginteger') return T_INT;
      return tag === 'bigdecimal' ? T_BIGDECIMAL : T_OTHER;
    case 16:
      return tag === 'dateTime.iso8601' ? T_DATETIME : T_OTHER;
    default:
      return T_OTHER;
  }
}

/** A tag name without its namespace prefix (`ex:i8` → `i8`), as CPython strips it. */
function localName(tag: string): string {
  const colon = tag.lastIndexOf(':');
  return colon < 0 ? tag : tag.slice(colon + 1);
}

/**
 * CPython's `Unmarshaller`: start/data/end events build a flat stack of values; `<array>` and
 * `<struct>` remember where they began and collapse their part of the stack when they end.
 */
class Unmarshaller {
  private readonly limits: XmlLimits;
  private readonly stack: Value[] = [];
  private readonly marks: number[] = [];
  /** Tag codes of the open elements, so that `end` needs no second lookup. */
  private readonly open: number[] = [];
  /** Text since the last start tag: usually one piece (`first`), else all pieces in `more`. */
  private pieces = 0;
  private first = '';
  private more: string[] = [];
  private textLength = 0;
  /** CPython's `_value`: the last start tag was `<value>` and nothing typed has ended since. */
  private inValue = false;
  private type: 'params' | 'fault' | 'methodName' | null = null;
  private methodName: string | null = null;
  private elements = 0;
  depth = 0;

  constructor(limits: XmlLimits) {
    this.limits = limits;
  }

  start(tag: string): void {
    if (++this.elements > this.limits.maxElements) {
      throw limitFault(`the request has more than ${this.limits.maxElements} XML elements`);
    }
    if (++this.depth > this.limits.maxDepth) {
      throw limitFault(`the request nests XML elements deeper than ${this.limits.maxDepth} levels`);
    }
    let code = tagCode(tag);
    if (code === T_OTHER && tag.includes(':')) code = tagCode(localName(tag));
    this.open.push(code);
    if (code === T_ARRAY || code === T_STRUCT) this.marks.push(this.stack.length);
    if (this.pieces !== 0) {
      this.pieces = 0;
      this.textLength = 0;
      this.first = '';
      if (this.more.length !== 0) this.more = [];
    }
    if (this.inValue && code === T_OTHER) {
      const message = `unknown tag ${pyRepr(localName(tag))}`;
      throw pythonError('xmlrpc.client.ResponseError', message, { str: `ResponseError(${pyRepr(message)})` });
    }
    this.inValue = code === T_VALUE;
  }

  data(text: string): void {
    this.textLength += text.length;
    if (this.textLength > this.limits.maxStringLength) {
      throw limitFault(`an XML text is longer than ${this.limits.maxStringLength} characters`);
    }
    if (this.pieces === 0) this.first = text;
    else if (this.pieces === 1) this.more = [this.first, text];
    else this.more.push(text);
    this.pieces++;
  }

  end(): void {
    this.depth--;
    const code = this.open.pop() ?? T_OTHER;
    const stack = this.stack;
    switch (code) {
      case T_OTHER:
        return;
      case T_NIL:
        stack.push(null);
        break;
      case T_BOOLEAN: {
        const d = this.text();
        if (d === '0') stack.push(false);
        else if (d === '1') stack.push(true);
        else throw pythonError('TypeError', 'bad boolean value');
        break;
      }
      case T_INT:
        stack.push(parsePyInt(this.text()));
        break;
      case T_DOUBLE:
        stack.push(new PyFloat(parsePyFloat(this.text())));
        break;
      case T_BIGDECIMAL:
        stack.push(new PyFloat(parsePyDecimal(this.text())));
        break;
      case T_STRING:
        stack.push(this.text());
        break;
      case T_ARRAY: {
        const mark = this.marks.pop() as number;
        stack.push(stack.splice(mark));
        break;
      }
      case T_STRUCT: {
        const mark = this.marks.pop() as number;
        const struct = buildStruct(stack, mark);
        stack.length = mark;
        stack.push(struct);
        break;
      }
      case T_BASE64:
        stack.push(parseBase64(this.text()));
        break;
      case T_DATETIME:
        stack.push(parseDateTime(this.text()));
        return; // CPython's end_dateTime leaves `_value` alone
      case T_VALUE:
        if (this.inValue) stack.push(this.text());
        break;
      case T_PARAMS:
        this.type = 'params';
        return;
      case T_FAULT:
        this.type = 'fault';
        return;
      case T_METHODNAME:
        this.methodName = this.text();
        this.type = 'methodName';
        return;
    }
    this.inValue = false;
  }

  /** The text collected since the last start tag. */
  private text(): string {
    if (this.pieces <= 1) return this.first;
    const joined = this.more.join('');
    this.pieces = 1;
    this.first = joined;
    this.more = [];
    return joined;
  }

  close(): MethodCall {
    if (this.type === null || this.marks.length !== 0) {
      throw pythonError('xmlrpc.client.ResponseError', 'ResponseError()', { arguments: [] });
    }
    if (this.type === 'fault') throw faultInRequest(this.stack);
    if (this.methodName === null) {
      const message = 'the XML-RPC request has no <methodName>';
      throw pythonError('xmlrpc.client.ResponseError', message, { str: `ResponseError(${pyRepr(message)})` });
    }
    return { methodName: this.methodName, params: this.stack };
  }
}

function limitFault(what: string): OdooFault {
  return pythonError('odoo_rpc_bridge.XmlRejected', `XML-RPC request refused: ${what}`);
}

/** `dict[items[i]] = items[i+1]` over the members (`items` from `mark` on), with Python's errors. */
function buildStruct(items: Value[], mark: number): Struct {
  const map: Struct = new Map();
  const n = items.length;
  for (let i = mark; i < n; i += 2) {
    if (i + 1 >= n) throw pythonError('IndexError', 'list index out of range');
    const key = items[i] as Value;
    if (typeof key !== 'string') {
      if (Array.isArray(key) || key instanceof Map || key instanceof Binary) {
        const t = Array.isArray(key) ? 'list' : key instanceof Map ? 'dict' : 'Binary';
        throw pythonError('TypeError', `unhashable type: ${pyRepr(t)}`);
      }
      throw pythonError(
        'TypeError',
        `struct member names must be strings, not ${pyTypeName(key)} (the bridge cannot forward non-string keys)`,
      );
    }
    map.set(key, items[i + 1] as Value);
  }
  return map;
}

/** `loads` raises the `<fault>` it found as `xmlrpc.client.Fault(**stack[0])`. */
function faultInRequest(stack: Value[]): OdooFault {
  const first = stack[0];
  if (first === undefined) return pythonError('IndexError', 'list index out of range');
  if (!(first instanceof Map)) {
    return pythonError(
      'TypeError',
      `xmlrpc.client.Fault() argument after ** must be a mapping, not ${pyTypeName(first)}`,
    );
  }
  const missing = ['faultCode', 'faultString'].filter((k) => !first.has(k));
  if (missing.length === 1) {
    return pythonError(
      'TypeError',
      `Fault.__init__() missing 1 required positional argument: '${missing[0]}'`,
    );
  }
  if (missing.length === 2) {
    return pythonError(
      'TypeError',
      "Fault.__init__() missing 2 required positional arguments: 'faultCode' and 'faultString'",
    );
  }
  // Fault.__repr__: "<Fault %s: %r>".
  const code = first.get('faultCode') as Value;
  const codeText = typeof code === 'string' ? code : pyValueRepr(code);
  const text = `<Fault ${codeText}: ${pyValueRepr(first.get('faultString') as Value)}>`;
  return pythonError('xmlrpc.client.Fault', text, { arguments: [] });
}

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

function parsePyIntSlow(s: string): number | bigint {
  const t = stripAsciiSpace(numericToAscii(s));
  if (!/^[+-]?[0-9]+(?:_[0-9]+)*$/.test(t)) {
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

const PY_FLOAT_SIMPLE = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** Python's `float()` of a string. */
export function parsePyFloat(s: string): number {
  if (PY_FLOAT_SIMPLE.test(s)) return Number(s);
  const t = stripAsciiSpace(numericToAscii(s));
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(t);
  if (special !== null) {
    if ((special[2] as string).toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  // Underscores are allowed only between two digits.
  if (/(?:^|[^0-9])_|_(?:[^0-9]|$)/.test(t)) throw floatError(s);
  const plain = t.replace(/_/g, '');
  if (!PY_FLOAT_SIMPLE.test(plain)) throw floatError(s);
  return Number(plain);
}

function floatError(s: string): OdooFault {
  return pythonError('ValueError', `could not convert string to float: ${quoted(s)}`);
}

/**
 * `float(Decimal(s))`: Decimal's syntax (underscores anywhere, Unicode whitespace stripped,
 * `Inf`/`Infinity`/`NaN`/`sNaN` with payload), rounded to the nearest double.
 */
export function parsePyDecimal(s: string): number {
  let t = stripPyWhitespace(s);
  t = numericToAscii(t).replace(/_/g, '');
  const special = /^([+-]?)(inf|infinity|s?nan[0-9]*)$/i.exec(t);
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
 * CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`: non-ASCII whitespace becomes a space,
 * non-ASCII decimal digits their ASCII digit, anything else non-ASCII a `?` (which then fails).
 */
/** Code points from U+007F up, which CPython's transform does not keep as they are. */
const NON_ASCII = /[^\0-~]/gu;

function numericToAscii(s: string): string {
  let i = 0;
  while (i < s.length && s.charCodeAt(i) < 0x7f) i++;
  if (i === s.length) return s;
  // A `?` makes every caller's syntax check fail, as CPython's truncated result does.
  return s.replace(NON_ASCII, (ch: string) => {
    if (PY_UNICODE_SPACE.test(ch)) return ' ';
    if (ND.test(ch)) return String(digitValue(ch.codePointAt(0) as number));
    return '?';
  });
}

/** The value of a Unicode decimal digit. Unicode encodes them in contiguous runs of ten, 0 to 9. */
function digitValue(cp: number): number {
  if (cp >= 0x30 && cp <= 0x39) return cp - 0x30;
  let first = cp;
  while (ND.test(String.fromCodePoint(first - 1))) first--;
  return (cp - first) % 10;
}

function digitsValue(s: string): number {
  let v = 0;
  for (const ch of s) v = v * 10 + digitValue(ch.codePointAt(0) as number);
  return v;
}

/**
 * `datetime.strptime(s, '%Y%m%dT%H:%M:%S')`, including its quirks: one-digit fields, a
 * space-padded day, a lowercase `t`, Unicode digits, and no surrounding whitespace.
 */
const DATETIME_RE =
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
function quoted(s: string): string {
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
function pyValueRepr(v: Value): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return pyRepr(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof DateTime) return `datetime.datetime(${v.odoo})`;
  if (v instanceof Binary) return '<xmlrpc.client.Binary object>';
  if (Array.isArray(v)) return `[${v.map(pyValueRepr).join(', ')}]`;
  return `{${Array.from(v, ([k, x]) => `${pyRepr(k)}: ${pyValueRepr(x)}`).join(', ')}}`;
}
