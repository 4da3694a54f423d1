import type { BreakerState } from '@switchyard/engine';
import {
  type BreakerOutcome,
  type BreakerSettings,
  type BreakerStore,
  breakerWindowSlices,
  shouldOpen,
} from '../breaker-store.ts';

interface Breaker {
  /** Set while open or half-open: when it opened for the last time, and for how long. */
  openedAtMs?: number | undefined;
  openMs: number;
  /** When the current half-open probe went out. */
  probeAtMs?: number | undefined;
  /** The window the slices were counted for. */
  windowMs: number;
  /** Successes and failures per slice index (`floor(now / sliceMs)`). */
  slices: Map<number, { successes: number; failures: number }>;
}

function stateOf(b: Breaker | undefined, nowMs: number): BreakerState {
  if (b?.openedAtMs === undefined) return 'closed';
  return nowMs >= b.openedAtMs + b.openMs ? 'half_open' : 'open';
}

/**
 * Circuit breakers in process memory: one gateway, or tests. Each method runs to completion
 * without awaiting, so concurrent calls are atomic.
 */
export class MemoryBreakerStore implements BreakerStore {
  readonly #breakers = new Map<string, Breaker>();

  /** Records an outcome and moves the breaker. */
  async record(
    depId: string,
    outcome: BreakerOutcome,
    nowMs: number,
    settings: BreakerSettings,
  ): Promise<BreakerState> {
    let b = this.#breakers.get(depId);
    if (!b || b.windowMs !== settings.windowMs) {
      b = {
        openedAtMs: b?.openedAtMs,
        openMs: b?.openMs ?? settings.openMs,
        windowMs: settings.windowMs,
        slices: new Map(),
      };
      this.#breakers.set(depId, b);
    }
    const state = stateOf(b, nowMs);
    if (state === 'open') return 'open';
    if (state === 'half_open') {
      b.probeAtMs = undefined;
      if (outcome === 'success') {
        b.openedAtMs = undefined;
        b.slices.clear();
        return 'closed';
      }
      b.openedAtMs = nowMs;
      b.openMs = settings.openMs;
      return 'open';
    }
    const sliceMs = Math.max(1, Math.ceil(settings.windowMs / breakerWindowSlices));
    const current = Math.floor(nowMs / sliceMs);
    const slice = b.slices.get(current) ?? { successes: 0, failures: 0 };
    if (outcome === 'success') slice.successes += 1;
    else slice.failures += 1;
    b.slices.set(current, slice);
    let successes = 0;
    let failures = 0;
    for (const [index, s] of b.slices) {
      if (index <= current - breakerWindowSlices) b.slices.delete(index);
      else {
        successes += s.successes;
        failures += s.failures;
      }
    }
    if (!shouldOpen(successes, failures, settings)) return 'closed';
    b.openedAtMs = nowMs;
    b.openMs = settings.openMs;
    b.slices.clear();
    return 'open';
  }

  /** States at `nowMs`. */
  async state(depIds: readonly string[], nowMs: number): Promise<Record<string, BreakerState>> {
    const out: Record<string, BreakerState> = {};
    for (const id of depIds) out[id] = stateOf(this.#breakers.get(id), nowMs);
    return out;
  }

  /** Lets one probe through per half-open period. */
  async tryProbe(depId: string, nowMs: number): Promise<boolean> {
    const b = this.#breakers.get(depId);
    const state = stateOf(b, nowMs);
    if (state !== 'half_open') return state === 'closed';
    if (b!.probeAtMs !== undefined && nowMs < b!.probeAtMs + b!.openMs) return false;
    b!.probeAtMs = nowMs;
    return true;
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
