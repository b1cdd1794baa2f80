/**
 * Reusable 128 KiB byte chunks for large answers, XML-RPC (encode.ts writes into them) and
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
 * At most {@link MAX_FREE_BYTES} of chunks wait here between calls, and only while large answers
 * keep coming: once no chunk has been taken for {@link IDLE_MS}, the free chunks' memory is given
 * back to the system. A chunk is freed by detaching its ArrayBuffer (`transfer(0)`), which frees
 * the memory at once; dropped, it would stay resident until an old-generation collection. A chunk
 * is 128 KiB so that glibc's malloc gives each one a mapping of its own (the bridge runs with
 * `MALLOC_MMAP_THRESHOLD_=131072`), and freeing it unmaps it; 64 KiB chunks came from malloc's heap
 * and stayed resident once freed. After a burst of large reads, small calls then run without the
 * burst's 18-32 MB beside them (BENCHMARKS.md, seventh round). Small answers never come here (they
 * get a buffer or a string of their own).
 */
export const CHUNK_BYTES = 128 * 1024;
export const MAX_FREE_BYTES = 32 * 1024 * 1024;
/** How long the free chunks are kept without a large answer taking one. */
export const IDLE_MS = 200;

const free: Buffer[] = [];
/** Whether a chunk was taken since the idle timer last looked. */
let taken = false;
/** Chunks taken and not given back yet. */
let out = 0;
let idleTimer: NodeJS.Timeout | undefined;

/**
 * An answer's UTF-8 bytes, in order: views of chunks from this pool
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
  taken = true;
  out++;
  return free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

/**
 * Gives chunks back for reuse, or frees them past the cap. The caller must not touch them (or any
 * view of them) again: a freed chunk, and every view of it, reads as empty.
 */
export function giveChunks(chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    if (!isWholeChunk(chunk)) continue;
    out--;
    if (free.length * CHUNK_BYTES < MAX_FREE_BYTES) free.push(chunk);
    else freeChunk(chunk);
  }
  if (free.length > 0 && idleTimer === undefined) armIdleTimer();
}

/** Looks again in IDLE_MS whether a chunk was taken meanwhile. */
function armIdleTimer(): void {
  taken = false;
  idleTimer = setTimeout(releaseIfIdle, IDLE_MS);
  idleTimer.unref();
}

/** The idle timer: frees the free chunks if none was taken since it was set, else looks again later. */
function releaseIfIdle(): void {
  idleTimer = undefined;
  if (taken) {
    if (free.length > 0) armIdleTimer();
    else taken = false;
    return;
  }
  releaseFreeChunks();
}

/** Frees every chunk waiting for reuse (the idle timer; tests). */
export function releaseFreeChunks(): void {
  if (idleTimer !== undefined) clearTimeout(idleTimer);
  idleTimer = undefined;
  for (const chunk of free) freeChunk(chunk);
  free.length = 0;
}

/** A chunk this pool made: the whole of its own ArrayBuffer, so detaching it frees nothing else. */
function isWholeChunk(chunk: Buffer): boolean {
  return chunk.length === CHUNK_BYTES && chunk.byteOffset === 0 && chunk.buffer.byteLength === CHUNK_BYTES;
}

/** Frees a chunk's memory now, by detaching its ArrayBuffer. */
function freeChunk(chunk: Buffer): void {
  const memory = chunk.buffer;
  if (memory instanceof ArrayBuffer) memory.transfer(0);
}

/** How many chunks have been taken and not given back (tests: every answer gives all of its back). */
export function chunksOut(): number {
  return out;
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
  // A high surrogate ending a piece is held over to the next piece, which may begin with its low
  // surrogate: the pair is then one character, as in the joined string.
  let held = '';
  for (let i = 0; i < pieces.length; i++) {
    let piece = held === '' ? (pieces[i] as string) : held + (pieces[i] as string);
    held = '';
    if (i + 1 < pieces.length && isHighSurrogate(piece.charCodeAt(piece.length - 1))) {
      held = piece.slice(-1);
      piece = piece.slice(0, -1);
    }
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

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
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
