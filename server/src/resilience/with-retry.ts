import type { ResilienceSettings } from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import { UpstreamError } from '../providers/provider.ts';
import type { AttemptWrapper, UpstreamAttempt } from '../request/execute-plan.ts';
import type { RetryBudget } from './retry-budget.ts';

/** Codes of refusals made by the gateway itself: another try at the same deployment cannot help. */
const localRefusals = new Set(['deployment_saturated', 'circuit_open', 'request_cancelled']);

/** What `withRetry` needs besides the policy's retry settings. */
export interface RetryOptions {
  settings: ResilienceSettings['retry'];
  /** The route's `idempotent`: when false only failures to connect (nothing was sent) are retried. */
  idempotent: boolean;
  budget: RetryBudget;
  clock: Clock;
  /** Uniform [0, 1) for the backoff jitter (injected, so tests are deterministic). */
  random: () => number;
  /** Waits `ms` unless `signal` aborts first (injected, so tests use fake timers). */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called before each retry, for metrics and the request trail. */
  onRetry?:
    | ((info: { deploymentId: string; attempt: number; delayMs: number; error: UpstreamError }) => void)
    | undefined;
}

/** Whether the policy's `retry.on` list covers a failure. Client mistakes (4xx but 408/429) never are. */
export function isRetryableBy(on: ResilienceSettings['retry']['on'], err: UpstreamError): boolean {
  if (err.kind === 'aborted' || err.kind === 'protocol' || localRefusals.has(err.code)) return false;
  if (err.kind === 'connect') return on.includes('connect');
  if (err.kind === 'timeout') return on.includes('timeout') || on.includes(504);
  const status = err.upstreamStatus ?? err.status;
  if (status < 500 && status !== 429 && status !== 408) return false;
  if (err.kind === 'body' && on.includes('bodyError')) return true;
  return on.includes(status) || on.includes(err.status);
}

/** A `sleep` on real timers that an abort cuts short. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Retries one deployment on the failures the policy lists, before any byte reached the client (an
 * attempt only resolves before that): exponential backoff with full jitter, a 429's Retry-After
 * honoured (a wait longer than `maxBackoffMs` is not waited out: the next candidate is tried
 * instead), never for a non-idempotent route unless nothing was sent, and never past the retry budget.
 */
export function withRetry(options: RetryOptions): AttemptWrapper {
  const { settings, budget, clock } = options;
  return <T>(next: UpstreamAttempt<T>): UpstreamAttempt<T> =>
    async (target) => {
      const id = target.deployment.id;
      budget.recordRequest(id, clock.now());
      for (let attempt = 0; ; attempt++) {
        try {
          return await next(target);
        } catch (err) {
          if (!(err instanceof UpstreamError) || attempt >= settings.attempts || target.call.signal.aborted)
            throw err;
          if (!isRetryableBy(settings.on, err)) throw err;
          if (!options.idempotent && err.kind !== 'connect') throw err;
          const backoff = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** attempt);
          let delayMs = Math.floor(options.random() * backoff);
          if (err.retryAfterMs !== undefined) {
            if (err.retryAfterMs > settings.maxBackoffMs) throw err;
            delayMs = Math.max(delayMs, err.retryAfterMs);
          }
          if (!budget.tryRetry(id, clock.now())) throw err;
          options.onRetry?.({ deploymentId: id, attempt: attempt + 1, delayMs, error: err });
          await options.sleep(delayMs, target.call.signal).catch(() => {
            throw new UpstreamError(
              'the client closed the request',
              'aborted',
              499,
              'request_cancelled',
              'request_cancelled',
            );
          });
        }
      }
    };
}
