/**
 * The chunk pool (src/protocol/chunk-pool.ts): strings written into chunks as the same UTF-8 bytes
 * node would send, whatever falls on a chunk boundary; chunks given back once, up to the cap.
 */
import { describe, expect, it } from 'vitest';
import {
  CHUNK_BYTES,
  MAX_FREE_BYTES,
  freeBytes,
  giveChunks,
  takeChunk,
  utf8Chunks,
} from '../../src/protocol/chunk-pool.ts';
import { prng } from '../support/random.ts';

describe('utf8Chunks', () => {
  it("writes node's UTF-8 bytes of the joined pieces, characters of 1 to 4 bytes and lone surrogates across boundaries", () => {
    const rnd = prng(11);
    const alphabet = ['a', '"', 'é', '日', '😀', '\ud800', '\udc00', '\u0000', '\n'];
    for (let round = 0; round < 20; round++) {
      const pieces = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => {
        const len = Math.floor(rnd() * 3 * CHUNK_BYTES);
        let s = '';
        while (s.length < len) s += alphabet[Math.floor(rnd() * alphabet.length)];
        return s;
      });
      const answer = utf8Chunks(pieces);
      const expected = Buffer.from(pieces.join(''), 'utf8');
      expect(answer.length).toBe(expected.length);
      expect(Buffer.concat(answer.chunks).equals(expected)).toBe(true);
      for (const chunk of answer.chunks) expect(chunk.length).toBeLessThanOrEqual(CHUNK_BYTES);
      answer.release();
    }
  });

  it('gives its chunks back once', () => {
    const answer = utf8Chunks(['x'.repeat(3 * CHUNK_BYTES)]);
    const before = freeBytes();
    answer.release();
    const after = freeBytes();
    expect(after - before).toBe(3 * CHUNK_BYTES); // exactly three full chunks
    answer.release();
    expect(freeBytes()).toBe(after);
  });
});

describe('the pool', () => {
  it('keeps at most MAX_FREE_BYTES of chunks, and only whole chunks', () => {
    const many = Array.from({ length: MAX_FREE_BYTES / CHUNK_BYTES + 10 }, () => takeChunk());
    giveChunks([Buffer.alloc(100)]);
    giveChunks(many);
    expect(freeBytes()).toBe(MAX_FREE_BYTES);
    const again = takeChunk();
    expect(again.length).toBe(CHUNK_BYTES);
    expect(freeBytes()).toBe(MAX_FREE_BYTES - CHUNK_BYTES);
  });
});
