/**
 * Text kept as the UTF-8 bytes it arrived in: Odoo's JSON-2 answers, which the bridge passes on
 * (JSON-RPC) or transcodes (XML-RPC) without ever making a JS string of them. A 28 MB attachment
 * read decoded into a string, and encoded back, cost two whole copies in memory the system has to
 * map afresh (about 60 ms each on a 2-core machine, BENCHMARKS.md "Large payloads"); kept as the
 * socket's chunks, it costs none.
 *
 * The bytes are checked to be UTF-8 once ({@link checkedUtf8}); a text that is not gets its bad
 * bytes replaced by U+FFFD, as a decoder would, so the writers can copy bytes as they are.
 */
import { isAscii, isUtf8 } from 'node:buffer';

export interface Utf8Bytes {
  /** The bytes in order; no chunk is empty unless the text is. */
  readonly chunks: readonly Buffer[];
  /** The total of the chunks' lengths. */
  readonly length: number;
}

export function utf8BytesOf(text: string): Utf8Bytes {
  const bytes = Buffer.from(text, 'utf8');
  return { chunks: [bytes], length: bytes.length };
}

/** The text of UTF-8 bytes (bad bytes as U+FFFD). */
export function textOf(bytes: Utf8Bytes): string {
  const { chunks, length } = bytes;
  if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
  return textOfValidUtf8(chunks) ?? Buffer.concat(chunks, length).toString('utf8');
}

const WHOLE = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * The text of chunks that are valid UTF-8 taken together, decoded chunk by chunk (undefined when
 * they are not valid): the bytes are never joined into one buffer first, a copy that a large
 * request (an attachment) would otherwise pay in memory mapped afresh. An ASCII chunk is decoded on
 * its own; the others by a streaming decoder, which holds a character cut by a chunk's end (in
 * valid UTF-8, an ASCII chunk never follows such a cut).
 */
export function textOfValidUtf8(chunks: readonly Buffer[]): string | undefined {
  if (!isUtf8Chunks(chunks)) return undefined;
  const stream = new TextDecoder('utf-8', { ignoreBOM: true });
  const parts: string[] = [];
  for (const chunk of chunks)
    parts.push(isAscii(chunk) ? WHOLE.decode(chunk) : stream.decode(chunk, { stream: true }));
  parts.push(stream.decode());
  return parts.join('');
}

/** `bytes` when they are valid UTF-8 (the usual case, checked at memory speed), else a repaired copy. */
export function checkedUtf8(bytes: Utf8Bytes): Utf8Bytes {
  return isUtf8Chunks(bytes.chunks) ? bytes : utf8BytesOf(textOf(bytes));
}

/**
 * Whether chunks are valid UTF-8 taken together: a character cut by a chunk's end is checked whole,
 * from its bytes on both sides.
 */
export function isUtf8Chunks(chunks: readonly Buffer[]): boolean {
  let held: Buffer | undefined; // the first bytes of a character the previous chunk cut
  for (let chunk of chunks) {
    if (held !== undefined) {
      const need = sequenceLength(held[0] as number) - held.length;
      if (chunk.length < need) {
        held = Buffer.concat([held, chunk]);
        continue;
      }
      if (!isUtf8(Buffer.concat([held, chunk.subarray(0, need)]))) return false;
      chunk = chunk.subarray(need);
      held = undefined;
    }
    if (isAscii(chunk)) continue;
    const cut = cutCharacter(chunk);
    if (!isUtf8(chunk.subarray(0, cut))) return false;
    if (cut < chunk.length) held = chunk.subarray(cut);
  }
  return held === undefined;
}

/** How many bytes a character whose first byte is `b` has (1 for a byte that cannot start one). */
function sequenceLength(b: number): number {
  if (b >= 0xf0 && b <= 0xf4) return 4;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  return 1;
}

/** Where a character that the chunk's end cuts short begins (the chunk's length if none is). */
function cutCharacter(chunk: Buffer): number {
  const n = chunk.length;
  for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
    const b = chunk[i] as number;
    if (b < 0x80) return n;
    if (b >= 0xc0) return i + sequenceLength(b) > n ? i : n;
  }
  return n;
}
