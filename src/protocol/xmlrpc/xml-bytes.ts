/**
 * The byte writer behind the XML-RPC encoders (encode.ts, json-to-xml.ts): UTF-8 written straight
 * into bytes, markup as precomputed bytes, text while it is escaped. A small answer is one buffer;
 * a large one is written into 128 KiB chunks that are reused from one answer to the next
 * (protocol/chunk-pool.ts), so it makes almost no garbage and no copy.
 */
import { pythonError, type OdooFault } from '../../errors.ts';
import { ByteWriter, putCodePoint } from '../byte-writer.ts';

export const RESPONSE_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n';
export const RESPONSE_TAIL = '</param>\n</params>\n\n</methodResponse>\n';
export const FAULT_HEAD = '<?xml version="1.0"?>\n<methodResponse>\n<fault>\n';
export const FAULT_TAIL = '</fault>\n\n</methodResponse>\n';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
export const B_HEAD = ascii(RESPONSE_HEAD);
export const B_TAIL = ascii(RESPONSE_TAIL);
export const B_FAULT_HEAD = ascii(`${FAULT_HEAD}<value><struct>\n<member>\n<name>faultCode</name>\n`);
export const B_FAULT_MIDDLE = ascii('</member>\n<member>\n<name>faultString</name>\n');
export const B_FAULT_TAIL = ascii(`</member>\n</struct></value>\n${FAULT_TAIL}`);
export const B_STRING_OPEN = ascii('<value><string>');
export const B_STRING_CLOSE = ascii('</string></value>\n');
export const B_STRUCT_OPEN = ascii('<value><struct>\n');
export const B_STRUCT_EMPTY = ascii('<value><struct>\n</struct></value>\n');
export const B_STRUCT_FIRST = ascii('<value><struct>\n<member>\n<name>');
export const B_MEMBER_OPEN = ascii('<member>\n<name>');
export const B_NAME_CLOSE = ascii('</name>\n');
export const B_MEMBER_CLOSE = ascii('</member>\n');
export const B_MEMBER_NEXT = ascii('</member>\n<member>\n<name>');
export const B_STRUCT_END = ascii('</struct></value>\n');
export const B_STRUCT_CLOSE = ascii('</member>\n</struct></value>\n');
export const B_ARRAY_EMPTY = ascii('<value><array><data>\n</data></array></value>\n');
export const B_ARRAY_OPEN = ascii('<value><array><data>\n');
export const B_ARRAY_CLOSE = ascii('</data></array></value>\n');
export const B_TRUE = ascii('<value><boolean>1</boolean></value>\n');
export const B_FALSE = ascii('<value><boolean>0</boolean></value>\n');
export const B_NAN = ascii('<value><double>nan</double></value>\n');
export const B_INF = ascii('<value><double>inf</double></value>\n');
export const B_NEG_INF = ascii('<value><double>-inf</double></value>\n');
export const B_DOUBLE_OPEN = ascii('<value><double>');
export const B_DOUBLE_CLOSE = ascii('</double></value>\n');
export const B_INT_OPEN = ascii('<value><int>');
export const B_INT_CLOSE = ascii('</int></value>\n');

/** The byte writer with the XML-RPC text primitive: escaped text. */
export class XmlBytes extends ByteWriter {
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
export function putEntity(buf: Uint8Array, o: number, c: number): number {
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

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;

export function noneFault(): OdooFault {
  return pythonError('TypeError', 'cannot marshal None unless allow_none is enabled');
}

export function overflowFault(): OdooFault {
  return pythonError('OverflowError', 'int exceeds XML-RPC limits');
}
