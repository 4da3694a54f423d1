import { afterAll, describe, expect, it } from 'vitest';
import { cleanupRedisTestNamespace, redisTestNamespace } from '../../stores/redis/redis-test-namespace.ts';
import { runSemanticIndexContract } from '../semantic-index.contract.ts';
import { RedisSemanticIndex } from './redis-semantic-index.ts';

afterAll(cleanupRedisTestNamespace);

runSemanticIndexContract('redis', async (bounds) => {
  const ns = await redisTestNamespace();
  return new RedisSemanticIndex(ns.redis, { prefix: ns.prefix, ...bounds });
});

describe('redis semantic index', () => {
  it('is shared by replicas, and keeps a bucket alive as long as its longest-lived entry', async () => {
    const ns = await redisTestNamespace();
    const other = await ns.openClient();
    const one = new RedisSemanticIndex(ns.redis, { prefix: ns.prefix });
    await one.add('tenant:shared', 'p', [0.6, 0.8], 'long', 120_000, 0);
    await one.add('tenant:shared', 'p', [0.8, 0.6], 'short', 10_000, 0);
    const match = await new RedisSemanticIndex(other, { prefix: ns.prefix }).search(
      'tenant:shared',
      'p',
      [0.6, 0.8],
      0.99,
      0,
    );
    expect(match).toEqual({ key: 'long', similarity: expect.closeTo(1, 5) });
    for (const part of ['v', 'z']) {
      const pttl = await ns.redis.pttl(`${ns.prefix}si:tenant:shared|p|${part}`);
      expect(pttl).toBeGreaterThan(100_000);
    }
  });

  it('drops expired entries from the bucket when adding', async () => {
    const ns = await redisTestNamespace();
    const index = new RedisSemanticIndex(ns.redis, { prefix: ns.prefix });
    await index.add('tenant:sweep', 'p', [1, 0], 'old', 1_000, 0);
    await index.add('tenant:sweep', 'p', [0, 1], 'new', 60_000, 5_000);
    expect(await ns.redis.hkeys(`${ns.prefix}si:tenant:sweep|p|v`)).toEqual(['new']);
  });
});
