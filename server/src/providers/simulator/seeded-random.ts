/** A deterministic source of numbers in [0, 1). */
export type SeededRandom = () => number;

/**
 * Creates a seeded PRNG (mulberry32): the same seed gives the same sequence, so injected errors
 * and latency jitter are reproducible per adapter instance.
 */
export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
