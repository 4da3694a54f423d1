import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.ts';
import { sha256Hex } from './sha256.ts';
import { assignVersion, stickyBucket } from './sticky-bucket.ts';

describe('sha256Hex', () => {
  it('matches node:crypto on ASCII, multi-byte and block-boundary inputs', () => {
    for (const s of [
      '',
      'abc',
      'é漢字🙂',
      'x'.repeat(55),
      'x'.repeat(56),
      'x'.repeat(64),
      'y'.repeat(1000),
    ]) {
      expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":2,"z":1}]},"b":1}',
    );
  });
});

describe('sticky assignment', () => {
  it('gives the same caller the same bucket every time', () => {
    expect(stickyBucket('key_1', 'r1')).toBe(stickyBucket('key_1', 'r1'));
    expect(stickyBucket('key_1', 'r1')).not.toBe(stickyBucket('key_1', 'r2'));
  });

  it('sends close to the requested share of distinct callers to the candidate', () => {
    for (const pct of [1, 5, 25]) {
      let n = 0;
      for (let i = 0; i < 20000; i++) if (assignVersion(`key_${i}`, 'rollout-7', pct) === 'candidate') n++;
      expect(Math.abs(n / 200 - pct)).toBeLessThan(Math.max(0.5, pct * 0.1));
    }
  });

  it('keeps earlier candidates in the candidate group as the percentage grows', () => {
    const at5 = Array.from({ length: 2000 }, (_, i) => assignVersion(`u${i}`, 'r', 5));
    const at25 = Array.from({ length: 2000 }, (_, i) => assignVersion(`u${i}`, 'r', 25));
    at5.forEach((v, i) => {
      if (v === 'candidate') expect(at25[i]).toBe('candidate');
    });
  });
});
