import type { Redis } from 'ioredis';
import { GatewayCache } from './gateway-cache.ts';
import { MemoryResponseCache } from './memory/memory-response-cache.ts';
import { MemorySemanticIndex } from './memory/memory-semantic-index.ts';
import { RedisResponseCache } from './redis/redis-response-cache.ts';
import { RedisSemanticIndex } from './redis/redis-semantic-index.ts';
import { SemanticCache } from './semantic-cache.ts';

/** What the gateway's caches are built from. */
export interface GatewayCacheSettings {
  /** The shared Redis (`SWITCHYARD_REDIS_URL`): answers and vectors then live there, for every replica. */
  redis?: Redis | undefined;
  /** Prefix of every Redis key (default `sy:`). */
  redisPrefix?: string | undefined;
  /** Without Redis: most bytes of answers held in memory (`SWITCHYARD_CACHE_MAX_BYTES`; 0 holds none). */
  maxBytes: number;
  /** Told about every failed lookup or store (the cache fails open). */
  onError: (error: unknown, operation: 'lookup' | 'store') => void;
}

/** The gateway's caches and what closing them takes (never the Redis connection: the state owns it). */
export interface OpenedGatewayCache {
  cache: GatewayCache;
  /** Where answers live: `redis` or `memory`. */
  kind: 'redis' | 'memory';
  close(): Promise<void>;
}

/**
 * Builds the response caches: in Redis when the gateway shares one (answers under
 * `<prefix>rc:`, semantic vectors under `<prefix>si:`), else in process memory (answers bounded by
 * `maxBytes`, least recently used first; vectors bounded by count).
 */
export function openGatewayCache(settings: GatewayCacheSettings): OpenedGatewayCache {
  const { redis } = settings;
  const prefix = settings.redisPrefix;
  const responses = redis
    ? new RedisResponseCache(redis, { prefix })
    : new MemoryResponseCache({ maxBytes: settings.maxBytes });
  const index = redis ? new RedisSemanticIndex(redis, { prefix }) : new MemorySemanticIndex();
  const cache = new GatewayCache({
    responses,
    semantic: new SemanticCache(index, responses),
    onError: settings.onError,
  });
  return {
    cache,
    kind: redis ? 'redis' : 'memory',
    async close() {
      await Promise.all([responses.close(), index.close()]);
    },
  };
}
