/**
 * Output written as bytes, straight into buffers: markup as precomputed bytes, text as it is
 * escaped. A small output is one buffer; a large one is written into 128 KiB chunks that are reused
 * from one output to the next (chunk-pool.ts), so it makes almost no garbage and no copy.
 */
import {
  CHUNK_BYTES,
  giveChunks,
  pooledAnswer,
  releaseNothing,
  takeChunk,
  type EncodedAnswer,
} from './chunk-pool.ts';

/**
 * The size of a writer's own chunks: below glibc's mmap threshold (the bridge runs with
 * `MALLOC_MMAP_THRESHOLD_=131072`), so that their memory comes from malloc's heap and is used
 * again once the GC has freed them, instead of being mapped afresh (page faults) each time.
 */
export const OWN_CHUNK_BYTES = 64 * 1024;

/** Below this many bytes, {@link ByteWriter.putShared} copies rather than shares. */
const SHARE_FROM = 4096;

/** A place in a writer's output ({@link ByteWriter.mark}). */
export interface WriterMark {
  readonly buf: Buffer;
  readonly o: number;
  readonly full: number;
  readonly fullBytes: number;
  readonly pooled: number;
}

/**
 * A byte writer: it writes into one buffer while the output fits the first one, then into pooled
 * chunks (chunk-pool.ts): a full chunk is set aside as it is and writing goes on in a new one, so
 * nothing is ever copied. `room(need)` guarantees `need` contiguous bytes in the current buffer,
 * which may be a new one: callers reload `buf` and `o` after calling it. The XML-RPC writers
 * (xmlrpc/xml-bytes.ts) and the JSON one (json/stringify.ts) are built on it.
 */
export class ByteWriter {
  protected buf: Buffer;
  protected o = 0;
  /** Views of the chunks already full, in order (none for a small answer). */
  private full: Buffer[] | undefined;
  private fullBytes = 0;
  /** The pooled chunks written into, given back by the answer's release() (none for a small answer). */
  private pooled: Buffer[] | undefined;

  /** Whether chunks come from the pool (else they are the writer's own, freed by the GC). */
  private readonly usePool: boolean;

  /**
   * `size`: the expected length; up to a chunk, one plain buffer of that size is tried first.
   * `usePool: false` for bytes that may still be read after the writer's user is done with them
   * (a request body a socket may still be sending): chunks of {@link OWN_CHUNK_BYTES}, never reused.
   */
  constructor(size: number, usePool = true) {
    this.usePool = usePool;
    if (size > CHUNK_BYTES) {
      this.buf = this.newChunk(0);
    } else this.buf = Buffer.allocUnsafe(Math.max(1024, size));
  }

  /** A chunk for `need` more bytes: the pool's, or one of the writer's own. */
  private newChunk(need: number): Buffer {
    if (!this.usePool) return Buffer.allocUnsafeSlow(Math.max(need, OWN_CHUNK_BYTES));
    const chunk = takeChunk();
    (this.pooled ??= []).push(chunk);
    return chunk;
  }

  get length(): number {
    return this.fullBytes + this.o;
  }

  /** The bytes written, and the pooled chunks' release: what the HTTP layer sends. */
  answer(): EncodedAnswer {
    const last = this.buf.subarray(0, this.o);
    const pooled = this.pooled;
    if (pooled === undefined && this.full === undefined)
      return { chunks: [last], length: this.o, pooled: false, release: releaseNothing };
    const chunks = this.full === undefined ? [last] : [...this.full, last];
    if (pooled === undefined) return { chunks, length: this.length, pooled: false, release: releaseNothing };
    return pooledAnswer(chunks, this.length, pooled);
  }

  /** The bytes written, as one buffer of their own (a copy when there are several chunks). */
  bytes(): Buffer {
    if (this.full === undefined && this.pooled === undefined) return this.buf.subarray(0, this.o);
    const a = this.answer();
    const copy = Buffer.concat(a.chunks, a.length);
    a.release();
    return copy;
  }

