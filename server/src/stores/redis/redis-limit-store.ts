import type { BucketLevel, LimitCheck } from '@switchyard/engine';
import type { Redis } from 'ioredis';
import { type LimitStore, resetAfterMs, retryAfterMs, type TakeResult } from '../limit-store.ts';

/**
 * Lua shared by the scripts: a bucket's level refilled to `now` (the engine's math, operation for
 * operation, so results match the memory store to the last bit), and writing a level with a TTL that
 * ends once the bucket would be full again (a forgotten bucket is a full one). Numbers travel as
 * `%.17g` strings: Redis would truncate a Lua number reply to an integer.
 */
const bucketLua = `
local function fmt(x) return string.format('%.17g', x) end
local function level(key, now, cap, rate)
  local b = redis.call('HMGET', key, 't', 'at')
  if not b[1] then return cap, now end
  local at = tonumber(b[2])
  return math.min(cap, tonumber(b[1]) + (math.max(0, now - at) / 1000) * rate), math.max(now, at)
end
local function write(key, tokens, at, cap, rate, slack)
  redis.call('HSET', key, 't', fmt(tokens), 'at', fmt(at))
  local full = 0
  if tokens < cap then
    if rate > 0 then full = math.ceil((cap - tokens) / rate * 1000) else full = 60000 end
  end
  redis.call('PEXPIRE', key, full + slack)
end
`;

/** KEYS: buckets. ARGV: now, slack, then capacity, refill per second and cost of each bucket. */
const takeLua = `${bucketLua}
local now = tonumber(ARGV[1])
local slack = tonumber(ARGV[2])
local levels = {}
for i = 1, #KEYS do
  local cap, rate, cost = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  local tokens, at = level(KEYS[i], now, cap, rate)
  if tokens < cost then return {tostring(i), fmt(tokens)} end
  levels[i] = {tokens - cost, at, cap, rate}
end
local out = {'0'}
for i = 1, #KEYS do
  local n = levels[i]
  write(KEYS[i], n[1], n[2], n[3], n[4], slack)
  out[i + 1] = fmt(n[1])
end
return out
`;

/** KEYS: one bucket. ARGV: now, slack, capacity, refill per second, signed change. */
const adjustLua = `${bucketLua}
local now, slack = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, rate, delta = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local tokens, at = level(KEYS[1], now, cap, rate)
tokens = math.max(0, math.min(cap, tokens + delta))
write(KEYS[1], tokens, at, cap, rate, slack)
return fmt(tokens)
`;

interface LimitScripts {
  switchyardLimitTake(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<string[]>;
  switchyardLimitAdjust(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<string>;
}

/** Options of `RedisLimitStore`. */
export interface RedisLimitStoreOptions {
  /** Prepended to every key (default `sy:`); one prefix per gateway fleet sharing the Redis. */
  prefix?: string | undefined;
  /** Extra time a bucket is kept after it would be full again, in ms, for clock skew (default 5000). */
  slackMs?: number | undefined;
}

/**
 * Token buckets in Redis, shared by every replica using the same Redis and prefix. Each take is one
 * Lua script over all the request's buckets, so it is atomic across replicas. A bucket is a hash
 * (`t` tokens, `at` ms) under `<prefix><LimitCheck.key>` that expires once it would be full again.
 * Scripts touch several keys: use a single Redis (or Sentinel), not Redis Cluster. Errors (Redis
 * down, timeouts) reject; the caller decides between fail-open and fail-closed.
 */
export class RedisLimitStore implements LimitStore {
  readonly #redis: Redis;
  readonly #scripts: LimitScripts;
  readonly #prefix: string;
  readonly #slackMs: number;

  /** Uses `redis` (see `openRedisConnection`), which stays the caller's to close. */
  constructor(redis: Redis, options: RedisLimitStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'sy:';
    this.#slackMs = options.slackMs ?? 5_000;
    redis.defineCommand('switchyardLimitTake', { lua: takeLua });
    redis.defineCommand('switchyardLimitAdjust', { lua: adjustLua });
    this.#scripts = redis as unknown as LimitScripts;
  }

  /** Takes from every bucket or none, in one script. */
  async take(checks: readonly LimitCheck[], nowMs: number): Promise<TakeResult> {
    if (checks.length === 0) return { ok: true, buckets: [] };
    const args: (string | number)[] = [nowMs, this.#slackMs];
    for (const c of checks) args.push(c.capacity, c.refillPerSec, c.cost);
    const reply = await this.#scripts.switchyardLimitTake(
      checks.length,
      ...checks.map((c) => this.#prefix + c.key),
      ...args,
    );
    const short = Number(reply[0]);
    if (short > 0) {
      const limit = checks[short - 1]!;
      const remaining = Number(reply[1]);
      return {
        ok: false,
        limit,
        remaining,
        retryAfterMs: retryAfterMs(remaining, limit.cost, limit.capacity, limit.refillPerSec),
      };
    }
    return {
      ok: true,
      buckets: checks.map((c, i) => {
        const remaining = Number(reply[i + 1]);
        return { key: c.key, remaining, resetAfterMs: resetAfterMs(remaining, c.capacity, c.refillPerSec) };
      }),
    };
  }

  /** Gives tokens back, up to the capacity. */
  async refund(check: LimitCheck, amount: number, nowMs: number): Promise<number> {
    return this.#adjust(check, Math.abs(amount), nowMs);
  }

  /** Takes more tokens, down to zero. */
  async charge(check: LimitCheck, amount: number, nowMs: number): Promise<number> {
    return this.#adjust(check, -Math.abs(amount), nowMs);
  }

  /** Stored levels, read in one pipeline. */
  async peek(keys: readonly string[]): Promise<Record<string, BucketLevel>> {
    if (keys.length === 0) return {};
    const pipeline = this.#redis.pipeline();
    for (const key of keys) pipeline.hmget(this.#prefix + key, 't', 'at');
    const replies = (await pipeline.exec()) ?? [];
    const out: Record<string, BucketLevel> = {};
    replies.forEach(([error, value], i) => {
      if (error) throw error;
      const [tokens, atMs] = value as (string | null)[];
      if (tokens != null && atMs != null) out[keys[i]!] = { tokens: Number(tokens), atMs: Number(atMs) };
    });
    return out;
  }

  /** The connection is the caller's; nothing else to release. */
  async close(): Promise<void> {}

  async #adjust(check: LimitCheck, delta: number, nowMs: number): Promise<number> {
    const reply = await this.#scripts.switchyardLimitAdjust(
      1,
      this.#prefix + check.key,
      nowMs,
      this.#slackMs,
      check.capacity,
      check.refillPerSec,
      delta,
    );
    return Number(reply);
  }
}
