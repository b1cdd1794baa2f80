/**
 * Reusable 128 KiB byte chunks for large outputs (protocol/byte-writer.ts writes into them: the
 * XML-RPC answers).
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
 * burst's 18-32 MB beside them (docs/performance-notes.md, seventh round). Small answers never come here (they
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
