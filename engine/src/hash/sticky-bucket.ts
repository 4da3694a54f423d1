/**
 * A stable bucket in [0, 10000) for a sticky value (tenant, key id or user) under a salt (rollout
 * or experiment id): FNV-1a 32-bit, then a murmur-style finaliser so similar inputs spread evenly.
 */
export function stickyBucket(value: string, salt: string): number {
  let h = 0x811c9dc5;
  const s = `${salt}\u0000${value}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % 10000;
}

/**
 * Which version serves a request during a canary: `candidate` when the sticky bucket falls below
 * `percent` (0–100, two decimals of precision), else `stable`. Same inputs, same answer, on every replica.
 */
export function assignVersion(
  stickyValue: string,
  rolloutId: string,
  percent: number,
): 'stable' | 'candidate' {
  return stickyBucket(stickyValue, rolloutId) < Math.round(percent * 100) ? 'candidate' : 'stable';
}
