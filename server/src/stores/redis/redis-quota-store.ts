import type { Charge } from '@switchyard/engine';
import type { Redis } from 'ioredis';
import {
  assertDistinctChargeKeys,
  type QuotaStore,
  type QuotaUsage,
  type ReserveResult,
  settledAmount,
} from '../quota-store.ts';

/**
 * Lua shared by the scripts. A counter is a hash: `used`, `reserved`, and `r:<reservation id>` →
 * amount for each live reservation; beside it a sorted set of those ids scored by lease expiry.
 * Numbers travel and are stored as `%.17g` strings, so sums are the same doubles the memory store
 * computes (Redis would truncate a Lua number reply, and HINCRBYFLOAT rounds differently).
 */
const counterLua = `
local function fmt(x) return string.format('%.17g', x) end
local function num(x) return tonumber(x or '0') end
local function setReserved(counter, leases, reserved)
  -- Float sums drift: with nothing reserved, reserved is exactly zero.
  if reserved < 0 or redis.call('ZCARD', leases) == 0 then reserved = 0 end
  redis.call('HSET', counter, 'reserved', fmt(reserved))
  return reserved
end
local function reclaim(counter, leases, now)
  local reserved = num(redis.call('HGET', counter, 'reserved'))
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  if #expired == 0 then return reserved end
  for _, id in ipairs(expired) do
    local held = redis.call('HGET', counter, 'r:' .. id)
    if held then
      reserved = reserved - tonumber(held)
      redis.call('HDEL', counter, 'r:' .. id)
    end
  end
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  return setReserved(counter, leases, reserved)
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, math.ceil(ttl)) end
end
`;

/**
 * KEYS: reservation record, then counter and lease set of each charge.
 * ARGV: id, now, lease, slack, record TTL, then limit, amount, window end, charge key, record value
 * of each charge. Replies {'0'}, {'-1'} (id taken) or {index, used, reserved} of the refusing charge.
 */
const reserveLua = `${counterLua}
if redis.call('EXISTS', KEYS[1]) == 1 then return {'-1'} end
local id, now, lease, slack = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = (#KEYS - 1) / 2
local before = {}
for i = 1, n do
  local counter, leases, at = KEYS[2 * i], KEYS[2 * i + 1], 5 + (i - 1) * 5
  local limit, amount = tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  local reserved = reclaim(counter, leases, ARGV[2])
  local used = num(redis.call('HGET', counter, 'used'))
  if used + reserved + amount > limit + math.max(1, math.abs(limit)) * 1e-9 then
    return {tostring(i), fmt(used), fmt(reserved)}
  end
  before[i] = reserved
end
redis.call('HSET', KEYS[1], 'at', ARGV[2])
for i = 1, n do
  local counter, leases, at = KEYS[2 * i], KEYS[2 * i + 1], 5 + (i - 1) * 5
  local amount, windowEnd = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
  redis.call('HSET', counter, 'reserved', fmt(before[i] + amount), 'r:' .. id, ARGV[at + 2])
  redis.call('ZADD', leases, fmt(now + lease), id)
  local ttl = math.max(windowEnd - now, lease) + slack
  extend(counter, ttl)
  extend(leases, ttl)
  redis.call('HSET', KEYS[1], 'c:' .. ARGV[at + 4], ARGV[at + 5])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {'0'}
`;

/**
 * KEYS: reservation record, then counter and lease set of each charge it holds.
 * ARGV: id, now, slack, 'settle' or 'release', then amount to charge and window end of each charge.
 * Replies 1, or 0 when the reservation is gone (settled, released or forgotten) by now.
 */
const finishLua = `${counterLua}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('DEL', KEYS[1])
local id, now, slack, settle = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == 'settle'
for i = 1, (#KEYS - 1) / 2 do
  local counter, leases, at = KEYS[2 * i], KEYS[2 * i + 1], 4 + (i - 1) * 2
  local held = redis.call('HGET', counter, 'r:' .. id)
  if held then
    redis.call('HDEL', counter, 'r:' .. id)
    redis.call('ZREM', leases, id)
    setReserved(counter, leases, num(redis.call('HGET', counter, 'reserved')) - tonumber(held))
  end
  if settle then
    -- A late settle may find the counter gone with its window: it comes back, usage is never dropped.
    redis.call('HSET', counter, 'used', fmt(num(redis.call('HGET', counter, 'used')) + tonumber(ARGV[at + 1])))
    local ttl = math.max(tonumber(ARGV[at + 2]) - now, 0) + slack
    extend(counter, ttl)
  end
end
return 1
`;

/** KEYS: counter and lease set of each key. ARGV: now. Replies used and reserved per key ('' if unknown). */
const usageLua = `${counterLua}
local out = {}
for i = 1, #KEYS / 2 do
  local counter, leases = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('EXISTS', counter) == 1 then
    local reserved = reclaim(counter, leases, ARGV[1])
    out[2 * i - 1] = fmt(num(redis.call('HGET', counter, 'used')))
    out[2 * i] = fmt(reserved)
  else
    out[2 * i - 1] = ''
    out[2 * i] = ''
  end
end
return out
`;

