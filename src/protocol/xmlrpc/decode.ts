/**
 * XML-RPC request decoding: the server side of `xmlrpc.client.loads(body, use_datetime=True)`, as
 * Odoo calls it on every `/xmlrpc` and `/xmlrpc/2` request (docs/wire.md §1.2).
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
 *
 * This module is the entry point and the state machine; its helpers live next to it: bytes to text
 * in `bytes-to-text.ts`, expat's error messages in `expat-errors.ts`, the fast path for long text
 * in `fast-text.ts`, the fast path for plain documents in `plain-doc.ts`, and Python's scalar
 * parsing rules and `repr()` in `python-literals.ts`.
 */
import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import { bridgeError, OdooFault, pythonError } from '../../errors.ts';
import { Binary, PyFloat, pyTypeName } from '../../values.ts';
import type { Struct, Value } from '../../values.ts';
import { cutXmlTexts, putTextsBack } from '../large-texts.ts';
import { decodeBytes, isUtf8Document } from './bytes-to-text.ts';
import {
  dtdRefused,
  expatError,
  INVALID_TOKEN,
  isXmlSpace,
  NAME_START_CHAR,
  saxesToExpat,
} from './expat-errors.ts';
import { DELIMITER, LONG_RUN, plainText } from './fast-text.ts';
import { scanPlainDocument } from './plain-doc.ts';
import {
  parseBase64,
  parseDateTime,
  parsePyDecimal,
  parsePyFloat,
  parsePyInt,
  pyRepr,
  pyValueRepr,
  quoted,
} from './python-literals.ts';

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
export function decodeMethodCall(
  body: Buffer | readonly Buffer[] | string,
  limits?: Partial<XmlLimits>,
): MethodCall {
  if (Array.isArray(body)) {
    const call = withLargeTexts(body, limits);
    if (call !== undefined) return call;
  }
  return decode(body, limits, true);
}

/**
 * The call of a large body with its long texts kept as bytes (protocol/large-texts.ts), when it
 * is a UTF-8 document; undefined when it has none, or when anything is not as simple as it looked:
 * the whole body is then decoded as it came, which decides what it means and what fault it gets.
 */
function withLargeTexts(
  body: readonly Buffer[],
  limits: Partial<XmlLimits> | undefined,
): MethodCall | undefined {
  const first = body[0];
  if (first === undefined || !isUtf8Document(first)) return undefined;
  const cut = cutXmlTexts(body, limits?.maxStringLength ?? DEFAULT_XML_LIMITS.maxStringLength);
  if (cut === undefined) return undefined;
  try {
    const call = decode(cut.chunks, limits, true);
    return putTextsBack(call.params, cut.texts) ? call : undefined;
  } catch {
    return undefined;
  }
}

/** `decodeMethodCall` without the fast path for plain documents: what the tests hold it to. */
export function decodeMethodCallInGeneral(body: Buffer | string, limits?: Partial<XmlLimits>): MethodCall {
  return decode(body, limits, false);
}

/** The start of a methodCall: its method name, when read, and the parameters read whole. */
export interface MethodCallHead {
  methodName: string | undefined;
  params: Value[];
}

/**
 * Decodes the start of a methodCall (a large request's first bytes, server/incoming-body.ts) as
 * far as it goes: the parameters complete in `prefix`, to learn who is calling before the rest is
 * read. Throws the fault the whole request would raise for a malformed start; undefined when the
 * start cannot be read on its own (no tag yet, or an encoding other than an ASCII-compatible one).
 */
export function decodeMethodCallHead(prefix: Buffer): MethodCallHead | undefined {
  // Cut after the last `>`: no tag and no UTF-8 character is cut in two (0x3E is never part of one).
  const cut = prefix.lastIndexOf(0x3e);
  if (cut < 0 || prefix[0] === 0xfe || prefix[0] === 0xff || prefix[0] === 0 || prefix[1] === 0)
    return undefined;
  try {
    const doc = decodeBytes(prefix.subarray(0, cut + 1));
    if (doc.invalid !== undefined) return undefined;
    const u = new Unmarshaller(DEFAULT_XML_LIMITS);
    parseXml(doc.text, u, undefined, true);
    return u.head();
  } catch (e) {
    if (e instanceof OdooFault) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw bridgeError(`internal error while decoding the XML-RPC request: ${why}`);
  }
}

function decode(
  body: Buffer | readonly Buffer[] | string,
  limits: Partial<XmlLimits> | undefined,
  plain: boolean,
): MethodCall {
  const lim: XmlLimits = {
    maxDepth: limits?.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth,
    maxElements: limits?.maxElements ?? DEFAULT_XML_LIMITS.maxElements,
    maxStringLength: limits?.maxStringLength ?? DEFAULT_XML_LIMITS.maxStringLength,
  };
  try {
    const doc = typeof body === 'string' ? { text: body, invalid: undefined } : decodeBytes(body);
    if (plain && doc.invalid === undefined) {
      // Ordinary requests: one pass over plain XML (plain-doc.ts). Anything else, and any error
      // on that path, is parsed again below, which gives the result or the error canonically.
      try {
        const u = new Unmarshaller(lim);
        if (scanPlainDocument(doc.text, u)) return u.close();
      } catch {
        // parsed again below
      }
    }
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
// XML parsing (saxes)
// ------------------------------------------------------------------------------------------------

/** Raised from saxes' error handler so that its errors are told apart from everything else. */
class SaxesFailure {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/** `partial`: `text` is the start of a document; it is not closed (no "no element found"). */
function parseXml(text: string, u: Unmarshaller, invalid: string | undefined, partial = false): void {
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
    if (!partial) parser.close();
  } catch (e) {
    if (!(e instanceof SaxesFailure)) throw e;
    throw saxesToExpat(e.message, text, parser.position + skipped, sawRoot, u.depth, lastTagEnd);
  }
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

  /** What is known so far: the method name, and the values complete before any open array/struct. */
  head(): MethodCallHead {
    const complete = this.marks.length === 0 ? this.stack.length : (this.marks[0] as number);
    return { methodName: this.methodName ?? undefined, params: this.stack.slice(0, complete) };
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
  // A long faultString is quoted cut short (a deliberate difference: its repr costs ~0.2 µs a character).
  const faultString = first.get('faultString') as Value;
  const text = `<Fault ${codeText}: ${typeof faultString === 'string' ? quoted(faultString) : pyValueRepr(faultString)}>`;
  return pythonError('xmlrpc.client.Fault', text, { arguments: [] });
}
