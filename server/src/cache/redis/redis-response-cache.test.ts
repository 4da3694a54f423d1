import { afterAll, describe, expect, it } from 'vitest';
import { cleanupRedisTestNamespace, redisTestNamespace } from '../../stores/redis/redis-test-namespace.ts';
import { cachedChat, runResponseCacheContract } from '../response-cache.contract.ts';
import { RedisResponseCache } from './redis-response-cache.ts';

afterAll(cleanupRedisTestNamespace);

runResponseCacheContract('redis', async () => {
  const ns = await redisTestNamespace();
  return new RedisResponseCache(ns.redis, { prefix: ns.prefix });
});

describe('redis response cache', () => {
  it('lets Redis free an entry when its ttl ends', async () => {
    const ns = await redisTestNamespace();
    const cache = new RedisResponseCache(ns.redis, { prefix: ns.prefix });
    await cache.set('ttl', cachedChat('Paris.'), 30_000, 0);
    const pttl = await ns.redis.pttl(`${ns.prefix}rc:ttl`);
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
  });

  it('is shared by replicas using the same prefix, and invisible under another', async () => {
    const ns = await redisTestNamespace();
    const other = await ns.openClient();
    await new RedisResponseCache(ns.redis, { prefix: ns.prefix }).set(
      'shared',
      cachedChat('Paris.'),
      60_000,
      0,
    );
    expect(await new RedisResponseCache(other, { prefix: ns.prefix }).get('shared', 0)).toEqual(
      cachedChat('Paris.'),
    );
    expect(
      await new RedisResponseCache(other, { prefix: `${ns.prefix}x:` }).get('shared', 0),
    ).toBeUndefined();
  });

  it('declines an entry larger than maxEntryBytes', async () => {
    const ns = await redisTestNamespace();
    const cache = new RedisResponseCache(ns.redis, { prefix: ns.prefix, maxEntryBytes: 300 });
    await cache.set('big', cachedChat('x'.repeat(400)), 60_000, 0);
    expect(await cache.get('big', 0)).toBeUndefined();
    expect(await ns.redis.exists(`${ns.prefix}rc:big`)).toBe(0);
  });
});
