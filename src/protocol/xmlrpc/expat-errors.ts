/**
 * Expat's error messages and positions for documents saxes refuses: the XML-RPC request decoder
 * parses with saxes but must fail exactly as CPython's pyexpat would, with an
 * `xml.parsers.expat.ExpatError` reading "<message>: line L, column C".
 */
import { pythonError } from '../../errors.ts';
import type { OdooFault } from '../../errors.ts';

export const INVALID_TOKEN = 'not well-formed (invalid token)';

export function dtdRefused(): OdooFault {
  return pythonError(
    'odoo_rpc_bridge.XmlRejected',
    'XML-RPC requests with a DTD (<!DOCTYPE ...>) are not accepted: the bridge refuses DTDs to rule out entity-expansion and external-entity attacks',
  );
}

/** `xml.parsers.expat.ExpatError` with expat's "<message>: line L, column C" text. */
export function expatError(what: string, text: string, offset: number): OdooFault {
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
export function saxesToExpat(
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
export const NAME_START_CHAR = /[A-Za-z_:\u00c0-\uffff]/;

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

export function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
