/**
 * Seeded randomness for the differential tests against CPython: the same seed gives the same
 * inputs, so that a failure can be replayed.
 */

/** A deterministic PRNG (mulberry32): numbers in [0, 1) from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one of `xs` with `rnd`. */
export function picker(rnd: () => number): <T>(xs: readonly T[]) => T {
  return <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
}
