import { describe, expect, it } from 'vitest';
import { randomHex } from './random-hex.ts';

describe('randomHex', () => {
  it('draws ids of the asked length that never repeat, across refills of its pool', () => {
    const seen = new Set<string>();
    // 4096 pooled bytes hold 512 ids of 8 bytes: this crosses about twenty refills.
    for (let i = 0; i < 10_000; i++) {
      const id = randomHex(8);
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(10_000);
    expect(randomHex(12)).toMatch(/^[0-9a-f]{24}$/);
    expect(randomHex(5000)).toHaveLength(10_000);
  });
});
