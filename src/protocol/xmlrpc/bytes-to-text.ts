/**
 * Request bytes to text, as expat reads them: a byte-order mark wins, otherwise the XML
 * declaration's `encoding=`, otherwise UTF-8. Bytes invalid in their encoding end the text and
 * leave the expat error to raise once the valid part has been parsed.
 */
import { TextDecoder } from 'node:util';
import { pythonError } from '../../errors.ts';
import { textOfValidUtf8 } from '../../utf8-bytes.ts';
import { expatError, INVALID_TOKEN } from './expat-errors.ts';

/** A decoded document. `invalid` is set when the bytes stop being valid in their encoding. */
export interface DecodedDoc {
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
export function decodeBytes(body: Buffer | readonly Buffer[]): DecodedDoc {
  if (Buffer.isBuffer(body)) return decodeBuffer(body);
  if (body.length === 1) return decodeBuffer(body[0] as Buffer);
  // A large body, in the chunks it came in: UTF-8 (the usual case) is decoded chunk by chunk,
  // without joining them first; anything else is joined and decoded as one buffer.
  const first = body[0] as Buffer;
  if (isUtf8Document(first)) {
    const bom = first[0] === 0xef && first[1] === 0xbb && first[2] === 0xbf;
    const chunks = bom ? [first.subarray(3), ...body.slice(1)] : body;
    const text = textOfValidUtf8(chunks);
    if (text !== undefined) return { text, invalid: undefined };
  }
  return decodeBuffer(Buffer.concat(body));
}

/** Whether a document that begins with `first` is UTF-8: by its byte-order mark, its declaration, or for want of one. */
export function isUtf8Document(first: Buffer): boolean {
  const b0 = first[0];
  if (b0 === 0xef && first[1] === 0xbb && first[2] === 0xbf) return true;
  if (b0 === 0xff || b0 === 0xfe || b0 === 0x00 || first[1] === 0x00) return false;
  const declared = declaredEncoding(first);
  if (declared === undefined) return true;
  const label = declared.name.toLowerCase();
  return label === 'utf-8' || label === 'utf8' || label === 'utf_8';
}

function decodeBuffer(buf: Buffer): DecodedDoc {
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

/**
 * The declarations most clients write, without `encoding=` (UTF-8): xmlrpc.client's, and the
 * npm xmlrpc package's. Recognised byte by byte, before anything is made a string.
 */
const PLAIN_DECLARATIONS = [Buffer.from("<?xml version='1.0'?>"), Buffer.from('<?xml version="1.0"?>')];

function startsWithBytes(buf: Buffer, prefix: Buffer): boolean {
  const n = prefix.length;
  if (buf.length < n) return false;
  for (let i = 0; i < n; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

/** The `encoding=` of a leading `<?xml ...?>` declaration, read as ASCII. */
function declaredEncoding(buf: Buffer): { name: string; offset: number } | undefined {
  if (buf.length < 6 || buf[0] !== 0x3c || buf[1] !== 0x3f) return undefined;
  for (const plain of PLAIN_DECLARATIONS) if (startsWithBytes(buf, plain)) return undefined;
  // Only the declaration is made a string (a small call's whole body would be up to 1 KiB more).
  const limit = Math.min(buf.length, 1024);
  const end = buf.subarray(0, limit).indexOf('?>');
  const decl = buf.toString('latin1', 0, end < 0 ? limit : end);
  const m = /^<\?xml\s[^]*?\bencoding\s*=\s*(["'])([^"']*)\1/.exec(decl);
  if (m === null || m[2] === undefined) return undefined;
  return { name: m[2], offset: m.index + m[0].length - 1 - m[2].length };
}

// Made once: decode() without `stream` keeps no state between calls.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LENIENT_UTF8 = new TextDecoder('utf-8', { ignoreBOM: true });

function decodeUtf8(buf: Buffer, start: number): DecodedDoc {
  const bytes = start === 0 ? buf : buf.subarray(start);
  try {
    return {
      text: STRICT_UTF8.decode(bytes),
      invalid: undefined,
    };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    return {
      text: LENIENT_UTF8.decode(bytes.subarray(0, bad)),
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
