/**
 * A fast path for the XML of ordinary XML-RPC requests: the plain subset that xmlrpc.client and
 * its peers write, scanned in one pass without a general XML parser.
 *
 * `scanPlainDocument` accepts only documents that are well-formed XML by construction, and tells
 * the caller's handler exactly the events saxes would (start tags, text, end tags, in order; text
 * may be cut at other places, which the unmarshaller does not see). Anything outside the subset
 * makes it return false, and the caller parses the document again with saxes, which produces the
 * canonical result or the canonical error. The subset:
 *
 * - an optional `<?xml version="1.0" [encoding="..."]?>` at the very start, then the root
 *   element, with only spaces, tabs and newlines outside it;
 * - start tags `<name>` and `<name/>`, end tags `</name>` (ASCII names, no attributes, no
 *   space inside tags);
 * - text with the five predefined entities (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`) and no `]]>`;
 * - characters: tab, newline and U+0020–U+D7FF, U+E000–U+FFFD except U+007F–U+009F; no
 *   carriage return (XML turns it into a newline), no astral characters, no byte-order mark.
 *
 * Comments, processing instructions, CDATA sections, character references, DOCTYPEs and
 * everything else take the general path.
 */

/** What the scanner reports, in document order. */
export interface XmlEvents {
  start(tag: string): void;
  data(text: string): void;
  end(): void;
}

/** Documents longer than this take the general path (which has its own fast path for long text). */
export const PLAIN_MAX_LENGTH = 256 * 1024;

/** xmlrpc.client's declaration: the one most requests start with (no regular expression run). */
const PYTHON_DECLARATION = "<?xml version='1.0'?>";
const DECLARATION =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(["'])1\.0\1(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(["'])[A-Za-z][A-Za-z0-9._-]*\2)?[ \t\n]*\?>/;
const ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'],
  ['lt', '<'],
  ['gt', '>'],
  ['quot', '"'],
  ['apos', "'"],
]);
const GT = 0x3e;
const LT = 0x3c;
const SLASH = 0x2f;

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f; // a-z A-Z _
}

function isNameChar(c: number): boolean {
  // a-z A-Z 0-9 _ . - :
  return isNameStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x3a;
}

/**
 * Whether `text` holds `name` at `at`. A `charCodeAt` loop: in the bridge, between requests, it
 * costs less than `startsWith` at an offset (a builtin call each time), which took a third of
 * this scanner's time in a profile of the bridge under load (docs/performance-notes.md, eighth round).
 */
function holdsAt(text: string, at: number, name: string): boolean {
  const n = name.length;
  for (let k = 0; k < n; k++) if (text.charCodeAt(at + k) !== name.charCodeAt(k)) return false;
  return true;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09) return false;
  }
  return true;
}

/**
 * `text[from, to)` with its entities replaced, or undefined when it holds anything outside the
 * subset: a character, an entity, `]]>`. One pass, no copy unless there are entities.
 */
function plainText(text: string, from: number, to: number): string | undefined {
  let out = '';
  let last = from;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      if (c === 0x26 /* & */) {
        const semi = text.indexOf(';', i + 1);
        if (semi < 0 || semi >= to) return undefined;
        const replacement = ENTITIES.get(text.slice(i + 1, semi));
        if (replacement === undefined) return undefined;
        out += text.slice(last, i) + replacement;
        last = semi + 1;
        i = semi;
      } else if (c === 0x5d /* ] */ && text.charCodeAt(i + 1) === 0x5d && text.charCodeAt(i + 2) === GT)
        return undefined;
    } else if (c < 0x20 ? c !== 0x0a && c !== 0x09 : c < 0xa0 || (c >= 0xd800 && c < 0xe000) || c >= 0xfffe)
      return undefined;
  }
  return last === from ? text.slice(from, to) : out + text.slice(last, to);
}

