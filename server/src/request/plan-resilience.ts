import type { Plan } from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import type { BreakerMirror } from '../resilience/breaker-mirror.ts';
import { withDeadline } from '../resilience/deadline.ts';
import {
  type DeploymentLimiter,
  type Release,
  withDeploymentLimit,
} from '../resilience/deployment-limiter.ts';
import { RetryBudget } from '../resilience/retry-budget.ts';
import { withBreaker } from '../resilience/with-breaker.ts';
import { sleepUnlessAborted, withRetry } from '../resilience/with-retry.ts';
import type { BreakerStore } from '../stores/breaker-store.ts';
import { type AttemptWrapper, composeWrappers } from './execute-plan.ts';
import type { RequestTrail } from './request-trail.ts';

/** The gateway-wide parts every request's resilience shares. */
export interface ResilienceContext {
  limiter: DeploymentLimiter;
  /** Retry budgets by the policy's `budgetRatio` (one per ratio, shared by all requests). */
  retryBudgets: Map<number, RetryBudget>;
  breakers: BreakerStore;
  breakerMirror: BreakerMirror;
  clock: Clock;
  /** Backoff jitter (injected so tests can make it deterministic). */
  random: () => number;
}

/** How one request's attempts are wrapped. */
export interface AttemptResilience<R> {
  /** False when retries must not multiply the request (route not idempotent, repeated Idempotency-Key). */
  idempotent: boolean;
  /** Deadline of one try: the total timeout, or the first-token timeout for a stream. */
  deadlineMs: number;
  /** Keeps the deployment slot after the attempt resolved (a stream holds it until it ends). */
  hold?: ((result: R, release: Release) => void) | undefined;
  trail: RequestTrail;
}

/**
 * The wrappers around every attempt of a plan, outermost first: the deployment's concurrency slot
 * and queue ▸ retries (policy settings, idempotency, shared budget) ▸ circuit breaker ▸ deadline.
 * The breaker sits inside the retry loop so each try is counted, and outside the deadline so a
 * timeout counts as a failure.
 */
export function planAttemptWrapper<R>(
  ctx: ResilienceContext,
  plan: Plan,
  options: AttemptResilience<R>,
): AttemptWrapper {
  const { retry, queue, breaker } = plan.resilience;
  let budget = ctx.retryBudgets.get(retry.budgetRatio);
  if (!budget) {
    budget = new RetryBudget({ ratio: retry.budgetRatio });
    ctx.retryBudgets.set(retry.budgetRatio, budget);
  }
  const trail = options.trail;
  return composeWrappers([
    withDeploymentLimit<R>(ctx.limiter, queue, options.hold),
    withRetry({
      settings: retry,
      idempotent: options.idempotent,
      budget,
      clock: ctx.clock,
      random: ctx.random,
      sleep: sleepUnlessAborted,
      onRetry: () => {
        trail.retries++;
      },
    }),
    withBreaker({ store: ctx.breakers, mirror: ctx.breakerMirror, settings: breaker, clock: ctx.clock }),
    withDeadline(options.deadlineMs),
  ]);
}
