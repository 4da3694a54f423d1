import { UpstreamError } from '../provider.ts';

/** The error a simulated call fails with once its signal aborted (the signal's own `UpstreamError` reason wins). */
export function abortedError(provider: string, signal: AbortSignal): UpstreamError {
  const reason: unknown = signal.reason;
  if (reason instanceof UpstreamError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return new UpstreamError(
      `${provider} call timed out`,
      'timeout',
      504,
      'upstream_error',
      'upstream_timeout',
    );
  return new UpstreamError(
    `${provider} call aborted`,
    'aborted',
    499,
    'upstream_error',
    'client_closed_request',
  );
}

/**
 * Waits `ms` on a real timer that `signal` cancels at once (rejecting like an aborted upstream
 * call). `Infinity` waits until the abort: a stalled upstream.
 */
export function abortableDelay(ms: number, signal: AbortSignal, provider: string): Promise<void> {
  if (signal.aborted) return Promise.reject(abortedError(provider, signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      if (timer !== undefined) clearTimeout(timer);
      reject(abortedError(provider, signal));
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, ms)
      : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
