import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { openRedisConnection } from './redis-connection.ts';

/** The Redis the tests use: `SWITCHYARD_TEST_REDIS_URL`, else the local default. */
export const testRedisUrl = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix of one test run on the real Redis, and the clients opened for it. */
export interface RedisTestNamespace {
  /** `sytest:<random>:`: every key a test writes starts with it. */
  prefix: string;
  /** The first client. */
  redis: Redis;
  /** Opens another client, as another gateway replica would have; closed by `cleanup`. */
  openClient(): Promise<Redis>;
  /** Deletes every key under the prefix and closes the clients. */
  cleanup(): Promise<void>;
}

/**
 * Connects to the test Redis under a fresh key prefix. Rejects when Redis is not reachable, so the
 * tests that need it fail instead of skipping.
 */
export async function openRedisTestNamespace(): Promise<RedisTestNamespace> {
  const prefix = `sytest:${randomBytes(6).toString('hex')}:`;
  const clients: Redis[] = [];
  const openClient = async () => {
    const client = await openRedisConnection(testRedisUrl, {
      connectionName: 'switchyard-test',
      commandTimeoutMs: 5_000,
    });
    clients.push(client);
    return client;
  };
  const redis = await openClient();
  return {
    prefix,
    redis,
    openClient,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
      await Promise.all(clients.map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    },
  };
}

let shared: Promise<RedisTestNamespace> | undefined;

/**
 * The namespace of the current test file, opened on first use. Await it inside each test (or store
 * factory) so that every test fails, rather than being skipped, while Redis is down.
 */
export function redisTestNamespace(): Promise<RedisTestNamespace> {
  shared ??= openRedisTestNamespace();
  return shared;
}

/** Cleans up the current test file's namespace, if one was opened; call it from `afterAll`. */
export async function cleanupRedisTestNamespace(): Promise<void> {
  const ns = await shared?.catch(() => undefined);
  shared = undefined;
  await ns?.cleanup();
}
