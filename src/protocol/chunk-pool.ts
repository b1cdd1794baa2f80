/**
 * Reusable 64 KiB byte chunks for large answers, XML-RPC (encode.ts writes into them) and
 * JSON-RPC ({@link utf8Chunks}).
 *
 * A large XML-RPC answer (18 MB for a 20,000-record search_read) used to be one new buffer per
 * call, and a large JSON-RPC one a string node copied into memory of its own to send. Node
 * frees a buffer's memory only when V8 collects the small object holding it, and V8 does that late
 * for memory outside its own heap: answers already sent piled up until an old-generation
 * collection. Written into chunks taken from here, and given back once the response is over, a
 * large answer reuses the memory of the one before it (the 20k-record read on XML-RPC: peak RSS
 * 198-201 → 186-187 MiB; BENCHMARKS.md).
 *
 * At most {@link MAX_FREE_BYTES} of chunks wait here between calls; past that, given-back chunks
 * are left to the garbage collector: that much stays resident after a burst of large answers.
 * Small answers never come here (they get a buffer or a string of their own).
 */
export const CHUNK_BYTES = 64 * 1024;
export const MAX_FREE_BYTES = 32 * 1024 * 1024;

const free: Buffer[] = [];

/**
 * An answer's UTF-8 bytes, in order: views of 64 KiB chunks from this pool
 * for a large answer, one plain buffer for a small one.
 */
export interface EncodedAnswer {
  readonly chunks: readonly Buffer[];
  /** The total of the chunks' lengths. */
  readonly length: number;
  /** Whether any chunk is the pool's (else release() does nothing). */
  readonly pooled: boolean;
  /**
   * Gives the pooled chunks back. Call it once, when the bytes have been handed to the OS (the
   * response's `close`) or will not be sent; the chunks must not be read afterwards.
   */
  release(): void;
}

/** The release() of an answer with nothing pooled. */
export function releaseNothing(): void {}

/** A chunk of {@link CHUNK_BYTES}, from the free list or new. Its content is not zeroed. */
export function takeChunk(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

/** Gives chunks back for reuse. The caller must not touch them (or any view of them) again. */
export function giveChunks(chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    if (free.length * CHUNK_BYTES >= MAX_FREE_BYTES) return;
    if (chunk.length === CHUNK_BYTES) free.push(chunk);
  }
}

/** How many bytes of chunks wait for reuse (tests). */
export function freeBytes(): number {
  return free.length * CHUNK_BYTES;
}

const encoder = new TextEncoder();

/**
 * Strings (a JSON-RPC answer's pieces) as UTF-8, written into pooled chunks. Node would otherwise
 * copy a large string into memory of its own to send it; in chunks, a large JSON-RPC answer
 * reuses the same memory as a large XML-RPC one. Lone surrogates become U+FFFD, as Node writes them.
 */
export function utf8Chunks(pieces: readonly string[]): EncodedAnswer {
  const chunks: Buffer[] = [];
  const pooled: Buffer[] = [];
  let buf = takeChunk();
  pooled.push(buf);
  let o = 0;
  let length = 0;
  for (let piece of pieces) {
    while (piece.length > 0) {
      const { read, written } = encoder.encodeInto(piece, o === 0 ? buf : buf.subarray(o));
      o += written;
      if (read < piece.length) {
        // The chunk is full (a character that does not fit is left whole for the next one).
        piece = piece.slice(read);
        chunks.push(buf.subarray(0, o));
        length += o;
        buf = takeChunk();
        pooled.push(buf);
        o = 0;
      } else piece = '';
    }
  }
  chunks.push(buf.subarray(0, o));
  length += o;
  return pooledAnswer(chunks, length, pooled);
}

/** An answer of `chunks` written into the pool's chunks `pooled`, which its release() gives back once. */
export function pooledAnswer(chunks: Buffer[], length: number, pooled: readonly Buffer[]): EncodedAnswer {
  let released = false;
  return {
    chunks,
    length,
    pooled: true,
    release: () => {
      if (released) return;
      released = true;
      giveChunks(pooled);
    },
  };
}