/**
 * `text[from, to)`, as a constant string when it is one of XML-RPC's element names (a string the
 * unmarshaller compares by identity first), else a new one. The candidate is picked by length and
 * a character or two, then checked once.
 */
function tagName(text: string, from: number, to: number): string {
  const c = text.charCodeAt(from);
  let known: string | undefined;
  switch (to - from) {
    case 2:
      known = c === 0x69 /* i */ ? (text.charCodeAt(from + 1) === 0x38 ? 'i8' : 'i4') : undefined;
      break;
    case 3:
      known = c === 0x69 ? 'int' : c === 0x6e /* n */ ? 'nil' : undefined;
      break;
    case 4:
      known = c === 0x64 /* d */ ? 'data' : c === 0x6e ? 'name' : undefined;
      break;
    case 5:
      if (c === 0x76 /* v */) known = 'value';
      else if (c === 0x70 /* p */) known = 'param';
      else if (c === 0x61 /* a */) known = 'array';
      break;
    case 6:
      if (c === 0x73 /* s */) known = text.charCodeAt(from + 3) === 0x69 /* i */ ? 'string' : 'struct';
      else if (c === 0x70) known = 'params';
      else if (c === 0x6d /* m */) known = 'member';
      else if (c === 0x64) known = 'double';
      else if (c === 0x62 /* b */) known = 'base64';
      break;
    case 7:
      known = 'boolean';
      break;
    case 10:
      known = text.charCodeAt(from + 6) === 0x43 /* C */ ? 'methodCall' : 'methodName';
      break;
    case 16:
      known = 'dateTime.iso8601';
      break;
  }
  return known !== undefined && holdsAt(text, from, known) ? known : text.slice(from, to);
}

/**
 * Scans `text` into `events` when it is in the plain subset; returns false (having reported some
 * events, maybe) when it is not. Errors thrown by the handler propagate.
 */
export function scanPlainDocument(text: string, events: XmlEvents): boolean {
  const n = text.length;
  if (n > PLAIN_MAX_LENGTH) return false;
  let i = 0;
  if (text.startsWith(PYTHON_DECLARATION)) i = PYTHON_DECLARATION.length;
  else if (text.startsWith('<?')) {
    const decl = DECLARATION.exec(text);
    if (decl === null) return false;
    i = decl[0].length;
  }
  const open: string[] = [];
  let seenRoot = false;
  while (i < n) {
    // The next `<`: most often right here (tags back to back) or after one newline.
    const lt = text.charCodeAt(i) === LT ? i : text.charCodeAt(i + 1) === LT ? i + 1 : text.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd === i + 1 && text.charCodeAt(i) === 0x0a && open.length !== 0) {
      // A lone newline between tags, as xmlrpc.client writes them (no slice, no check).
      events.data('\n');
    } else if (textEnd > i) {
      if (open.length === 0) {
        // Outside the root element: blanks only.
        if (!isBlank(text, i, textEnd)) return false;
      } else {
        const data = plainText(text, i, textEnd);
        if (data === undefined) return false;
        events.data(data);
      }
    }
    if (lt < 0) break;
    let c = text.charCodeAt(lt + 1);
    if (c === SLASH) {
      // </name>
      const name = open.pop();
      if (name === undefined) return false;
      const end = lt + 2 + name.length;
      if (text.charCodeAt(end) !== GT || !holdsAt(text, lt + 2, name)) return false;
      events.end();
      i = end + 1;
      continue;
    }
    // <name> or <name/>
    if (!isNameStart(c) || (seenRoot && open.length === 0)) return false;
    let j = lt + 2;
    while (j < n && isNameChar((c = text.charCodeAt(j)))) j++;
    const name = tagName(text, lt + 1, j);
    seenRoot = true;
    if (c === GT) {
      open.push(name);
      events.start(name);
      i = j + 1;
    } else if (c === SLASH && text.charCodeAt(j + 1) === GT) {
      events.start(name);
      events.end();
      i = j + 2;
    } else return false;
  }
  return seenRoot && open.length === 0;
}
