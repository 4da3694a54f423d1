import type { BreakerState, ResilienceSettings } from '@switchyard/engine';

/** A breaker's settings, as the plan's `resilience.breaker` carries them. */
export type BreakerSettings = ResilienceSettings['breaker'];

/** How one upstream call to a deployment ended, as far as its breaker is concerned. */
export type BreakerOutcome = 'success' | 'failure';

/** Slices of a breaker's sliding window: outcomes are counted per `windowMs / 10`. */
export const breakerWindowSlices = 10;

/**
 * Circuit breakers per deployment (`Deployment.id`), shared by every gateway replica that uses the
 * same store.
 *
 * - closed → open: when, over the sliding window (`windowMs`, counted in ten slices), at least
 *   `minRequests` outcomes were recorded, at least one failed, and failures / outcomes ≥ `failureRatio`.
 *   Opening forgets the window.
 * - open → half_open: `openMs` after it opened (computed when read; nothing needs to run).
 * - half_open: `tryProbe` lets exactly one caller through; a probe that does not report within
 *   `openMs` is presumed lost and another may go. The next outcome recorded decides: a success
 *   closes the breaker with a fresh window, a failure opens it for another `openMs`.
 * - Outcomes recorded while open are ignored: they are calls that started before it opened.
 *
 * Settings travel with every `record` (from the plan), so a policy change applies at once; a
 * changed `windowMs` starts a fresh window.
 */
export interface BreakerStore {
  /** Records an outcome of a call to `depId` and resolves the breaker's state after it. */
  record(
    depId: string,
    outcome: BreakerOutcome,
    nowMs: number,
    settings: BreakerSettings,
  ): Promise<BreakerState>;
  /** The state of each deployment at `nowMs`, for the engine's `StateSnapshot.breakers`; unknown ones are closed. */
  state(depIds: readonly string[], nowMs: number): Promise<Record<string, BreakerState>>;
  /**
   * Whether a call may go to `depId` now: true when closed, true for exactly one caller per
   * half-open period (the probe), false while open or while another caller's probe is out.
   */
  tryProbe(depId: string, nowMs: number): Promise<boolean>;
  /** Releases what the store holds (not a connection it was given). */
  close(): Promise<void>;
}

/** Whether the outcomes counted in a closed breaker's window open it. */
export function shouldOpen(successes: number, failures: number, settings: BreakerSettings): boolean {
  const total = successes + failures;
  return total >= settings.minRequests && failures > 0 && failures / total >= settings.failureRatio;
}
