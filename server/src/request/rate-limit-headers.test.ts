import type { LimitCheck } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { formatResetDuration, rateLimitHeaders } from './rate-limit-headers.ts';

const check = (unit: LimitCheck['unit'], headerLimit: number, limitId: string = unit): LimitCheck => ({
  key: `rl|t|${limitId}|k`,
  limitId,
  per: 'key',
  unit,
  capacity: headerLimit,
  refillPerSec: headerLimit / 60,
  cost: 1,
  headerLimit,
});

describe('rate-limit headers', () => {
  it('writes reset durations the way OpenAI does', () => {
    expect([0, 250, 1000, 1500, 59_999, 60_000, 360_000, 3_723_000].map(formatResetDuration)).toEqual([
      '0ms',
      '250ms',
      '1s',
      '1.5s',
      '59.999s',
      '1m0s',
      '6m0s',
      '1h2m3s',
    ]);
  });

  it('shows, per unit, the bucket with the fewest tokens left', () => {
    const headers = rateLimitHeaders(
      [check('requests', 60, 'per-key'), check('requests', 1000, 'per-tenant'), check('tokens', 90_000)],
      [
        { remaining: 59.7, resetAfterMs: 1000 },
        { remaining: 12, resetAfterMs: 59_000 },
        { remaining: 80_000, resetAfterMs: 6_000 },
      ],
    );
    expect(headers).toEqual({
      'x-ratelimit-limit-requests': '1000',
      'x-ratelimit-remaining-requests': '12',
      'x-ratelimit-reset-requests': '59s',
      'x-ratelimit-limit-tokens': '90000',
      'x-ratelimit-remaining-tokens': '80000',
      'x-ratelimit-reset-tokens': '6s',
    });
  });
});
