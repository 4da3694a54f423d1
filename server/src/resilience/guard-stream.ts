import { UpstreamError } from '../providers/provider.ts';

/** Limits on a stream after its first chunk. */
export interface StreamGuardOptions {
  /** Longest silence between two chunks. */
  idleMs: number;
  /** Epoch ms by which the whole stream must have ended (request start + totalMs). */
  deadlineAt: number;
  /** Current epoch ms. */
  now: () => number;
  /** Ends the upstream request (aborts its signal). */
  abort: () => void;
}

/**
 * Wraps a stream's iterator so that a silence longer than `idleMs`, or running past the total
 * deadline, aborts the upstream request and throws a 504 `upstream_timeout` from `next()`, which
 * the SSE writer turns into an error event rather than a silent truncation.
 */
export function guardStream<T>(iterator: AsyncIterator<T>, options: StreamGuardOptions): AsyncIterator<T> {
  return {
    async next() {
      const budget = Math.min(options.idleMs, options.deadlineAt - options.now());
      if (budget <= 0) {
        options.abort();
        throw new UpstreamError(
          'the upstream stream ran past its total timeout',
          'timeout',
          504,
          'upstream_error',
          'upstream_timeout',
        );
      }
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          options.abort();
          const idle = budget === options.idleMs;
          reject(
            new UpstreamError(
              idle
                ? `the upstream sent nothing for ${options.idleMs} ms`
                : 'the upstream stream ran past its total timeout',
              'timeout',
              504,
              'upstream_error',
              'upstream_timeout',
            ),
          );
        }, budget);
      });
      const step = iterator.next();
      step.catch(() => undefined);
      try {
        return await Promise.race([step, expired]);
      } finally {
        clearTimeout(timer);
      }
    },
    return: iterator.return ? (value?: unknown) => iterator.return!(value) : undefined,
  } as AsyncIterator<T>;
}
