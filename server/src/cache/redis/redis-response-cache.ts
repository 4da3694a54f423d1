import type { Redis } from 'ioredis';
import type { CachedResponse, ResponseCache, StoredCacheEntry } from '../response-cache.ts';

/** Options of `RedisResponseCache`. */
export interface RedisResponseCacheOptions {
  /** Prefix of every key (default `sy:`); entries live under `<prefix>rc:<key>`. */
  prefix?: string | undefined;
  /** Largest serialized entry stored; larger ones are not cached (default 1 MiB), to keep Redis replies small. */
  maxEntryBytes?: number | undefined;
}

/**
 * A response cache in Redis, shared by every replica using the same Redis and prefix. An entry is
 * one string key set with `PX ttl`, so Redis frees it on time; the entry also carries its
 * `expiresAt`, checked against the caller's `nowMs`, so expiry follows the gateway's clock like every
 * other store. Memory is bounded by Redis' own `maxmemory` policy (use `allkeys-lru` or
 * `volatile-lru` on a Redis dedicated to caching). Errors reject; the caller treats them as a miss.
 */
export class RedisResponseCache implements ResponseCache {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxEntryBytes: number;

  /** Uses `redis` (see `openRedisConnection`), which stays the caller's to close. */
  constructor(redis: Redis, options: RedisResponseCacheOptions = {}) {
    this.#redis = redis;
    this.#prefix = `${options.prefix ?? 'sy:'}rc:`;
    this.#maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  }

  /** The entry, unless absent or expired at `nowMs`. */
  async get(key: string, nowMs: number): Promise<CachedResponse | undefined> {
    const json = await this.#redis.get(this.#prefix + key);
    if (json === null) return undefined;
    const entry = JSON.parse(json) as StoredCacheEntry;
    return nowMs < entry.expiresAt ? entry.value : undefined;
  }

  /** `SET … PX ttl`; declines an entry over `maxEntryBytes` (and removes the one it would replace). */
  async set(key: string, value: CachedResponse, ttlMs: number, nowMs: number): Promise<void> {
    const json = JSON.stringify({ value, expiresAt: nowMs + ttlMs } satisfies StoredCacheEntry);
    if (Buffer.byteLength(json) > this.#maxEntryBytes || ttlMs <= 0) {
      await this.#redis.unlink(this.#prefix + key);
      return;
    }
    await this.#redis.set(this.#prefix + key, json, 'PX', Math.ceil(ttlMs));
  }

  /** Removes the entry. */
  async delete(key: string): Promise<boolean> {
    return (await this.#redis.unlink(this.#prefix + key)) > 0;
  }

  /** The connection is the caller's; nothing else to release. */
  async close(): Promise<void> {}
}
