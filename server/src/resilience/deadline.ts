import { UpstreamError } from '../providers/provider.ts';
import type { AttemptWrapper, UpstreamAttempt } from '../request/execute-plan.ts';

/**
 * Ends an attempt that has not resolved within `ms` (for streams: until the first token) with a 504
 * `upstream_timeout` and aborts the upstream request. The minimal timeout the gateway needs before
 * the resilience layer (per-phase timeouts, retry, breaker, queue) wraps attempts.
 */
export function withDeadline(ms: number): AttemptWrapper {
  return <T>(next: UpstreamAttempt<T>): UpstreamAttempt<T> =>
    async (target) => {
      const timer = new AbortController();
      let timeout: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timeout = setTimeout(() => {
          // Reject first: the aborted attempt's own rejection must lose the race.
          reject(
            new UpstreamError(
              `${target.deployment.id} did not answer within ${ms} ms`,
              'timeout',
              504,
              'upstream_error',
              'upstream_timeout',
            ),
          );
          timer.abort();
        }, ms);
      });
      const signal = AbortSignal.any([target.call.signal, timer.signal]);
      const attempt = next({ ...target, call: { ...target.call, signal } });
      // The loser of the race may still reject later; that must not become an unhandled rejection.
      attempt.catch(() => undefined);
      try {
        return await Promise.race([attempt, expired]);
      } finally {
        clearTimeout(timeout);
      }
    };
}
