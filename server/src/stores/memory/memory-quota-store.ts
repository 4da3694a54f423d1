import type { Charge } from '@switchyard/engine';
import {
  assertDistinctChargeKeys,
  type QuotaStore,
  type QuotaUsage,
  type ReserveResult,
  settledAmount,
  wouldExceed,
} from '../quota-store.ts';

interface Counter {
  used: number;
  reserved: number;
  windowEndMs: number;
  /** Live reservations on this counter: amount and lease expiry. */
  leases: Map<string, { amount: number; expiresAtMs: number }>;
}

interface Reservation {
  /** Reserved amount and window end per charge key. */
  charges: Map<string, { amount: number; windowEndMs: number }>;
  /** After this, a late settle is no longer accepted and the reservation is forgotten. */
  forgetAtMs: number;
}

/** Options of `MemoryQuotaStore`. */
export interface MemoryQuotaStoreOptions {
  /** How long after its lease expired a reservation can still be settled (default 24 h). */
  lateSettleGraceMs?: number | undefined;
  /** How long a counter is kept after its window ended (default 1 h). */
  windowSlackMs?: number | undefined;
}

/** How often, in the callers' time, ended windows and stale reservations are forgotten. */
const forgetEveryMs = 60_000;

/**
 * Quota counters and reservations in process memory: one gateway, or tests. Each method runs to
 * completion without awaiting, so concurrent calls are atomic.
 */
export class MemoryQuotaStore implements QuotaStore {
  readonly #counters = new Map<string, Counter>();
  readonly #reservations = new Map<string, Reservation>();
  readonly #graceMs: number;
  readonly #slackMs: number;
  #nextForgetMs = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryQuotaStoreOptions = {}) {
    this.#graceMs = options.lateSettleGraceMs ?? 86_400_000;
    this.#slackMs = options.windowSlackMs ?? 3_600_000;
  }

  /** Reserves every charge or none. */
  async reserve(
    charges: readonly Charge[],
    reservationId: string,
    leaseMs: number,
    nowMs: number,
  ): Promise<ReserveResult> {
    assertDistinctChargeKeys(charges);
    if (this.#reservations.has(reservationId))
      throw new Error(`reservation \`${reservationId}\` already exists`);
    this.#forgetStale(nowMs);
    for (const charge of charges) {
      const counter = this.#counters.get(charge.key);
      if (counter) this.#reclaim(counter, nowMs);
      const used = counter?.used ?? 0;
      const reserved = counter?.reserved ?? 0;
      if (wouldExceed(used, reserved, charge.amount, charge.limit))
        return { ok: false, charge, used, reserved };
    }
    const reserved = new Map<string, { amount: number; windowEndMs: number }>();
    for (const charge of charges) {
      const counter = this.#counter(charge.key, charge.windowEndMs);
      counter.reserved += charge.amount;
      counter.leases.set(reservationId, { amount: charge.amount, expiresAtMs: nowMs + leaseMs });
      reserved.set(charge.key, { amount: charge.amount, windowEndMs: charge.windowEndMs });
    }
    this.#reservations.set(reservationId, { charges: reserved, forgetAtMs: nowMs + leaseMs + this.#graceMs });
    return { ok: true };
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

  /** Counters' usage, expired leases reclaimed. */
  async usage(keys: readonly string[], nowMs: number): Promise<Record<string, QuotaUsage>> {
    const out: Record<string, QuotaUsage> = {};
    for (const key of keys) {
      const counter = this.#counters.get(key);
      if (!counter) continue;
      this.#reclaim(counter, nowMs);
      out[key] = { used: counter.used, reserved: counter.reserved };
    }
    return out;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}

  /** Settles (`actual` given) or releases (`actual` undefined) a reservation. */
  #finish(
    reservationId: string,
    actual: Readonly<Record<string, number>> | undefined,
    nowMs: number,
  ): boolean {
    const reservation = this.#reservations.get(reservationId);
    if (!reservation) return false;
    this.#reservations.delete(reservationId);
    if (nowMs >= reservation.forgetAtMs) return false;
    for (const [key, { amount, windowEndMs }] of reservation.charges) {
      // A counter forgotten after its window ended comes back for a late settle: usage is never dropped.
      const counter = actual ? this.#counter(key, windowEndMs) : this.#counters.get(key);
      if (!counter) continue;
      const lease = counter.leases.get(reservationId);
      if (lease) {
        counter.leases.delete(reservationId);
        counter.reserved = counter.leases.size === 0 ? 0 : Math.max(0, counter.reserved - lease.amount);
      }
      if (actual) counter.used += settledAmount(actual[key], amount);
    }
    return true;
  }

  /** Stops counting reservations whose lease expired. */
  #reclaim(counter: Counter, nowMs: number): void {
    for (const [id, lease] of counter.leases) {
      if (lease.expiresAtMs <= nowMs) {
        counter.leases.delete(id);
        counter.reserved -= lease.amount;
      }
    }
    // Float sums drift: with nothing reserved, reserved is exactly zero.
    if (counter.leases.size === 0 || counter.reserved < 0) counter.reserved = 0;
  }

  #counter(key: string, windowEndMs: number): Counter {
    let counter = this.#counters.get(key);
    if (!counter) {
      counter = { used: 0, reserved: 0, windowEndMs, leases: new Map() };
      this.#counters.set(key, counter);
    }
    return counter;
  }

  #forgetStale(nowMs: number): void {
    if (nowMs < this.#nextForgetMs) return;
    this.#nextForgetMs = nowMs + forgetEveryMs;
    for (const [id, r] of this.#reservations) if (r.forgetAtMs <= nowMs) this.#reservations.delete(id);
    for (const [key, c] of this.#counters) {
      this.#reclaim(c, nowMs);
      if (c.leases.size === 0 && c.windowEndMs + this.#slackMs <= nowMs) this.#counters.delete(key);
    }
  }
}