interface QuotaScripts {
  switchyardQuotaReserve(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<string[]>;
  switchyardQuotaFinish(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<number>;
  switchyardQuotaUsage(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<string[]>;
}

/** Options of `RedisQuotaStore`. */
export interface RedisQuotaStoreOptions {
  /** Prepended to every key (default `sy:`); one prefix per gateway fleet sharing the Redis. */
  prefix?: string | undefined;
  /** How long a counter is kept after its window ends, in ms (default 1 h). */
  windowSlackMs?: number | undefined;
  /** How long after its lease expired a reservation can still be settled, in ms (default 24 h). */
  lateSettleGraceMs?: number | undefined;
}

/**
 * Quota counters and reservations in Redis, shared by every replica using the same Redis and
 * prefix. Reserve is one Lua script over all the request's counters; settle and release read the
 * reservation, then run one script that deletes it and adjusts its counters, so exactly one of
 * several concurrent settles wins. Keys under the prefix: `<Charge.key>` (counter hash) and
 * `<Charge.key>|leases` (sorted set), both expiring `windowSlackMs` after the window ends, and
 * `res|<reservation id>` (hash), expiring `lateSettleGraceMs` after its lease. Scripts touch
 * several keys: use a single Redis (or Sentinel), not Redis Cluster. Errors reject; the caller
 * decides between fail-open and fail-closed.
 */
export class RedisQuotaStore implements QuotaStore {
  readonly #redis: Redis;
  readonly #scripts: QuotaScripts;
  readonly #prefix: string;
  readonly #slackMs: number;
  readonly #graceMs: number;

  /** Uses `redis` (see `openRedisConnection`), which stays the caller's to close. */
  constructor(redis: Redis, options: RedisQuotaStoreOptions = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? 'sy:';
    this.#slackMs = options.windowSlackMs ?? 3_600_000;
    this.#graceMs = options.lateSettleGraceMs ?? 86_400_000;
    redis.defineCommand('switchyardQuotaReserve', { lua: reserveLua });
    redis.defineCommand('switchyardQuotaFinish', { lua: finishLua });
    redis.defineCommand('switchyardQuotaUsage', { lua: usageLua });
    this.#scripts = redis as unknown as QuotaScripts;
  }

  /** Reserves every charge or none, in one script. */
  async reserve(
    charges: readonly Charge[],
    reservationId: string,
    leaseMs: number,
    nowMs: number,
  ): Promise<ReserveResult> {
    assertDistinctChargeKeys(charges);
    const keys = [this.#recordKey(reservationId), ...charges.flatMap((c) => this.#counterKeys(c.key))];
    const args: (string | number)[] = [reservationId, nowMs, leaseMs, this.#slackMs, leaseMs + this.#graceMs];
    for (const c of charges)
      args.push(c.limit, c.amount, c.windowEndMs, c.key, JSON.stringify([c.amount, c.windowEndMs]));
    const reply = await this.#scripts.switchyardQuotaReserve(keys.length, ...keys, ...args);
    const index = Number(reply[0]);
    if (index === -1) throw new Error(`reservation \`${reservationId}\` already exists`);
    if (index === 0) return { ok: true };
    return { ok: false, charge: charges[index - 1]!, used: Number(reply[1]), reserved: Number(reply[2]) };
  }

  /** Settles once. */
  async settle(
    reservationId: string,
    actualByChargeKey: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<boolean> {
    return this.#finish(reservationId, actualByChargeKey, nowMs);
  }

  /** Releases once. */
  async release(reservationId: string, nowMs: number): Promise<boolean> {
    return this.#finish(reservationId, undefined, nowMs);
  }

  /** Counters' usage, expired leases reclaimed, in one script. */
  async usage(keys: readonly string[], nowMs: number): Promise<Record<string, QuotaUsage>> {
    if (keys.length === 0) return {};
    const redisKeys = keys.flatMap((k) => this.#counterKeys(k));
    const reply = await this.#scripts.switchyardQuotaUsage(redisKeys.length, ...redisKeys, nowMs);
    const out: Record<string, QuotaUsage> = {};
    keys.forEach((key, i) => {
      const used = reply[2 * i];
      if (used) out[key] = { used: Number(used), reserved: Number(reply[2 * i + 1]) };
    });
    return out;
  }

  /** The connection is the caller's; nothing else to release. */
  async close(): Promise<void> {}

  async #finish(
    reservationId: string,
    actual: Readonly<Record<string, number>> | undefined,
    nowMs: number,
  ): Promise<boolean> {
    const record = await this.#redis.hgetall(this.#recordKey(reservationId));
    const held: { key: string; amount: number; windowEndMs: number }[] = [];
    for (const [field, value] of Object.entries(record)) {
      if (!field.startsWith('c:')) continue;
      const [amount, windowEndMs] = JSON.parse(value) as [number, number];
      held.push({ key: field.slice(2), amount, windowEndMs });
    }
    if (!('at' in record)) return false;
    const keys = [this.#recordKey(reservationId), ...held.flatMap((h) => this.#counterKeys(h.key))];
    const args: (string | number)[] = [reservationId, nowMs, this.#slackMs, actual ? 'settle' : 'release'];
    for (const h of held) args.push(actual ? settledAmount(actual[h.key], h.amount) : 0, h.windowEndMs);
    return (await this.#scripts.switchyardQuotaFinish(keys.length, ...keys, ...args)) === 1;
  }

  #recordKey(reservationId: string): string {
    return `${this.#prefix}res|${reservationId}`;
  }

  #counterKeys(chargeKey: string): [string, string] {
    return [this.#prefix + chargeKey, `${this.#prefix}${chargeKey}|leases`];
  }
}
