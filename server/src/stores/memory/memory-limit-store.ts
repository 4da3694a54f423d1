import type { BucketLevel, LimitCheck } from '@switchyard/engine';
import {
  type BucketAfterTake,
  type LimitStore,
  refilledTokens,
  resetAfterMs,
  retryAfterMs,
  type TakeResult,
} from '../limit-store.ts';

interface Bucket extends BucketLevel {
  /** Epoch ms (caller's clock) when it is full again and can be forgotten. */
  fullAtMs: number;
}

/** How often, in the callers' time, buckets that have refilled are forgotten. */
const forgetEveryMs = 60_000;

/**
 * Token buckets in process memory: one gateway, or tests. Each method runs to completion without
 * awaiting, so concurrent calls are atomic. Buckets that have refilled are forgotten now and then.
 */
export class MemoryLimitStore implements LimitStore {
  readonly #buckets = new Map<string, Bucket>();
  #nextForgetMs = Number.NEGATIVE_INFINITY;

  /** Takes from every bucket or none. */
  async take(checks: readonly LimitCheck[], nowMs: number): Promise<TakeResult> {
    this.#forgetFull(nowMs);
    const levels: number[] = [];
    for (const check of checks) {
      const tokens = refilledTokens(this.#buckets.get(check.key), check.capacity, check.refillPerSec, nowMs);
      if (tokens < check.cost) {
        return {
          ok: false,
          limit: check,
          remaining: tokens,
          retryAfterMs: retryAfterMs(tokens, check.cost, check.capacity, check.refillPerSec),
        };
      }
      levels.push(tokens);
    }
    const buckets: BucketAfterTake[] = checks.map((check, i) => {
      const remaining = levels[i]! - check.cost;
      this.#write(check, remaining, nowMs);
      return {
        key: check.key,
        remaining,
        resetAfterMs: resetAfterMs(remaining, check.capacity, check.refillPerSec),
      };
    });
    return { ok: true, buckets };
  }

  /** Gives tokens back, up to the capacity. */
  async refund(check: LimitCheck, amount: number, nowMs: number): Promise<number> {
    return this.#adjust(check, Math.abs(amount), nowMs);
  }

  /** Takes more tokens, down to zero. */
  async charge(check: LimitCheck, amount: number, nowMs: number): Promise<number> {
    return this.#adjust(check, -Math.abs(amount), nowMs);
  }

  /** Stored levels. */
  async peek(keys: readonly string[]): Promise<Record<string, BucketLevel>> {
    const out: Record<string, BucketLevel> = {};
    for (const key of keys) {
      const b = this.#buckets.get(key);
      if (b) out[key] = { tokens: b.tokens, atMs: b.atMs };
    }
    return out;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  #adjust(check: LimitCheck, delta: number, nowMs: number): number {
    const tokens = refilledTokens(this.#buckets.get(check.key), check.capacity, check.refillPerSec, nowMs);
    const next = Math.max(0, Math.min(check.capacity, tokens + delta));
    this.#write(check, next, nowMs);
    return next;
  }

  #write(check: LimitCheck, tokens: number, nowMs: number): void {
    const atMs = Math.max(nowMs, this.#buckets.get(check.key)?.atMs ?? nowMs);
    this.#buckets.set(check.key, {
      tokens,
      atMs,
      fullAtMs: atMs + resetAfterMs(tokens, check.capacity, check.refillPerSec),
    });
  }

  #forgetFull(nowMs: number): void {
    if (nowMs < this.#nextForgetMs) return;
    this.#nextForgetMs = nowMs + forgetEveryMs;
    for (const [key, b] of this.#buckets) if (b.fullAtMs <= nowMs) this.#buckets.delete(key);
  }
}
