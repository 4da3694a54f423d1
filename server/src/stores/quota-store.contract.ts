import { randomUUID } from 'node:crypto';
import type { Charge } from '@switchyard/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type QuotaStore, quotaUsedSnapshot } from './quota-store.ts';

const hour = 3_600_000;

/** A charge on a counter no other test uses, in the hour starting at 0. */
function charge(overrides: Partial<Charge> = {}): Charge {
  return {
    key: `q|t|${randomUUID()}|t|0`,
    quotaId: 'tokens-hour',
    per: 'tenant',
    unit: 'tokens',
    window: 'hour',
    windowStartMs: 0,
    windowEndMs: hour,
    limit: 100,
    amount: 10,
    ...overrides,
  };
}

const lease = 60_000;

/**
 * The behaviour every `QuotaStore` implementation must have. Call it from the implementation's
 * test file with a factory that returns a store; counters and reservation ids are unique per test,
 * so the store may share its backing state between tests.
 */
export function runQuotaStoreContract(name: string, makeStore: () => QuotaStore | Promise<QuotaStore>): void {
  describe(`${name} quota store contract`, () => {
    let store: QuotaStore;
    const rid = () => `req_${randomUUID()}`;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('reserves the upper bound, then settles it to the actual amount', async () => {
      const c = charge({ amount: 40 });
      const id = rid();
      expect(await store.reserve([c], id, lease, 1_000)).toEqual({ ok: true });
      expect(await store.usage([c.key], 1_000)).toEqual({ [c.key]: { used: 0, reserved: 40 } });
      expect(await store.settle(id, { [c.key]: 25 }, 2_000)).toBe(true);
      expect(await store.usage([c.key], 2_000)).toEqual({ [c.key]: { used: 25, reserved: 0 } });
    });

    it('settles a reservation exactly once', async () => {
      const c = charge();
      const id = rid();
      await store.reserve([c], id, lease, 0);
      expect(await store.settle(id, { [c.key]: 7 }, 1)).toBe(true);
      expect(await store.settle(id, { [c.key]: 7 }, 2)).toBe(false);
      expect(await store.release(id, 3)).toBe(false);
      expect(await store.settle('req_unknown', { [c.key]: 7 }, 4)).toBe(false);
      expect((await store.usage([c.key], 5))[c.key]).toEqual({ used: 7, reserved: 0 });
    });

    it('settles exactly once when many replicas settle the same reservation at once', async () => {
      const c = charge();
      const id = rid();
      await store.reserve([c], id, lease, 0);
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.settle(id, { [c.key]: 3 }, 1)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.usage([c.key], 2))[c.key]).toEqual({ used: 3, reserved: 0 });
    });

    it('releases a reservation without charging it', async () => {
      const c = charge({ limit: 10, amount: 10 });
      const id = rid();
      await store.reserve([c], id, lease, 0);
      expect(await store.reserve([c], rid(), lease, 0)).toMatchObject({ ok: false });
      expect(await store.release(id, 1)).toBe(true);
      expect(await store.release(id, 1)).toBe(false);
      expect((await store.usage([c.key], 1))[c.key]).toEqual({ used: 0, reserved: 0 });
      expect(await store.reserve([c], rid(), lease, 2)).toEqual({ ok: true });
    });

    it('reserves every charge or none, and names the first that would pass its limit', async () => {
      const roomy = charge({ limit: 1_000, amount: 50 });
      const full = charge({ limit: 100, amount: 60 });
      const alsoFull = charge({ limit: 10, amount: 60 });
      await store.reserve([full], rid(), lease, 0);
      const refused = await store.reserve([roomy, full, alsoFull], rid(), lease, 0);
      expect(refused).toEqual({ ok: false, charge: full, used: 0, reserved: 60 });
      expect(await store.usage([roomy.key, alsoFull.key], 0)).toEqual({});
    });

    it('lets exactly the limit through when 200 reserve at once', async () => {
      const c = charge({ unit: 'requests', limit: 50, amount: 1 });
      const results = await Promise.all(
        Array.from({ length: 200 }, () => store.reserve([c], rid(), lease, 0)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(50);
      expect((await store.usage([c.key], 0))[c.key]).toEqual({ used: 0, reserved: 50 });
    });

    it('never lets concurrent multi-charge reservations pass any limit', async () => {
      const perKey = charge({ limit: 500, amount: 10 });
      const perTenant = charge({ limit: 300, amount: 10 });
      const results = await Promise.all(
        Array.from({ length: 80 }, () => store.reserve([perKey, perTenant], rid(), lease, 0)),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(30);
      const usage = await store.usage([perKey.key, perTenant.key], 0);
      expect(usage[perKey.key]?.reserved).toBe(300);
      expect(usage[perTenant.key]?.reserved).toBe(300);
    });

    it('stops counting a reservation when its lease expires, so a crashed gateway frees its budget', async () => {
      const c = charge({ limit: 30, amount: 30 });
      await store.reserve([c], rid(), 1_000, 5_000);
      expect((await store.usage([c.key], 5_999))[c.key]?.reserved).toBe(30);
      expect(await store.reserve([c], rid(), 1_000, 5_999)).toMatchObject({ ok: false });
      expect((await store.usage([c.key], 6_000))[c.key]?.reserved).toBe(0);
      expect(await store.reserve([c], rid(), 1_000, 6_000)).toEqual({ ok: true });
    });

    it('reclaims an expired lease when reserving, without anyone reading usage first', async () => {
      const c = charge({ limit: 30, amount: 20 });
      await store.reserve([c], rid(), 1_000, 0);
      expect(await store.reserve([c], rid(), 1_000, 1_000)).toEqual({ ok: true });
      expect((await store.usage([c.key], 1_000))[c.key]).toEqual({ used: 0, reserved: 20 });
    });

    it('records a settle that arrives after the lease expired, and gives back only its own reservation', async () => {
      const c = charge({ limit: 100, amount: 40 });
      const late = rid();
      await store.reserve([c], late, 1_000, 0);
      await store.reserve([c], rid(), 60_000, 500);
      expect((await store.usage([c.key], 2_000))[c.key]).toEqual({ used: 0, reserved: 40 });
      expect(await store.settle(late, { [c.key]: 35 }, 2_000)).toBe(true);
      expect((await store.usage([c.key], 2_000))[c.key]).toEqual({ used: 35, reserved: 40 });
    });

    it('charges the reserved amount for a charge the settle does not mention, and ignores unknown keys', async () => {
      const a = charge({ amount: 12 });
      const b = charge({ unit: 'requests', amount: 1 });
      const id = rid();
      await store.reserve([a, b], id, lease, 0);
      expect(await store.settle(id, { [a.key]: 5, 'q|t|other|t|0': 99 }, 1)).toBe(true);
      expect(await store.usage([a.key, b.key, 'q|t|other|t|0'], 1)).toEqual({
        [a.key]: { used: 5, reserved: 0 },
        [b.key]: { used: 1, reserved: 0 },
      });
    });

    it('records actual usage above the reserved bound, which may pass the limit and refuses what follows', async () => {
      const c = charge({ limit: 100, amount: 60 });
      const id = rid();
      await store.reserve([c], id, lease, 0);
      await store.settle(id, { [c.key]: 130 }, 1);
      expect((await store.usage([c.key], 1))[c.key]).toEqual({ used: 130, reserved: 0 });
      expect(await store.reserve([charge({ ...c, amount: 1 })], rid(), lease, 2)).toEqual({
        ok: false,
        charge: { ...c, amount: 1 },
        used: 130,
        reserved: 0,
      });
    });

    it('lets USD fractions reach the limit exactly despite floating-point sums', async () => {
      const c = charge({ unit: 'usd', limit: 1, amount: 0.1 });
      const results = [];
      for (let i = 0; i < 11; i++) results.push(await store.reserve([c], rid(), lease, 0));
      expect(results.map((r) => r.ok)).toEqual([...Array(10).fill(true), false]);
    });

    it('keeps USD amounts at full precision', async () => {
      const c = charge({ unit: 'usd', limit: 50, amount: 0.123456789012345 });
      const id = rid();
      await store.reserve([c], id, lease, 0);
      expect((await store.usage([c.key], 0))[c.key]?.reserved).toBe(0.123456789012345);
      await store.settle(id, { [c.key]: 0.000123456789 }, 0);
      expect((await store.usage([c.key], 0))[c.key]).toEqual({ used: 0.000123456789, reserved: 0 });
    });

    it('refuses a reservation id already reserved and two charges on one counter', async () => {
      const c = charge();
      const id = rid();
      await store.reserve([c], id, lease, 0);
      await expect(store.reserve([charge()], id, lease, 0)).rejects.toThrow(/already exists/);
      await expect(store.reserve([c, c], rid(), lease, 0)).rejects.toThrow(/appears twice/);
    });

    it('accepts a reservation with no charges and settles it once', async () => {
      const id = rid();
      expect(await store.reserve([], id, lease, 0)).toEqual({ ok: true });
      expect(await store.settle(id, {}, 1)).toBe(true);
      expect(await store.settle(id, {}, 1)).toBe(false);
    });

    it('keeps windows apart: a new window starts from zero', async () => {
      const base = charge({ limit: 10, amount: 10 });
      const id = rid();
      await store.reserve([base], id, lease, 0);
      await store.settle(id, { [base.key]: 10 }, 1);
      const next = {
        ...base,
        key: base.key.replace(/\|0$/, `|${hour}`),
        windowStartMs: hour,
        windowEndMs: 2 * hour,
      };
      expect(await store.reserve([next], rid(), lease, hour)).toEqual({ ok: true });
    });

    it('builds the engine snapshot from used plus reserved', async () => {
      const c = charge({ amount: 30 });
      const id = rid();
      await store.reserve([c], id, lease, 0);
      await store.settle(id, { [c.key]: 20 }, 1);
      await store.reserve([c], rid(), lease, 2);
      expect(quotaUsedSnapshot(await store.usage([c.key, 'q|t|never|t|0'], 3))).toEqual({ [c.key]: 50 });
    });
  });
}
