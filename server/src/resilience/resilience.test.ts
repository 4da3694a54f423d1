import type { Deployment } from '@switchyard/engine';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamError } from '../providers/provider.ts';
import type { UpstreamTarget } from '../request/execute-plan.ts';
import { DeploymentLimiter, withDeploymentLimit } from './deployment-limiter.ts';
import { guardStream } from './guard-stream.ts';
import { RetryBudget } from './retry-budget.ts';
import { isRetryableBy, withRetry } from './with-retry.ts';

const deployment = { id: 'fast/a', maxConcurrent: undefined } as unknown as Deployment;
const target = (signal = new AbortController().signal): UpstreamTarget =>
  ({ deployment, adapter: {} as never, call: { deployment, signal, requestId: 'r' } }) as UpstreamTarget;
const retrySettings = {
  attempts: 2,
  on: [429, 500, 502, 503, 504, 'connect'] as (number | 'connect' | 'timeout' | 'bodyError')[],
  backoffMs: 100,
  maxBackoffMs: 2000,
  budgetRatio: 0.2,
};
const err = (status: number, kind: UpstreamError['kind'] = 'status', retryAfterMs?: number) =>
  new UpstreamError(`upstream ${status}`, kind, status, 'upstream_error', 'x', status, retryAfterMs);

function retrying(overrides: Partial<Parameters<typeof withRetry>[0]> = {}) {
  const sleeps: number[] = [];
  const wrap = withRetry({
    settings: retrySettings,
    idempotent: true,
    budget: new RetryBudget({ ratio: 0.2 }),
    clock: { now: () => 1_000_000 },
    random: () => 0.5,
    sleep: async (ms) => void sleeps.push(ms),
    ...overrides,
  });
  return { wrap, sleeps };
}

describe('withRetry', () => {
  it('retries retryable failures with exponential, jittered backoff, then succeeds', async () => {
    const { wrap, sleeps } = retrying();
    let calls = 0;
    const result = await wrap(async () => {
      calls++;
      if (calls < 3) throw err(503);
      return 'ok';
    })(target());
    expect(result).toBe('ok');
    expect(sleeps).toEqual([50, 100]);
  });

  it('never retries client errors', async () => {
    for (const status of [400, 401, 403, 404, 413]) {
      const { wrap } = retrying();
      let calls = 0;
      await expect(
        wrap(async () => {
          calls++;
          throw err(status);
        })(target()),
      ).rejects.toThrow();
      expect(calls).toBe(1);
    }
  });

  it('honours a 429 Retry-After, but leaves a long one to the next candidate', async () => {
    const { wrap, sleeps } = retrying();
    let calls = 0;
    await wrap(async () => {
      if (calls++ === 0) throw err(429, 'status', 1500);
      return 'ok';
    })(target());
    expect(sleeps).toEqual([1500]);
    const long = retrying();
    let n = 0;
    await expect(
      long.wrap(async () => {
        n++;
        throw err(429, 'status', 60_000);
      })(target()),
    ).rejects.toThrow();
    expect(n).toBe(1);
  });

  it('retries a non-idempotent route only when nothing was sent', async () => {
    const { wrap } = retrying({ idempotent: false });
    let calls = 0;
    await expect(
      wrap(async () => {
        calls++;
        throw err(502);
      })(target()),
    ).rejects.toThrow();
    expect(calls).toBe(1);
    let connects = 0;
    await expect(
      wrap(async () => {
        connects++;
        throw err(502, 'connect');
      })(target()),
    ).rejects.toThrow();
    expect(connects).toBe(3);
  });

  it('stops retrying once the budget of recent traffic is spent', async () => {
    const budget = new RetryBudget({ ratio: 0.1, minRetries: 2 });
    const { wrap } = retrying({ budget });
    let calls = 0;
    for (let i = 0; i < 5; i++)
      await expect(
        wrap(async () => {
          calls++;
          throw err(500);
        })(target()),
      ).rejects.toThrow();
    // 5 requests; at most max(2, 0.5) = 2 retries in the window.
    expect(calls).toBe(5 + 2);
  });

  it('treats errors inside a 200 body as retryable by their mapped status', () => {
    expect(isRetryableBy(retrySettings.on, err(503, 'body'))).toBe(true);
    expect(isRetryableBy(retrySettings.on, err(400, 'body'))).toBe(false);
    expect(isRetryableBy(retrySettings.on, err(502, 'aborted'))).toBe(false);
  });
});

