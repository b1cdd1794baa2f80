/**
 * Base64 on the fly, for the two `db` calls whose payload is a whole database backup:
 *
 * - {@link Base64Encoder}: `db.dump`'s answer is `base64.b64encode(backup).decode()` (one line,
 *   padded); the backup streams from Odoo through this into the legacy answer, 3 bytes at a time
 *   carried across chunks.
 * - {@link RestoreDecoder}: `db.restore`'s backup parameter, decoded the way legacy Odoo's
 *   `exp_restore` decodes it: the text is cut into windows of 8192 characters and each window is
 *   `base64.b64decode`d on its own (non-strict `binascii.a2b_base64`: characters outside the
 *   alphabet are skipped, a complete pad sequence ends that window's data). So the errors are
 *   Odoo's: `ValueError` for a non-ASCII character, `binascii.Error: Incorrect padding` for a
 *   window that does not end on a 4-character boundary (which is why base64 wrapped at 76
 *   characters fails on Odoo too).
 */
import { pythonError, type OdooFault } from '../errors.ts';

/** Bytes in, base64 text out, as one unbroken padded line. */
export class Base64Encoder {
  private carry: Buffer = Buffer.alloc(0);

  /** The base64 of all complete 3-byte groups so far (the 0–2 bytes left over wait for more). */
  push(chunk: Uint8Array): string {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let out = '';
    let start = 0;
    if (this.carry.length > 0) {
      const need = 3 - this.carry.length;
      if (buf.length < need) {
        this.carry = Buffer.concat([this.carry, buf]);
        return '';
      }
      out = Buffer.concat([this.carry, buf.subarray(0, need)]).toString('base64');
      start = need;
    }
    const end = start + Math.floor((buf.length - start) / 3) * 3;
    if (end > start) out += buf.toString('base64', start, end);
    // Copied: the caller may reuse its chunk.
    this.carry = Buffer.from(buf.subarray(end));
    return out;
  }

  /** The last group, padded. */
  end(): string {
    const out = this.carry.length > 0 ? this.carry.toString('base64') : '';
    this.carry = Buffer.alloc(0);
    return out;
  }

  /** Length of the base64 text of `n` bytes. */
  static encodedLength(n: number): number {
    return Math.ceil(n / 3) * 4;
  }
}

/** `exp_restore` decodes its argument in slices of this many characters. */
export const RESTORE_WINDOW = 8192;

/** Per character code below 128: its 6-bit value, or -1 outside the base64 alphabet. */
const VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();
const PAD = 0x3d; // '='
/**
 * The bytes of `s` when it is made of base64's alphabet only (no padding, length a multiple of
 * 4), else undefined. Node's decoder is native but lenient (it skips what it does not know, and
 * takes `-`, `_` and some non-ASCII characters as digits), so the text is ASCII-checked, searched
 * for those two, and the decoded length must account for every character.
 */
function cleanBase64(s: string): Buffer | undefined {
  if (Buffer.byteLength(s, 'utf8') !== s.length) return undefined;
  if (s.includes('-') || s.includes('_') || s.includes('=')) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.length === (s.length / 4) * 3 ? bytes : undefined;
}

export function nonAsciiFault(): OdooFault {
  return pythonError('ValueError', 'string argument should contain only ASCII characters');
}

/**
 * Text in, bytes out, with `exp_restore`'s semantics (see the module comment). Feed it the
 * parameter's text in pieces of any size; each call returns the bytes of the windows completed so
 * far (a partial window waits for the rest of its text). Throws the `OdooFault` Odoo would raise.
 */
export class RestoreDecoder {
  /** The current window's text so far (shorter than a window). */
  private partial = '';
  /** How many windows the fast path tries at once. */
  private fastWindows = 8;
  /** Bytes produced in all. */
  decodedBytes = 0;

  push(text: string): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    if (this.partial.length > 0) {
      i = Math.min(text.length, RESTORE_WINDOW - this.partial.length);
      this.partial += text.slice(0, i);
      if (this.partial.length < RESTORE_WINDOW) return out;
      this.window(this.partial, out);
      this.partial = '';
    }
    while (text.length - i >= RESTORE_WINDOW) {
      // Whole windows of pure alphabet decode alike one by one or together. After a miss, one
      // window at a time, so that a text full of misses stays linear.
      const windows = Math.min(Math.floor((text.length - i) / RESTORE_WINDOW), this.fastWindows);
      const bytes = windows > 1 ? cleanBase64(text.slice(i, i + windows * RESTORE_WINDOW)) : undefined;
      if (bytes !== undefined) {
        this.emit(bytes, out);
        i += windows * RESTORE_WINDOW;
        this.fastWindows = Math.min(this.fastWindows * 2, 8);
        continue;
      }
      this.fastWindows = this.window(text.slice(i, i + RESTORE_WINDOW), out) ? 2 : 1;
      i += RESTORE_WINDOW;
    }
    this.partial = text.slice(i);
    return out;
  }

  /** The last (partial) window; throws Odoo's error when it is incomplete. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    if (this.partial.length > 0) this.window(this.partial, out);
    this.partial = '';
    return out;
  }

  private emit(bytes: Buffer, out: Buffer[]): void {
    if (bytes.length === 0) return;
    out.push(bytes);
    this.decodedBytes += bytes.length;
  }

  /** One window: `base64.b64decode(window)`. True when it was pure alphabet. */
  private window(text: string, out: Buffer[]): boolean {
    const clean = text.length % 4 === 0 ? cleanBase64(text) : undefined;
    this.emit(clean ?? a2bBase64(text), out);
    return clean !== undefined;
  }
}

/** `binascii.a2b_base64(text, strict_mode=False)` after `text.encode('ascii')`. */
function a2bBase64(text: string): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((text.length * 3) / 4) + 3);
  let o = 0;
  let quadPos = 0;
  let leftchar = 0;
  let pads = 0;
  for (let k = 0; k < text.length; k++) if (text.charCodeAt(k) > 0x7f) throw nonAsciiFault();
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === PAD) {
      // A complete pad sequence ends the data: the rest is not read.
      if (quadPos >= 2 && quadPos + ++pads >= 4) return out.subarray(0, o);
      continue;
    }
    const v = VALUE[c] as number;
    if (v < 0) continue;
    pads = 0;
    switch (quadPos) {
      case 0:
        quadPos = 1;
        leftchar = v;
        break;
      case 1:
        quadPos = 2;
        out[o++] = ((leftchar << 2) | (v >> 4)) & 0xff;
        leftchar = v & 0x0f;
        break;
      case 2:
        quadPos = 3;
        out[o++] = ((leftchar << 4) | (v >> 2)) & 0xff;
        leftchar = v & 0x03;
        break;
      default:
        quadPos = 0;
        out[o++] = ((leftchar << 6) | v) & 0xff;
        leftchar = 0;
    }
  }
  if (quadPos === 1)
    throw pythonError(
      'binascii.Error',
      `Invalid base64-encoded string: number of data characters (${Math.floor(o / 3) * 4 + 1}) cannot be 1 more than a multiple of 4`,
    );
  if (quadPos !== 0) throw pythonError('binascii.Error', 'Incorrect padding');
  return out.subarray(0, o);
}
