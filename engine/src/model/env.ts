/**
 * Everything from outside that a decision may depend on, passed in so that `decide()` stays pure
 * and every decision can be replayed.
 */
export interface Env {
  /** The current time in epoch milliseconds (quota windows, token bucket refill). */
  nowMs: number;
  /** Uniform random number in [0, 1), used for the weighted deployment pick. */
  random: () => number;
}

/** Builds an `Env` whose random numbers come from a seed (Mulberry32): for tests, replays and explain. */
export function seededEnv(nowMs: number, seed: number): Env {
  let a = seed >>> 0;
  return {
    nowMs,
    random() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
