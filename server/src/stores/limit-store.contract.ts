import { randomUUID } from 'node:crypto';
import type { LimitCheck } from '@switchyard/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LimitStore, refilledTokens } from './limit-store.ts';

/** A bucket check with a key no other test uses. */
function check(overrides: Partial<LimitCheck> = {}): LimitCheck {
  return {
    key: `rl|t|${randomUUID()}|k`,
    limitId: 'rpm',
    per: 'key',
    unit: 'requests',
    capacity: 10,
    refillPerSec: 2,
    cost: 1,
    headerLimit: 120,
    ...overrides,
  };
}

/**
 * The behaviour every `LimitStore` implementation must have. Call it from the implementation's
 * test file with a factory that returns a store; keys are unique per test, so the store may share
 * its backing state between tests.
 */
export function runLimitStoreContract(name: string, makeStore: () => LimitStore | Promise<LimitStore>): void {
  describe(`${name} limit store contract`, () => {
    let store: LimitStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('starts every bucket full and reports what is left and when it is full again', async () => {
      const c = check({ capacity: 10, refillPerSec: 2, cost: 3 });
      const result = await store.take([c], 1_000);
      expect(result).toEqual({ ok: true, buckets: [{ key: c.key, remaining: 7, resetAfterMs: 1_500 }] });
    });

    it('refills continuously at the engine’s rate, never above capacity', async () => {
      const c = check({ capacity: 10, refillPerSec: 2, cost: 10 });
      expect((await store.take([c], 0)).ok).toBe(true);
      const after1500 = await store.take([{ ...c, cost: 3 }], 1_500);
      expect(after1500).toMatchObject({ ok: true, buckets: [{ remaining: 0 }] });
      const short = await store.take([{ ...c, cost: 1 }], 1_500);
      expect(short).toEqual({ ok: false, limit: { ...c, cost: 1 }, remaining: 0, retryAfterMs: 500 });
      const muchLater = await store.take([{ ...c, cost: 1 }], 3_600_000);
      expect(muchLater).toMatchObject({ ok: true, buckets: [{ remaining: 9 }] });
    });

    it('keeps fractional levels exactly, as the engine computes them from a peeked level', async () => {
      const c = check({ unit: 'tokens', capacity: 1_000, refillPerSec: 1_000 / 60, cost: 777 });
      await store.take([c], 10_000);
      const level = (await store.peek([c.key]))[c.key]!;
      expect(level).toEqual({ tokens: 223, atMs: 10_000 });
      const expected = refilledTokens(level, c.capacity, c.refillPerSec, 10_333) - 100;
      const result = await store.take([{ ...c, cost: 100 }], 10_333);
      expect(result.ok && result.buckets[0]!.remaining).toBe(expected);
      expect(expected % 1).not.toBe(0);
    });

    it('takes from every bucket or from none, and names the first one short', async () => {
      const roomy = check({ capacity: 100, cost: 5 });
      const tight = check({ capacity: 3, cost: 5 });
      const alsoTight = check({ capacity: 4, cost: 5 });
      const result = await store.take([roomy, tight, alsoTight], 0);
      expect(result).toMatchObject({ ok: false, limit: tight, remaining: 3 });
      expect(await store.peek([roomy.key, tight.key])).toEqual({});
      expect(await store.take([roomy], 0)).toMatchObject({ ok: true, buckets: [{ remaining: 95 }] });
    });

    it('says a cost larger than the bucket can ever hold may be retried in a minute, as the engine does', async () => {
      const c = check({ capacity: 5, cost: 6 });
      expect(await store.take([c], 0)).toEqual({ ok: false, limit: c, remaining: 5, retryAfterMs: 60_000 });
    });

    it('never lets concurrent takes drive a bucket below zero', async () => {
      const c = check({ capacity: 30, refillPerSec: 0.001, cost: 1 });
      const results = await Promise.all(Array.from({ length: 100 }, () => store.take([c], 5_000)));
      expect(results.filter((r) => r.ok)).toHaveLength(30);
      expect((await store.peek([c.key]))[c.key]?.tokens).toBe(0);
    });

    it('takes from several buckets atomically under concurrency', async () => {
      const small = check({ capacity: 20, refillPerSec: 0.001 });
      const large = check({ capacity: 50, refillPerSec: 0.001 });
      const results = await Promise.all(Array.from({ length: 60 }, () => store.take([large, small], 0)));
      expect(results.filter((r) => r.ok)).toHaveLength(20);
      expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, limit: small });
      const levels = await store.peek([small.key, large.key]);
      expect(levels[small.key]?.tokens).toBe(0);
      expect(levels[large.key]?.tokens).toBe(30);
    });

    it('refunds up to the capacity and charges down to zero, resolving the new level', async () => {
      const c = check({ unit: 'tokens', capacity: 1_000, refillPerSec: 10, cost: 800 });
      await store.take([c], 0);
      expect(await store.refund(c, 500, 0)).toBe(700);
      expect(await store.refund(c, 500, 0)).toBe(1_000);
      expect(await store.charge(c, 300, 0)).toBe(700);
      expect(await store.charge(c, 5_000, 0)).toBe(0);
      expect(await store.refund(c, 0, 1_000)).toBe(10);
    });

    it('treats a refund to a bucket it never saw as a full bucket', async () => {
      const c = check({ capacity: 10 });
      expect(await store.refund(c, 5, 0)).toBe(10);
      expect(await store.charge(check({ capacity: 10 }), 4, 0)).toBe(6);
    });

    it('peeks stored levels and leaves unknown buckets out', async () => {
      const c = check({ capacity: 10, cost: 4 });
      await store.take([c], 2_000);
      expect(await store.peek([c.key, 'rl|t|unknown|k'])).toEqual({ [c.key]: { tokens: 6, atMs: 2_000 } });
      expect(await store.peek([])).toEqual({});
    });

    it('does not refill twice when a replica with a lagging clock takes', async () => {
      const c = check({ capacity: 10, refillPerSec: 1, cost: 5 });
      await store.take([c], 10_000);
      expect(await store.take([{ ...c, cost: 1 }], 8_000)).toMatchObject({
        ok: true,
        buckets: [{ remaining: 4 }],
      });
      expect((await store.peek([c.key]))[c.key]).toEqual({ tokens: 4, atMs: 10_000 });
      expect(await store.take([{ ...c, cost: 1 }], 11_000)).toMatchObject({
        ok: true,
        buckets: [{ remaining: 4 }],
      });
    });

    it('succeeds with nothing to take', async () => {
      expect(await store.take([], 0)).toEqual({ ok: true, buckets: [] });
    });
  });
}
