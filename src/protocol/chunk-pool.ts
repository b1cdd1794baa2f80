/**
 * Reusable 64 KiB byte chunks for large XML-RPC answers.
 *
 * A large answer (18 MB for a 20,000-record search_read) used to be one new buffer per call. Node
 * frees a buffer's memory only when V8 collects the small object holding it, and V8 does that late
 * for memory outside its own heap: answers already sent piled up until an old-generation
 * collection. Written into chunks taken from here, and given back once the response is over, a
 * large answer reuses the memory of the one before it (the 20k-record read: peak RSS 198-201 →
 * 186-187 MiB, BENCHMARKS.md).
 *
 * At most {@link MAX_FREE_BYTES} of chunks wait here between calls; past that, given-back chunks
 * are left to the garbage collector. Small answers never come here (encode.ts gives them a buffer
 * of their own size).
 */
export const CHUNK_BYTES = 64 * 1024;
export const MAX_FREE_BYTES = 32 * 1024 * 1024;

const free: Buffer[] = [];

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
