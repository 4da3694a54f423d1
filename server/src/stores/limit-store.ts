import type { BucketLevel, LimitCheck } from '@switchyard/engine';

/** A bucket after a successful take: what `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` show. */
export interface BucketAfterTake {
  /** `LimitCheck.key`. */
  key: string;
  /** Tokens left once this request's cost was taken (may be fractional; headers round down). */
  remaining: number;
  /** Milliseconds until the bucket is full again at its refill rate. */
  resetAfterMs: number;
}

/** The answer of `LimitStore.take`: every bucket taken from, or none and the first one short. */
export type TakeResult =
  | {
      ok: true;
      /** One entry per check, in the order given. */
      buckets: BucketAfterTake[];
    }
  | {
      ok: false;
      /** The first check (in the order given) whose bucket held less than its cost. */
      limit: LimitCheck;
      /** Tokens that bucket held. */
      remaining: number;
      /** When trying again can succeed; 60 s when the cost is larger than the bucket can ever hold. */
      retryAfterMs: number;
    };

/**
 * Token buckets for rate limits, shared by every gateway replica that uses the same store.
 *
 * A bucket holds at most `capacity` tokens and refills continuously at `refillPerSec`: its level at
 * `nowMs` is `min(capacity, tokens + (nowMs - atMs) / 1000 * refillPerSec)`, the engine's own math.
 * A bucket the store has never seen (or has forgotten because it was full) is full. Levels never go
 * below zero. The bucket's parameters travel with every call (from the plan's `LimitCheck`), so a
 * policy change applies at once. Clocks of different replicas may disagree a little: a bucket's
 * `atMs` never moves backwards, so a replica whose clock lags cannot refill a bucket twice.
 *
 * Token-rate limits (tpm) are taken at the request's upper bound before the call. Afterwards the
 * server corrects the bucket with `refund` (the request used less) or `charge` (it used more). A
 * charge that would drive the bucket below zero empties it instead of carrying a debt: the next
 * requests wait for the refill, and one bad estimate cannot lock a key out for minutes.
 */
export interface LimitStore {
  /**
   * Takes each check's `cost` from its bucket, atomically and all or nothing: when any bucket holds
   * less than its cost, nothing is taken and the first short bucket is returned with the wait.
   */
  take(checks: readonly LimitCheck[], nowMs: number): Promise<TakeResult>;
  /** Gives `amount` tokens back to the check's bucket (never above its capacity); resolves its new level. */
  refund(check: LimitCheck, amount: number, nowMs: number): Promise<number>;
  /** Takes `amount` more tokens from the check's bucket (never below zero); resolves its new level. */
  charge(check: LimitCheck, amount: number, nowMs: number): Promise<number>;
  /**
   * The stored levels of these buckets, for the engine's `StateSnapshot.buckets` (the engine refills
   * them to its own `nowMs`). Buckets the store does not hold are left out: the engine sees them full.
   */
  peek(keys: readonly string[]): Promise<Record<string, BucketLevel>>;
  /** Releases what the store holds (not a connection it was given). */
  close(): Promise<void>;
}

/** Tokens a bucket holds at `nowMs`, from its last stored level: the engine's refill math. */
export function refilledTokens(
  level: BucketLevel | undefined,
  capacity: number,
  refillPerSec: number,
  nowMs: number,
): number {
  if (!level) return capacity;
  return Math.min(capacity, level.tokens + (Math.max(0, nowMs - level.atMs) / 1000) * refillPerSec);
}

/** How long until a bucket holding `tokens` has `cost`: the engine's rule, 60 s when it never will. */
export function retryAfterMs(tokens: number, cost: number, capacity: number, refillPerSec: number): number {
  if (cost > capacity || refillPerSec <= 0) return 60_000;
  return Math.ceil(((cost - tokens) / refillPerSec) * 1000);
}

/** How long until a bucket holding `tokens` is full again. */
export function resetAfterMs(tokens: number, capacity: number, refillPerSec: number): number {
  if (tokens >= capacity) return 0;
  if (refillPerSec <= 0) return 60_000;
  return Math.ceil(((capacity - tokens) / refillPerSec) * 1000);
}
