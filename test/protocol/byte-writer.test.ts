/**
 * The byte writer (src/protocol/byte-writer.ts) that the XML-RPC and JSON writers are built on:
 * bytes spanning chunks, a rewind that gives back the chunks taken since its mark, chunks of its
 * own for request bodies.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter, OWN_CHUNK_BYTES } from '../../src/protocol/byte-writer.ts';
import { CHUNK_BYTES, chunksOut } from '../../src/protocol/chunk-pool.ts';

class Writer extends ByteWriter {
  /** `n` bytes of `byte`, in steps of at most 1,000. */
  fill(byte: number, n: number): void {
    for (let left = n; left > 0; left -= 1000) {
      const k = Math.min(1000, left);
      this.room(k);
      this.buf.fill(byte, this.o, this.o + k);
      this.o += k;
    }
  }
}

describe('ByteWriter', () => {
  it('copies a span larger than a chunk over several chunks, as it is', () => {
    const src = Buffer.from(Array.from({ length: 3 * CHUNK_BYTES + 17 }, (_, i) => i % 251));
    const w = new Writer(2 * CHUNK_BYTES);
    w.put(Buffer.from('<'));
    w.putSpan(src, 5, src.length);
    const a = w.answer();
    expect(a.pooled).toBe(true);
    expect(Buffer.concat(a.chunks).equals(Buffer.concat([Buffer.from('<'), src.subarray(5)]))).toBe(true);
    for (const chunk of a.chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK_BYTES);
    a.release();
  });

  it('rewinds to a mark: what was written since is forgotten and its chunks go back to the pool', () => {
    const out = chunksOut();
    const w = new Writer(2 * CHUNK_BYTES);
    w.fill(0x61, 1000);
    const mark = w.mark();
    w.fill(0x62, 3 * CHUNK_BYTES);
    expect(chunksOut() - out).toBe(4);
    w.rewind(mark);
    expect(chunksOut() - out).toBe(1);
    w.fill(0x63, 10);
    const a = w.answer();
    expect(Buffer.concat(a.chunks).toString()).toBe('a'.repeat(1000) + 'c'.repeat(10));
    a.release();
    expect(chunksOut()).toBe(out);
  });

  it('writes a request body into chunks of its own, never the pool', () => {
    const out = chunksOut();
    const w = new Writer(0, false);
    w.fill(0x78, 5 * OWN_CHUNK_BYTES);
    expect(chunksOut()).toBe(out);
    const a = w.answer();
    expect(a.pooled).toBe(false);
    expect(a.length).toBe(5 * OWN_CHUNK_BYTES);
    expect(Buffer.concat(a.chunks).every((b) => b === 0x78)).toBe(true);
  });
});
