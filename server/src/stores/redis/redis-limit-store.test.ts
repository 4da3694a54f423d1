import type { LimitCheck } from '@switchyard/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { runLimitStoreContract } from '../limit-store.contract.ts';
import { RedisLimitStore } from './redis-limit-store.ts';
import { cleanupRedisTestNamespace, redisTestNamespace } from './redis-test-namespace.ts';

afterAll(cleanupRedisTestNamespace);

runLimitStoreContract('redis', async () => {
  const ns = await redisTestNamespace();
  return new RedisLimitStore(ns.redis, { prefix: ns.prefix });
});

describe('redis limit store across replicas', () => {
  it('holds a bucket’s capacity when two clients take from it at once', async () => {
    const ns = await redisTestNamespace();
    const other = await ns.openClient();
    const replicas = [
      new RedisLimitStore(ns.redis, { prefix: ns.prefix }),
      new RedisLimitStore(other, { prefix: ns.prefix }),
    ];
    const check: LimitCheck = {
      key: 'rl|t|rps|shared',
      limitId: 'rps',
      per: 'tenant',
      unit: 'requests',
      capacity: 40,
      refillPerSec: 0.001,
      cost: 1,
      headerLimit: 20,
    };
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => replicas[i % 2]!.take([check], 1_000)),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(40);
    expect((await replicas[1]!.peek([check.key]))[check.key]?.tokens).toBe(0);
  });

  it('lets a bucket expire once it would be full again, so idle keys cost nothing', async () => {
    const ns = await redisTestNamespace();
    const store = new RedisLimitStore(ns.redis, { prefix: ns.prefix, slackMs: 1_000 });
    const check: LimitCheck = {
      key: 'rl|t|rpm|ttl',
      limitId: 'rpm',
      per: 'key',
      unit: 'requests',
      capacity: 60,
      refillPerSec: 1,
      cost: 3,
      headerLimit: 60,
    };
    await store.take([check], 0);
    const ttl = await ns.redis.pttl(`${ns.prefix}${check.key}`);
    expect(ttl).toBeGreaterThan(3_000);
    expect(ttl).toBeLessThanOrEqual(4_000);
  });

  it('rejects, instead of waiting, when Redis cannot be reached', async () => {
    const ns = await redisTestNamespace();
    const down = await ns.openClient();
    const store = new RedisLimitStore(down, { prefix: ns.prefix });
    down.disconnect();
    const check: LimitCheck = {
      key: 'rl|t|rpm|down',
      limitId: 'rpm',
      per: 'key',
      unit: 'requests',
      capacity: 1,
      refillPerSec: 1,
      cost: 1,
      headerLimit: 60,
    };
    await expect(store.take([check], 0)).rejects.toThrow();
  });
});
