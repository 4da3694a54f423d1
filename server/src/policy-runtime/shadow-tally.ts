import { addShadowStats, emptyShadowStats, type ShadowStats } from '@switchyard/engine';
import type { PolicyVersionStore } from '../stores/policy-version-store.ts';

/**
 * Shadow observations of one replica, summed in memory per rollout step and added to the store in
 * one write per step on `flush()`, so the request path never waits on the store. What a crash
 * loses is at most one flush interval of a shadow step's tally.
 */
export class ShadowTally {
  readonly #pending = new Map<string, { rolloutId: string; stepIndex: number; stats: ShadowStats }>();

  /** Adds one request's observation (see `observeShadow`) to its rollout step. */
  add(rolloutId: string, stepIndex: number, stats: ShadowStats): void {
    const key = `${rolloutId}\u0000${stepIndex}`;
    const entry = this.#pending.get(key);
    if (entry) entry.stats = addShadowStats(entry.stats, stats);
    else this.#pending.set(key, { rolloutId, stepIndex, stats: addShadowStats(emptyShadowStats, stats) });
  }

  /** Observations not yet written. */
  get pendingRequests(): number {
    let n = 0;
    for (const e of this.#pending.values()) n += e.stats.requests;
    return n;
  }

  /** Writes what was added since the last flush; a step whose write fails is kept for the next one. */
  async flush(store: PolicyVersionStore): Promise<void> {
    const entries = [...this.#pending.entries()];
    this.#pending.clear();
    const failures: unknown[] = [];
    for (const [key, entry] of entries) {
      try {
        await store.addShadowStats(entry.rolloutId, entry.stepIndex, entry.stats);
      } catch (err) {
        failures.push(err);
        const again = this.#pending.get(key);
        this.#pending.set(key, again ? { ...entry, stats: addShadowStats(entry.stats, again.stats) } : entry);
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}
