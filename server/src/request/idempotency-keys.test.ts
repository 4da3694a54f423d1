import { describe, expect, it } from 'vitest';
import { IdempotencyKeys } from './idempotency-keys.ts';

describe('IdempotencyKeys', () => {
  it('says a key is new once per API key, until its TTL has passed', () => {
    const keys = new IdempotencyKeys({ ttlMs: 1000 });
    expect(keys.isFirstUse('key_a', 'order-1', 0)).toBe(true);
    expect(keys.isFirstUse('key_a', 'order-1', 500)).toBe(false);
    expect(keys.isFirstUse('key_b', 'order-1', 500)).toBe(true);
    expect(keys.isFirstUse('key_a', 'order-1', 1600)).toBe(true);
  });

  it('treats requests without the header as always new, and stays within its bound', () => {
    const keys = new IdempotencyKeys({ maxKeys: 2 });
    expect(keys.isFirstUse('k', undefined, 0)).toBe(true);
    expect(keys.isFirstUse('k', '', 0)).toBe(true);
    keys.isFirstUse('k', 'a', 0);
    keys.isFirstUse('k', 'b', 1);
    keys.isFirstUse('k', 'a', 2);
    keys.isFirstUse('k', 'c', 3);
    expect(keys.size).toBe(2);
    // `b` was the least recently seen, so it was forgotten; `a` was refreshed and kept.
    expect(keys.isFirstUse('k', 'a', 4)).toBe(false);
    expect(keys.isFirstUse('k', 'b', 5)).toBe(true);
  });
});
