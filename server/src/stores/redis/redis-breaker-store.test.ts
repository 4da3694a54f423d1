import { afterAll, describe, expect, it } from 'vitest';
import { runBreakerStoreContract } from '../breaker-store.contract.ts';
import type { BreakerSettings } from '../breaker-store.ts';
import { RedisBreakerStore } from './redis-breaker-store.ts';
import { cleanupRedisTestNamespace, redisTestNamespace } from './redis-test-namespace.ts';

afterAll(cleanupRedisTestNamespace);

runBreakerStoreContract('redis', async () => {
  const ns = await redisTestNamespace();
  return new RedisBreakerStore(ns.redis, { prefix: ns.prefix });
});

describe('redis breaker store across replicas', () => {
  const settings: BreakerSettings = { failureRatio: 0.5, minRequests: 20, windowMs: 30_000, openMs: 30_000 };

  it('opens for every replica on failures seen by several, and lets one probe through in all', async () => {
    const ns = await redisTestNamespace();
    const other = await ns.openClient();
    const replicas = [
      new RedisBreakerStore(ns.redis, { prefix: ns.prefix }),
      new RedisBreakerStore(other, { prefix: ns.prefix }),
    ];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        replicas[i % 2]!.record('fast/shared', i % 3 === 0 ? 'success' : 'failure', 1_000, settings),
      ),
    );
    expect(await replicas[0]!.state(['fast/shared'], 1_000)).toEqual({ 'fast/shared': 'open' });
    expect(await replicas[1]!.state(['fast/shared'], 31_000)).toEqual({ 'fast/shared': 'half_open' });
    const probes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => replicas[i % 2]!.tryProbe('fast/shared', 31_000)),
    );
    expect(probes.filter(Boolean)).toHaveLength(1);
  });
});