  result(): string {
    if (this.full === undefined && this.pooled === undefined) return this.buf.toString('utf8', 0, this.o);
    return this.bytes().toString('utf8');
  }

  /**
   * Makes room for `need` more contiguous bytes: the current buffer is set aside as full and
   * writing goes on in a new chunk (or, for more than a chunk at once, a buffer of that size).
   */
  protected room(need: number): void {
    if (this.o + need <= this.buf.length) return;
    if (this.o > 0) {
      (this.full ??= []).push(this.buf.subarray(0, this.o));
      this.fullBytes += this.o;
    }
    if (need <= CHUNK_BYTES) this.buf = this.newChunk(need);
    else this.buf = Buffer.allocUnsafe(need);
    this.o = 0;
  }

  /** Copies `src[from, to)` as is, over as many chunks as it takes (never one buffer of its size). */
  putSpan(src: Uint8Array, from: number, to: number): void {
    while (from < to) {
      if (this.o === this.buf.length) this.room(1);
      const n = Math.min(this.buf.length - this.o, to - from);
      this.buf.set(from === 0 && n === src.length ? src : src.subarray(from, from + n), this.o);
      this.o += n;
      from += n;
    }
  }

  /**
   * Adds `bytes` to the output as they are, without copying them (a large text's chunks): they must
   * stay unchanged until the output has been sent. Writing goes on in the current buffer's rest.
   */
  putShared(bytes: Buffer): void {
    if (bytes.length < SHARE_FROM) return this.putSpan(bytes, 0, bytes.length);
    const full = (this.full ??= []);
    if (this.o > 0) full.push(this.buf.subarray(0, this.o));
    full.push(bytes);
    this.fullBytes += this.o + bytes.length;
    this.buf = this.buf.subarray(this.o);
    this.o = 0;
  }

  put(bytes: Uint8Array): void {
    const len = bytes.length;
    if (this.o + len > this.buf.length) this.room(len);
    this.buf.set(bytes, this.o);
    this.o += len;
  }

  /** Where writing is now, to come back to with {@link rewind}. */
  mark(): WriterMark {
    return {
      buf: this.buf,
      o: this.o,
      full: this.full?.length ?? 0,
      fullBytes: this.fullBytes,
      pooled: this.pooled?.length ?? 0,
    };
  }

  /** Forgets what was written since `mark`; the chunks taken meanwhile go back to the pool. */
  rewind(mark: WriterMark): void {
    this.buf = mark.buf;
    this.o = mark.o;
    if (this.full !== undefined) this.full.length = mark.full;
    this.fullBytes = mark.fullBytes;
    if (this.pooled !== undefined && this.pooled.length > mark.pooled)
      giveChunks(this.pooled.splice(mark.pooled));
  }

  /** Writes an ASCII string (numbers). */
  putAscii(s: string): void {
    const len = s.length;
    if (this.o + len > this.buf.length) this.room(len);
    const buf = this.buf;
    let o = this.o;
    for (let k = 0; k < len; k++) buf[o++] = s.charCodeAt(k);
    this.o = o;
  }
}

/** Writes a non-ASCII code point as UTF-8; returns the new offset. */
export function putCodePoint(buf: Uint8Array, o: number, cp: number): number {
  if (cp < 0x800) {
    buf[o] = 0xc0 | (cp >> 6);
    buf[o + 1] = 0x80 | (cp & 0x3f);
    return o + 2;
  }
  if (cp < 0x10000) {
    buf[o] = 0xe0 | (cp >> 12);
    buf[o + 1] = 0x80 | ((cp >> 6) & 0x3f);
    buf[o + 2] = 0x80 | (cp & 0x3f);
    return o + 3;
  }
  buf[o] = 0xf0 | (cp >> 18);
  buf[o + 1] = 0x80 | ((cp >> 12) & 0x3f);
  buf[o + 2] = 0x80 | ((cp >> 6) & 0x3f);
  buf[o + 3] = 0x80 | (cp & 0x3f);
  return o + 4;
}