describe('DeploymentLimiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const queue = { maxConcurrent: 2, maxQueued: 1, maxWaitMs: 500 };

  it('admits up to maxConcurrent, queues up to maxQueued, refuses beyond with 503 and Retry-After', async () => {
    const limiter = new DeploymentLimiter();
    const signal = new AbortController().signal;
    const r1 = await limiter.acquire('d', queue, 2, signal);
    await limiter.acquire('d', queue, 2, signal);
    const waiting = limiter.acquire('d', queue, 2, signal);
    const refused = limiter.acquire('d', queue, 2, signal);
    await expect(refused).rejects.toMatchObject({ status: 503, code: 'deployment_saturated' });
    expect(limiter.stats().get('d')).toEqual({ active: 2, queued: 1 });
    r1();
    await expect(waiting).resolves.toBeTypeOf('function');
    expect(limiter.stats().get('d')).toEqual({ active: 2, queued: 0 });
  });

  it('refuses a request that waited longer than maxWaitMs', async () => {
    const limiter = new DeploymentLimiter();
    const signal = new AbortController().signal;
    await limiter.acquire('d', queue, 2, signal);
    await limiter.acquire('d', queue, 2, signal);
    const waiting = limiter.acquire('d', queue, 2, signal);
    vi.advanceTimersByTime(501);
    await expect(waiting).rejects.toMatchObject({ status: 503, retryAfterMs: 500 });
    expect(limiter.stats().get('d')).toEqual({ active: 2, queued: 0 });
  });

  it('drops a queued request whose client went away', async () => {
    const limiter = new DeploymentLimiter();
    const ac = new AbortController();
    await limiter.acquire('d', queue, 1, ac.signal);
    const waiting = limiter.acquire('d', queue, 1, ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ kind: 'aborted' });
    expect(limiter.stats().get('d')?.queued).toBe(0);
  });

  it('holds a slot for as long as the caller says (a stream until it ends)', async () => {
    const limiter = new DeploymentLimiter();
    let release: (() => void) | undefined;
    const wrap = withDeploymentLimit<string>(limiter, { ...queue, maxConcurrent: 1 }, (_, r) => {
      release = r;
    });
    await wrap(async () => 'stream')(target());
    expect(limiter.stats().get('fast/a')?.active).toBe(1);
    release!();
    expect(limiter.stats().has('fast/a')).toBe(false);
  });
});

describe('guardStream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts the upstream and throws a 504 when the stream goes quiet for idleMs', async () => {
    const abort = vi.fn();
    const stalled: AsyncIterator<number> = { next: () => new Promise(() => undefined) };
    const guarded = guardStream(stalled, {
      idleMs: 1000,
      deadlineAt: Date.now() + 60_000,
      now: () => Date.now(),
      abort,
    });
    const step = guarded.next();
    vi.advanceTimersByTime(1001);
    await expect(step).rejects.toMatchObject({ status: 504, code: 'upstream_timeout', kind: 'timeout' });
    expect(abort).toHaveBeenCalledOnce();
  });

  it('passes chunks through while they keep coming, and enforces the total deadline', async () => {
    let i = 0;
    const source: AsyncIterator<number> = { next: async () => ({ value: i++, done: false }) };
    const start = Date.now();
    const guarded = guardStream(source, {
      idleMs: 1000,
      deadlineAt: start + 5000,
      now: () => Date.now(),
      abort: () => undefined,
    });
    expect((await guarded.next()).value).toBe(0);
    vi.setSystemTime(start + 5001);
    await expect(guarded.next()).rejects.toMatchObject({ code: 'upstream_timeout' });
  });
});
