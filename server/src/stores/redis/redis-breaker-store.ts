import type { BreakerState } from '@switchyard/engine';
import type { Redis } from 'ioredis';
import {
  type BreakerOutcome,
  type BreakerSettings,
  type BreakerStore,
  breakerWindowSlices,
} from '../breaker-store.ts';

/**
 * A breaker is a hash: `openedAt` and `openMs` while open or half-open, `probe` (when the half-open
 * probe went out), `w` (the window the slices count), and `s:<slice>` / `f:<slice>` counts of
 * successes and failures per slice of the window.
 */
const breakerLua = `
local function clearSlices(key)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local kind = string.sub(field, 1, 2)
    if kind == 's:' or kind == 'f:' then redis.call('HDEL', key, field) end
  end
end
`;

/**
 * KEYS: the breaker. ARGV: now, outcome, failureRatio, minRequests, windowMs, openMs, slices, TTL.
 * Replies the state after the outcome.
 */
const recordLua = `${breakerLua}
local key = KEYS[1]
local now, success = tonumber(ARGV[1]), ARGV[2] == 'success'
local ratio, minRequests, windowMs = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local openMs, slices = tonumber(ARGV[6]), tonumber(ARGV[7])
local b = redis.call('HMGET', key, 'openedAt', 'openMs', 'w')
if b[3] and tonumber(b[3]) ~= windowMs then clearSlices(key) end
redis.call('HSET', key, 'w', ARGV[5])
redis.call('PEXPIRE', key, ARGV[8])
local openedAt = tonumber(b[1])
if openedAt then
  if now < openedAt + tonumber(b[2]) then return 'open' end
  redis.call('HDEL', key, 'probe')
  if success then
    redis.call('HDEL', key, 'openedAt', 'openMs')
    clearSlices(key)
    return 'closed'
  end
  redis.call('HSET', key, 'openedAt', ARGV[1], 'openMs', ARGV[6])
  return 'open'
end
local current = math.floor(now / math.max(1, math.ceil(windowMs / slices)))
redis.call('HINCRBY', key, (success and 's:' or 'f:') .. current, 1)
local successes, failures = 0, 0
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  local kind, index = string.sub(all[i], 1, 2), tonumber(string.sub(all[i], 3))
  if kind == 's:' or kind == 'f:' then
    if index <= current - slices then
      redis.call('HDEL', key, all[i])
    elseif kind == 's:' then
      successes = successes + tonumber(all[i + 1])
    else
      failures = failures + tonumber(all[i + 1])
    end
  end
end
local total = successes + failures
if total >= minRequests and failures > 0 and failures / total >= ratio then
  redis.call('HSET', key, 'openedAt', ARGV[1], 'openMs', ARGV[6])
  clearSlices(key)
  return 'open'
end
return 'closed'
`;

/** KEYS: the breaker. ARGV: now. Replies 1 when the caller may call the deployment. */
const probeLua = `
local b = redis.call('HMGET', KEYS[1], 'openedAt', 'openMs', 'probe')
local openedAt = tonumber(b[1])
if not openedAt then return 1 end
local now, openMs = tonumber(ARGV[1]), tonumber(b[2])
if now < openedAt + openMs then return 0 end
local probe = tonumber(b[3])
if probe and now < probe + openMs then return 0 end
redis.call('HSET', KEYS[1], 'probe', ARGV[1])
return 1
`;

interface BreakerScripts {
  switchyardBreakerRecord(key: string, ...args: (string | number)[]): Promise<BreakerState>;
  switchyardBreakerProbe(key: string, nowMs: number): Promise<number>;
}

/** Options of `RedisBreakerStore`. */
export interface RedisBreakerStoreOptions {
  /** Prepended to every key (default `sy:`); one prefix per gateway fleet sharing the Redis. */
  prefix?: string | undefined;
}

/**
 * Circuit breakers in Redis, shared by every replica using the same Redis and prefix: one replica's
 * failures open the breaker for all. Each record and probe is one Lua script on the deployment's
 * hash (`<prefix>brk|<Deployment.id>`), which expires after twice the window and open time of
 * quiet (a forgotten breaker is closed). Errors reject; the caller decides what a breaker it cannot
 * read means (usually: closed).
 */
export class RedisBreakerStore implements BreakerStore {
  readonly #redis: Redis;
  readonly #scripts: BreakerScripts;
  readonly #prefix: string;

  /** Uses `redis` (see `openRedisConnection`), which stays the caller's to close. */
  constructor(redis: Redis, options: RedisBreakerStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'sy:';
    redis.defineCommand('switchyardBreakerRecord', { lua: recordLua, numberOfKeys: 1 });
    redis.defineCommand('switchyardBreakerProbe', { lua: probeLua, numberOfKeys: 1 });
    this.#scripts = redis as unknown as BreakerScripts;
  }

  /** Records an outcome and moves the breaker, in one script. */
  async record(
    depId: string,
    outcome: BreakerOutcome,
    nowMs: number,
    settings: BreakerSettings,
  ): Promise<BreakerState> {
    const ttlMs = 2 * (settings.windowMs + settings.openMs) + 60_000;
    return this.#scripts.switchyardBreakerRecord(
      this.#key(depId),
      nowMs,
      outcome,
      settings.failureRatio,
      settings.minRequests,
      settings.windowMs,
      settings.openMs,
      breakerWindowSlices,
      ttlMs,
    );
  }

  /** States at `nowMs`, read in one pipeline. */
  async state(depIds: readonly string[], nowMs: number): Promise<Record<string, BreakerState>> {
    const out: Record<string, BreakerState> = {};
    if (depIds.length === 0) return out;
    const pipeline = this.#redis.pipeline();
    for (const id of depIds) pipeline.hmget(this.#key(id), 'openedAt', 'openMs');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, value], i) => {
      if (error) throw error;
      const [openedAt, openMs] = value as (string | null)[];
      out[depIds[i]!] =
        openedAt == null ? 'closed' : nowMs >= Number(openedAt) + Number(openMs) ? 'half_open' : 'open';
    });
    return out;
  }

  /** Lets one probe through per half-open period, in one script. */
  async tryProbe(depId: string, nowMs: number): Promise<boolean> {
    return (await this.#scripts.switchyardBreakerProbe(this.#key(depId), nowMs)) === 1;
  }

  /** The connection is the caller's; nothing else to release. */
  async close(): Promise<void> {}

  #key(depId: string): string {
    return `${this.#prefix}brk|${depId}`;
  }
}
