import type { Charge } from '@switchyard/engine';

/** The answer of `QuotaStore.reserve`. */
export type ReserveResult =
  | { ok: true }
  | {
      ok: false;
      /** The first charge (in the order given) that would have passed its limit. */
      charge: Charge;
      /** Settled usage of that charge's counter in its window. */
      used: number;
      /** Amount held by live reservations on that counter. */
      reserved: number;
    };

/** One quota counter in its window. */
export interface QuotaUsage {
  /** Settled usage. */
  used: number;
  /** Held by reservations whose lease has not expired. */
  reserved: number;
}

/**
 * Quota counters with reserve-then-settle, shared by every gateway replica that uses the same store.
 *
 * Before the upstream call the server reserves each charge's `amount` (an upper bound) under a
 * reservation id; after it, the server settles the reservation to what was actually used (success,
 * error, a stream aborted mid-way, a timeout) or releases it (the call never happened).
 *
 * Guarantees:
 * - `reserve` is atomic across all charges: either every counter gets its amount or none does.
 *   A reservation is refused when `used + reserved + amount` would pass `limit`, so reservations
 *   alone never take a counter past its limit, however many replicas reserve at once.
 * - Settled usage may pass the limit only when the actual amount is larger than the reservation's
 *   upper bound (an input estimate that was too low), or when a settle arrives after its lease
 *   expired and the budget was given to others. The store records the truth either way: usage is
 *   never dropped to keep a counter under its limit, and later reserves are refused until the window ends.
 * - A reservation is settled or released exactly once: the second call (and a call for an unknown
 *   id) does nothing and resolves false.
 * - A reservation that is neither settled nor released expires `leaseMs` after it was made: its
 *   amount stops counting (reclaimed lazily, when the counter is next read or reserved), so a
 *   gateway that crashed mid-request never holds budget forever. A settle that arrives later (up to
 *   the store's grace period) still records the actual usage.
 * - Amounts are compared with a relative tolerance of 1e-9 so that sums of USD fractions that equal
 *   the limit are not refused for floating-point noise.
 */
export interface QuotaStore {
  /**
   * Reserves every charge's `amount` under `reservationId` for `leaseMs`, or nothing. Rejects when
   * `reservationId` is already reserved or two charges share a key (both are the caller's bugs).
   */
  reserve(
    charges: readonly Charge[],
    reservationId: string,
    leaseMs: number,
    nowMs: number,
  ): Promise<ReserveResult>;
  /**
   * Replaces each reserved amount by the actual one, keyed by `Charge.key` (each charge's own unit:
   * tokens, requests or USD). A charge missing from `actualByChargeKey` is settled at its reserved
   * amount; keys the reservation does not hold are ignored. Resolves false when the reservation was
   * already settled or released, or is unknown.
   */
  settle(
    reservationId: string,
    actualByChargeKey: Readonly<Record<string, number>>,
    nowMs: number,
  ): Promise<boolean>;
  /** Gives the reservation back without charging anything; resolves false as `settle` does. */
  release(reservationId: string, nowMs: number): Promise<boolean>;
  /** Usage of these counters at `nowMs` (expired leases not counted); counters never used are left out. */
  usage(keys: readonly string[], nowMs: number): Promise<Record<string, QuotaUsage>>;
  /** Releases what the store holds (not a connection it was given). */
  close(): Promise<void>;
}

/** The engine's `StateSnapshot.quotaUsed`: used plus reserved per charge key. */
export function quotaUsedSnapshot(usage: Readonly<Record<string, QuotaUsage>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, u] of Object.entries(usage)) out[key] = u.used + u.reserved;
  return out;
}

/** Whether `used + reserved + amount` passes `limit`, with a relative tolerance for float noise. */
export function wouldExceed(used: number, reserved: number, amount: number, limit: number): boolean {
  return used + reserved + amount > limit + quotaTolerance(limit);
}

/** The slack `wouldExceed` allows: 1e-9 of the limit, at least 1e-9. */
export function quotaTolerance(limit: number): number {
  return Math.max(1, Math.abs(limit)) * 1e-9;
}

/** What a settle charges for one counter: the actual amount (never below zero), or the reserved one when none is given. */
export function settledAmount(actual: number | undefined, reserved: number): number {
  return actual !== undefined && Number.isFinite(actual) ? Math.max(0, actual) : reserved;
}

/** Rejects charges with the same key in one reservation: one counter would be charged twice. */
export function assertDistinctChargeKeys(charges: readonly Charge[]): void {
  const seen = new Set<string>();
  for (const c of charges) {
    if (seen.has(c.key)) throw new Error(`charge key \`${c.key}\` appears twice in one reservation`);
    seen.add(c.key);
  }
}
