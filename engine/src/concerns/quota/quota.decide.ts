import type { CompiledTenant } from '../../model/compiled-policy.ts';
import type { Charge, Deployment } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';
import type { QuotaWindow } from './quota.schema.ts';

/** Start and end (exclusive) of the calendar window (UTC) containing `nowMs`. */
export function quotaWindowBounds(window: QuotaWindow, nowMs: number): [number, number] {
  const d = new Date(nowMs);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (window) {
    case 'minute': {
      const s = nowMs - (nowMs % 60_000);
      return [s, s + 60_000];
    }
    case 'hour': {
      const s = nowMs - (nowMs % 3_600_000);
      return [s, s + 3_600_000];
    }
    case 'day': {
      const s = nowMs - (nowMs % 86_400_000);
      return [s, s + 86_400_000];
    }
    default:
      return [Date.UTC(y, mo, 1), Date.UTC(y, mo + 1, 1)];
  }
}

/** Upper bound of a request's cost in USD over the given deployments (the most expensive one). */
export function costUpperBound(deployments: readonly Deployment[], inputTokens: number, outputTokens: number): number {
  let max = 0;
  for (const d of deployments) {
    const c = (inputTokens * d.price.inPerMTok + outputTokens * d.price.outPerMTok) / 1e6;
    if (c > max) max = c;
  }
  return max;
}

/** The charge that refused a request, if any, and every charge to reserve. */
export interface QuotaOutcome {
  charges: Charge[];
  exceeded?: Charge | undefined;
}

/**
 * The reservations a request needs under its tenant's quotas (reserve-then-settle: the upper bound
 * now, actual usage later), and the first quota whose cap the snapshot says it would pass.
 */
export function planCharges(
  tenant: CompiledTenant,
  facts: RequestFacts,
  candidates: readonly Deployment[],
  outputTokens: number,
  snapshot: StateSnapshot,
  env: Env,
): QuotaOutcome {
  const quotas = tenant.spec.quotas;
  if (quotas.length === 0) return { charges: [] };
  const charges: Charge[] = [];
  let exceeded: Charge | undefined;
  for (const q of quotas) {
    const [start, end] = quotaWindowBounds(q.window, env.nowMs);
    const unit = q.tokens !== undefined ? 'tokens' : q.requests !== undefined ? 'requests' : 'usd';
    const limit = q.tokens ?? q.requests ?? q.usd ?? 0;
    const amount = unit === 'tokens' ? facts.inputTokens + outputTokens : unit === 'requests' ? 1 : costUpperBound(candidates, facts.inputTokens, outputTokens);
    const scope = q.per === 'tenant' ? tenant.name : facts.keyId;
    const charge: Charge = {
      key: `q|${tenant.name}|${q.id}|${scope}|${start}`,
      quotaId: q.id!,
      per: q.per,
      unit,
      window: q.window,
      windowStartMs: start,
      windowEndMs: end,
      limit,
      amount,
    };
    charges.push(charge);
    if (exceeded === undefined && (snapshot.quotaUsed?.[charge.key] ?? 0) + amount > limit) exceeded = charge;
  }
  return { charges, exceeded };
}
