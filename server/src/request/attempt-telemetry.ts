import type { Clock } from '../clock.ts';
import type { UpstreamError } from '../providers/provider.ts';
import type { DeploymentHealth } from '../telemetry/deployment-health.ts';
import type { RequestTrace } from '../telemetry/request-trace.ts';
import type { Span } from '../telemetry/tracing.ts';
import { type AttemptWrapper, asUpstreamError, type UpstreamAttempt } from './execute-plan.ts';

/** Options of `withAttemptTelemetry`. */
export interface AttemptTelemetryOptions<R> {
  /** The request's trace; undefined when traces are not exported (no spans are built then). */
  trace: RequestTrace | undefined;
  health: DeploymentHealth;
  clock: Clock;
  /**
   * Streams: the serving call's span stays open until the stream ends; `end` closes it with how the
   * stream ended (a failure half-way is also recorded against the deployment's health).
   */
  keepOpen?: ((result: R, end: (failure?: UpstreamError) => void) => void) | undefined;
}

/**
 * Observes every upstream call of a request (retries included, each a call of its own): a client
 * span per call whose context is the `traceparent` sent upstream, and the call's outcome, latency
 * and error in the deployment's health. Sits inside the breaker and outside the deadline, so a
 * refused call (open breaker) is not a call, and a timeout is the call's failure. Calls the client
 * cancelled are not held against the deployment.
 */
export function withAttemptTelemetry<R>(options: AttemptTelemetryOptions<R>): AttemptWrapper {
  const { trace, health, clock } = options;
  let calls = 0;
  return <T>(next: UpstreamAttempt<T>): UpstreamAttempt<T> =>
    async (target) => {
      const deploymentId = target.deployment.id;
      const started = clock.now();
      const span: Span | undefined = trace?.startAttempt(target.deployment, ++calls);
      const traced = span ? { ...target, call: { ...target.call, traceparent: span.traceparent } } : target;
      let result: T;
      try {
        result = await next(traced);
      } catch (err) {
        const cancelled = target.call.signal.aborted;
        const error = asUpstreamError(err, cancelled, deploymentId);
        const end = { status: error.status, code: error.code };
        health.recordAttempt(
          { deploymentId, outcome: cancelled ? 'cancelled' : 'failed', ms: clock.now() - started, ...end },
          clock.now(),
          error.message,
        );
        if (span) trace!.endAttempt(span, { outcome: cancelled ? 'cancelled' : 'failed', ...end });
        throw err;
      }
      health.recordAttempt({ deploymentId, outcome: 'ok', ms: clock.now() - started }, clock.now());
      if (options.keepOpen)
        options.keepOpen(result as unknown as R, (failure) => {
          if (failure)
            health.recordAttempt(
              {
                deploymentId,
                outcome: 'failed',
                ms: clock.now() - started,
                status: failure.status,
                code: failure.code,
              },
              clock.now(),
              failure.message,
            );
          if (span)
            trace!.endAttempt(
              span,
              failure ? { outcome: 'failed', status: failure.status, code: failure.code } : { outcome: 'ok' },
            );
        });
      else if (span) trace!.endAttempt(span, { outcome: 'ok', status: 200 });
      return result;
    };
}
