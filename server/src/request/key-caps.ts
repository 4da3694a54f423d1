import { type Charge, type Deployment, quotaWindowBounds } from '@switchyard/engine';
import { capLimit, capUnit } from '../stores/key-cap.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';

/** Upper bound of a request's cost over the deployments that may serve it (the dearest one). */
export function costUpperBound(
  deployments: readonly Deployment[],
  inputTokens: number,
  outputTokens: number,
): number {
  let max = 0;
  for (const d of deployments) {
    const usd = (inputTokens * d.price.inPerMTok + outputTokens * d.price.outPerMTok) / 1e6;
    if (usd > max) max = usd;
  }
  return max;
}

/**
 * The key's own caps as charges, reserved and settled beside the tenant's quotas: the same
 * reserve-then-settle, keyed `q|key-cap|<key id>|<unit>/<window>|<window start>` so a cap never
 * shares a counter with a policy quota. Amounts are the request's upper bound over `candidates`.
 */
export function keyCapCharges(
  key: ApiKeyRecord,
  candidates: readonly Deployment[],
  inputTokens: number,
  outputTokens: number,
  nowMs: number,
): Charge[] {
  const caps = key.caps;
  if (!caps || caps.length === 0) return [];
  return caps.map((cap) => {
    const unit = capUnit(cap);
    const [start, end] = quotaWindowBounds(cap.window, nowMs);
    return {
      key: `q|key-cap|${key.id}|${unit}/${cap.window}|${start}`,
      quotaId: `key-cap:${unit}/${cap.window}`,
      per: 'key',
      unit,
      window: cap.window,
      windowStartMs: start,
      windowEndMs: end,
      limit: capLimit(cap),
      amount:
        unit === 'requests'
          ? 1
          : unit === 'tokens'
            ? inputTokens + outputTokens
            : costUpperBound(candidates, inputTokens, outputTokens),
    };
  });
}
