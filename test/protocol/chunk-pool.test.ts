/**
 * The chunk pool (src/protocol/chunk-pool.ts): chunks given back once, up to the cap, and their
 * memory freed past the cap and once the pool has been idle.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CHUNK_BYTES,
  IDLE_MS,
  MAX_FREE_BYTES,
  freeBytes,
  giveChunks,
  releaseFreeChunks,
  takeChunk,
} from '../../src/protocol/chunk-pool.ts';

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

  it('frees the chunks past the cap at once: they and their views read as empty', () => {
    releaseFreeChunks();
    const many = Array.from({ length: MAX_FREE_BYTES / CHUNK_BYTES + 3 }, () => takeChunk());
    const view = many[many.length - 1]!.subarray(10, 20);
    giveChunks(many);
    expect(freeBytes()).toBe(MAX_FREE_BYTES);
    expect(many.slice(0, -3).every((c) => c.length === CHUNK_BYTES)).toBe(true);
    expect(many.slice(-3).map((c) => c.length)).toEqual([0, 0, 0]);
    expect(view.length).toBe(0);
    releaseFreeChunks();
  });

  it('never frees a buffer it did not make whole (a view, or a slice of a shared buffer)', () => {
    releaseFreeChunks();
    const shared = Buffer.allocUnsafeSlow(2 * CHUNK_BYTES);
    giveChunks([shared.subarray(0, CHUNK_BYTES), shared.subarray(CHUNK_BYTES)]);
    expect(freeBytes()).toBe(0);
    expect(shared.length).toBe(2 * CHUNK_BYTES);
  });
});

describe('the idle release', () => {
  afterEach(() => {
    releaseFreeChunks();
    vi.useRealTimers();
  });

  it('frees the free chunks once none has been taken for IDLE_MS', () => {
    releaseFreeChunks();
    vi.useFakeTimers();
    const chunks = [takeChunk(), takeChunk()];
    giveChunks(chunks);
    vi.advanceTimersByTime(IDLE_MS - 1);
    expect(freeBytes()).toBe(2 * CHUNK_BYTES);
    expect(chunks[0]!.length).toBe(CHUNK_BYTES);
    vi.advanceTimersByTime(1);
    expect(freeBytes()).toBe(0);
    expect(chunks.map((c) => c.length)).toEqual([0, 0]);
    // A later large answer gets new chunks.
    expect(takeChunk().length).toBe(CHUNK_BYTES);
  });

  it('keeps them while large answers keep taking chunks', () => {
    releaseFreeChunks();
    vi.useFakeTimers();
    giveChunks([takeChunk(), takeChunk()]);
    vi.advanceTimersByTime(IDLE_MS * 0.6);
    giveChunks([takeChunk()]); // a large answer between two looks of the timer
    vi.advanceTimersByTime(IDLE_MS * 0.6);
    expect(freeBytes()).toBe(2 * CHUNK_BYTES);
    vi.advanceTimersByTime(IDLE_MS);
    expect(freeBytes()).toBe(0);
  });
});
