import type { LimitCheck } from '@switchyard/engine';
import type { BucketAfterTake } from '../stores/limit-store.ts';

/** A duration as OpenAI writes `x-ratelimit-reset-*`: `250ms`, `1.5s`, `6m0s`, `1h2m3s`. */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total < 1000) return `${total}ms`;
  if (total < 60_000) return `${Number((total / 1000).toFixed(3))}s`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.round((total % 60_000) / 1000);
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}

/** One bucket's state as the headers show it. */
interface Shown {
  check: LimitCheck;
  remaining: number;
  resetAfterMs: number;
}

/**
 * OpenAI's rate-limit headers (`x-ratelimit-limit-requests`, `-remaining-requests`,
 * `-reset-requests` and the `-tokens` variants) for the buckets a request took from: per unit, the
 * bucket with the fewest tokens left, since it is the one that refuses first.
 */
export function rateLimitHeaders(
  checks: readonly LimitCheck[],
  buckets: readonly Pick<BucketAfterTake, 'remaining' | 'resetAfterMs'>[],
): Record<string, string> {
  const tightest: Partial<Record<LimitCheck['unit'], Shown>> = {};
  checks.forEach((check, i) => {
    const b = buckets[i];
    if (!b) return;
    const shown = tightest[check.unit];
    if (!shown || b.remaining < shown.remaining)
      tightest[check.unit] = { check, remaining: b.remaining, resetAfterMs: b.resetAfterMs };
  });
  const headers: Record<string, string> = {};
  for (const unit of ['requests', 'tokens'] as const) {
    const shown = tightest[unit];
    if (!shown) continue;
    headers[`x-ratelimit-limit-${unit}`] = String(shown.check.headerLimit);
    headers[`x-ratelimit-remaining-${unit}`] = String(Math.max(0, Math.floor(shown.remaining)));
    headers[`x-ratelimit-reset-${unit}`] = formatResetDuration(shown.resetAfterMs);
  }
  return headers;
}
