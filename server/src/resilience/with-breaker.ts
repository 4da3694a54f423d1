import type { Clock } from '../clock.ts';
import { UpstreamError } from '../providers/provider.ts';
import type { AttemptWrapper, UpstreamAttempt } from '../request/execute-plan.ts';
import type { BreakerSettings, BreakerStore } from '../stores/breaker-store.ts';
import type { BreakerMirror } from './breaker-mirror.ts';

/** What `withBreaker` needs besides the plan's breaker settings. */
export interface BreakerOptions {
  store: BreakerStore;
  /** Local copy of states: a closed breaker costs no store call before the attempt. */
  mirror: BreakerMirror;
  settings: BreakerSettings;
  clock: Clock;
}

/**
 * Whether a failure says something about the upstream's health. The client's own mistakes (4xx
 * other than 408 and 429), its going away and the gateway's own refusals do not count.
 */
export function countsAgainstBreaker(err: unknown): boolean {
  if (!(err instanceof UpstreamError)) return true;
  if (err.kind === 'aborted') return false;
  if (err.code === 'circuit_open' || err.code === 'deployment_saturated') return false;
  if (err.kind !== 'status') return true;
  const status = err.upstreamStatus ?? err.status;
  return status >= 500 || status === 429 || status === 408;
}

/** The 503 of an open breaker: retryable elsewhere, so `executePlan` falls back to the next candidate. */
export function circuitOpenError(depId: string, retryAfterMs: number): UpstreamError {
  return new UpstreamError(
    `the circuit breaker of deployment \`${depId}\` is open; retry after ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`,
    'status',
    503,
    'service_unavailable_error',
    'circuit_open',
    undefined,
    retryAfterMs,
  );
}

/**
 * A circuit breaker around each attempt to a deployment: refused at once (503 `circuit_open`, the
 * next candidate is tried) while open; exactly one probe goes through when half-open; every
 * upstream-side outcome is recorded, so enough failures open it for `openMs` and a successful
 * probe closes it. A closed breaker costs nothing before the call (the mirror answers); a
 * success is recorded in the background, a failure before the error moves on, so the next plan
 * already sees the breaker it opened.
 */
export function withBreaker(options: BreakerOptions): AttemptWrapper {
  const { store, mirror, settings, clock } = options;
  const record = async (depId: string, outcome: 'success' | 'failure') => {
    const now = clock.now();
    const state = await store.record(depId, outcome, now, settings);
    mirror.observe(depId, state, now, settings.openMs);
  };
  return <T>(next: UpstreamAttempt<T>): UpstreamAttempt<T> =>
    async (target) => {
      const id = target.deployment.id;
      const now = clock.now();
      const known = mirror.stateOf(id, now);
      if (known === 'open') throw circuitOpenError(id, settings.openMs);
      if (known === 'half_open' && !(await store.tryProbe(id, now))) {
        throw circuitOpenError(id, settings.openMs);
      }
      let result: T;
      try {
        result = await next(target);
      } catch (err) {
        if (countsAgainstBreaker(err)) await record(id, 'failure').catch(() => undefined);
        throw err;
      }
      record(id, 'success').catch(() => undefined);
      return result;
    };
}
