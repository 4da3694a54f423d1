import type { Charge } from '@switchyard/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { runQuotaStoreContract } from '../quota-store.contract.ts';
import { RedisQuotaStore } from './redis-quota-store.ts';
import { cleanupRedisTestNamespace, redisTestNamespace } from './redis-test-namespace.ts';

afterAll(cleanupRedisTestNamespace);

runQuotaStoreContract('redis', async () => {
  const ns = await redisTestNamespace();
  return new RedisQuotaStore(ns.redis, { prefix: ns.prefix });
});

const hour = 3_600_000;

function sharedCharge(key: string, limit: number, amount: number): Charge {
  return {
    key,
    quotaId: 'day',
    per: 'tenant',
    unit: 'requests',
    window: 'day',
    windowStartMs: 0,
    windowEndMs: 24 * hour,
    limit,
    amount,
  };
}

describe('redis quota store across replicas', () => {
  it('holds a cap globally when two clients reserve, settle and release at once', async () => {
    const ns = await redisTestNamespace();
    const other = await ns.openClient();
    const replicas = [
      new RedisQuotaStore(ns.redis, { prefix: ns.prefix }),
      new RedisQuotaStore(other, { prefix: ns.prefix }),
    ];
    const tenant = sharedCharge('q|t|day|t|0', 50, 1);
    const key = sharedCharge('q|t|day|k|0', 1_000, 1);
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const store = replicas[i % 2]!;
        const reserved = await store.reserve([key, tenant], `req_${i}`, 60_000, 1_000);
        if (!reserved.ok) return false;
        // Settle on the other replica, as a retried request could.
        return replicas[(i + 1) % 2]!.settle(`req_${i}`, { [tenant.key]: 1, [key.key]: 1 }, 2_000);
      }),
    );
    expect(results.filter(Boolean)).toHaveLength(50);
    expect(await replicas[0]!.usage([tenant.key, key.key], 3_000)).toEqual({
      [tenant.key]: { used: 50, reserved: 0 },
      [key.key]: { used: 50, reserved: 0 },
    });
  });

  it('keeps a counter until its window ends plus the slack, a reservation for its lease plus the grace, and forgets settled ones', async () => {
    const ns = await redisTestNamespace();
    const store = new RedisQuotaStore(ns.redis, { prefix: ns.prefix, windowSlackMs: 60_000 });
    const c = sharedCharge('q|t|day|ttl|0', 10, 1);
    await store.reserve([c], 'req_ttl', 60_000, 23 * hour);
    const ttl = await ns.redis.pttl(`${ns.prefix}${c.key}`);
    expect(ttl).toBeGreaterThan(hour);
    expect(ttl).toBeLessThanOrEqual(hour + 60_000);
    const recordTtl = await ns.redis.pttl(`${ns.prefix}res|req_ttl`);
    expect(recordTtl).toBeGreaterThan(24 * hour);
    expect(recordTtl).toBeLessThanOrEqual(24 * hour + 60_000);
    await store.settle('req_ttl', {}, 23 * hour);
    expect(await ns.redis.exists(`${ns.prefix}res|req_ttl`)).toBe(0);
  });
});
