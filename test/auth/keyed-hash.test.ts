import { describe, expect, it } from 'vitest';
import { KeyedHash } from '../../src/auth/keyed-hash.ts';

describe('KeyedHash', () => {
  const secret = 'b4d6c1f0e9a87f3c2d1e0f9a8b7c6d5e4f3a2b1c';

  it('gives the same digest for the same tuple and different ones for different tuples', () => {
    const h = new KeyedHash();
    expect(h.of(['db', secret])).toBe(h.of(['db', secret]));
    expect(h.of(['db', secret])).not.toBe(h.of(['db2', secret]));
    // The JSON of the tuple separates its parts: no concatenation collisions.
    expect(h.of(['ab', 'c'])).not.toBe(h.of(['a', 'bc']));
    expect(h.of(['call', 'db', 2, 'pw'])).not.toBe(h.of(['call', 'db', '2', 'pw']));
  });

  it('is keyed per process: another instance gives another digest, and none holds the secret', () => {
    const a = new KeyedHash().of(['db', secret]);
    const b = new KeyedHash().of(['db', secret]);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toContain(secret.slice(0, 8));
  });
});
