import type { Redis } from 'ioredis';
import { dotProduct, type SemanticIndex, type SemanticMatch, unitVector } from '../semantic-index.ts';

/** Options of `RedisSemanticIndex`. */
export interface RedisSemanticIndexOptions {
  /** Prefix of every key (default `sy:`); a bucket is `<prefix>si:<scope>|<params hash>|v` and `…|z`. */
  prefix?: string | undefined;
  /**
   * Most entries of one bucket (default 1000); beyond it the entries closest to expiry go first
   * (the oldest, for one ttl). Every search downloads its whole bucket: 1000 entries of 1536
   * dimensions are about 6 MB per lookup, so keep this small for large embeddings.
   */
  maxEntriesPerBucket?: number | undefined;
}

/** Bytes before the vector: the entry's expiry (float64, little-endian epoch ms). */
const headerBytes = 8;

/**
 * KEYS: vectors hash, expiry sorted set. ARGV: entry key, packed entry, expiresAt, now, max entries,
 * ttl. Adds the entry, drops expired ones, then the closest to expiry beyond the bound, and keeps
 * both keys alive as long as their longest-lived entry.
 */
const addLua = `
local vectors, expiries = KEYS[1], KEYS[2]
redis.call('HSET', vectors, ARGV[1], ARGV[2])
redis.call('ZADD', expiries, ARGV[3], ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', ARGV[4])
for _, k in ipairs(expired) do
  redis.call('HDEL', vectors, k)
  redis.call('ZREM', expiries, k)
end
local over = redis.call('ZCARD', expiries) - tonumber(ARGV[5])
if over > 0 then
  for _, k in ipairs(redis.call('ZRANGE', expiries, 0, over - 1)) do
    redis.call('HDEL', vectors, k)
    redis.call('ZREM', expiries, k)
  end
end
local ttl = tonumber(ARGV[6])
for _, k in ipairs(KEYS) do
  if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
end
return 1
`;

interface SemanticIndexScripts {
  switchyardSemanticAdd(
    vectors: string,
    expiries: string,
    key: string,
    packed: Buffer,
    expiresAt: number,
    nowMs: number,
    maxEntries: number,
    ttlMs: number,
  ): Promise<number>;
}

/**
 * A semantic index in Redis, shared by every replica using the same Redis and prefix. A bucket (one
 * scope and parameters hash) is a hash of entry key → packed entry (expiry, then the unit vector as
 * little-endian float32s) plus a sorted set of expiries that bounds it; adding is one Lua script.
 * Search downloads the bucket and compares client-side by brute force: simple, exact, and fine for a
 * single-node-sized cache of up to about a thousand entries per bucket. Beyond that, use a vector
 * search engine (RediSearch, pgvector) behind this same interface. Scripts touch two keys: use a
 * single Redis (or Sentinel), not Redis Cluster. Errors reject; the caller treats them as a miss.
 */
export class RedisSemanticIndex implements SemanticIndex {
  readonly #redis: Redis;
  readonly #scripts: SemanticIndexScripts;
  readonly #prefix: string;
  readonly #maxPerBucket: number;

  /** Uses `redis` (see `openRedisConnection`), which stays the caller's to close. */
  constructor(redis: Redis, options: RedisSemanticIndexOptions = {}) {
    this.#redis = redis;
    this.#prefix = `${options.prefix ?? 'sy:'}si:`;
    this.#maxPerBucket = options.maxEntriesPerBucket ?? 1_000;
    redis.defineCommand('switchyardSemanticAdd', { numberOfKeys: 2, lua: addLua });
    this.#scripts = redis as unknown as SemanticIndexScripts;
  }

  /** Downloads the bucket and returns its best live match at or above `threshold`. */
  async search(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    threshold: number,
    nowMs: number,
  ): Promise<SemanticMatch | undefined> {
    const probe = unitVector(vector);
    if (!probe) return undefined;
    const entries = await this.#redis.hgetallBuffer(this.#bucketKey(scopeKey, paramsHash, 'v'));
    let best: SemanticMatch | undefined;
    for (const [key, packed] of Object.entries(entries)) {
      if (packed.length !== headerBytes + probe.length * 4 || packed.readDoubleLE(0) <= nowMs) continue;
      const similarity = dotProduct(probe, unpackVector(packed));
      if (similarity >= threshold && (!best || similarity > best.similarity)) best = { key, similarity };
    }
    return best;
  }

  /** Adds or replaces the entry in one script, which also enforces expiry and the bucket bound. */
  async add(
    scopeKey: string,
    paramsHash: string,
    vector: ArrayLike<number>,
    key: string,
    ttlMs: number,
    nowMs: number,
  ): Promise<void> {
    const unit = unitVector(vector);
    if (!unit || ttlMs <= 0) return this.remove(scopeKey, paramsHash, key);
    const expiresAt = nowMs + ttlMs;
    const packed = Buffer.alloc(headerBytes + unit.length * 4);
    packed.writeDoubleLE(expiresAt, 0);
    for (let i = 0; i < unit.length; i++) packed.writeFloatLE(unit[i]!, headerBytes + i * 4);
    await this.#scripts.switchyardSemanticAdd(
      this.#bucketKey(scopeKey, paramsHash, 'v'),
      this.#bucketKey(scopeKey, paramsHash, 'z'),
      key,
      packed,
      expiresAt,
      nowMs,
      this.#maxPerBucket,
      Math.ceil(ttlMs),
    );
  }

  /** Drops the entry. */
  async remove(scopeKey: string, paramsHash: string, key: string): Promise<void> {
    await this.#redis
      .multi()
      .hdel(this.#bucketKey(scopeKey, paramsHash, 'v'), key)
      .zrem(this.#bucketKey(scopeKey, paramsHash, 'z'), key)
      .exec();
  }

  /** The connection is the caller's; nothing else to release. */
  async close(): Promise<void> {}

  #bucketKey(scopeKey: string, paramsHash: string, part: 'v' | 'z'): string {
    return `${this.#prefix}${scopeKey}|${paramsHash}|${part}`;
  }
}

function unpackVector(packed: Buffer): Float32Array {
  const vector = new Float32Array((packed.length - headerBytes) / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = packed.readFloatLE(headerBytes + i * 4);
  return vector;
}
