import type { Plan } from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import type { UpstreamError } from '../providers/provider.ts';
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
import type { DeploymentHealth } from '../telemetry/deployment-health.ts';
import type { RequestTrace } from '../telemetry/request-trace.ts';
import { withAttemptTelemetry } from './attempt-telemetry.ts';
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
  /** Every upstream call's outcome and latency, per deployment. */
  health: DeploymentHealth;
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
  /** The request's trace (spans per upstream call), when traces are exported. */
  trace?: RequestTrace | undefined;
  /** Streams: the serving call's span stays open until `end` is called (see `withAttemptTelemetry`). */
  keepOpen?: ((result: R, end: (failure?: UpstreamError) => void) => void) | undefined;
}

/**
 * The wrappers around every attempt of a plan, outermost first: the deployment's concurrency slot
 * and queue ▸ retries (policy settings, idempotency, shared budget) ▸ circuit breaker ▸ telemetry
 * (a span and a health record per upstream call) ▸ deadline. The breaker sits inside the retry loop
 * so each try is counted, and outside the deadline so a timeout counts as a failure.
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
      onRetry: ({ deploymentId }) => {
        trail.retries++;
        if (trail.retriedDeployments) trail.retriedDeployments.push(deploymentId);
        else trail.retriedDeployments = [deploymentId];
      },
    }),
    withBreaker({ store: ctx.breakers, mirror: ctx.breakerMirror, settings: breaker, clock: ctx.clock }),
    withAttemptTelemetry<R>({
      trace: options.trace,
      health: ctx.health,
      clock: ctx.clock,
      keepOpen: options.keepOpen,
    }),
    withDeadline(options.deadlineMs),
  ]);
}
