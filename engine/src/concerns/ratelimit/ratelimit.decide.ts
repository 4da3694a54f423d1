import type { CompiledTenant } from '../../model/compiled-policy.ts';
import type { LimitCheck } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';

/** The buckets a request takes from, and the first one the snapshot says is short, with the wait. */
export interface RateLimitOutcome {
  limits: LimitCheck[];
  exceeded?: { limit: LimitCheck; retryAfterMs: number } | undefined;
}

/**
 * The token buckets a request must take from under its tenant's rate limits, refilled to
 * `env.nowMs` from the snapshot's last level, and whether any is too low for this request.
 */
export function planLimits(
  tenant: CompiledTenant,
  facts: RequestFacts,
  routeId: string,
  target: string,
  outputTokens: number,
  snapshot: StateSnapshot,
  env: Env,
): RateLimitOutcome {
  const specs = tenant.spec.rateLimits;
  if (specs.length === 0) return { limits: [] };
  const limits: LimitCheck[] = [];
  let exceeded: RateLimitOutcome['exceeded'];
  for (const r of specs) {
    const scope = r.per === 'tenant' ? tenant.name : r.per === 'key' ? facts.keyId : r.per === 'route' ? routeId : r.per === 'model' ? target : facts.endpoint;
    const isTokens = r.tpm !== undefined;
    const perSec = r.rps ?? (r.rpm ?? r.tpm ?? 0) / 60;
    const headerLimit = r.rps ?? r.rpm ?? r.tpm ?? 0;
    const capacity = r.burst ?? headerLimit;
    const check: LimitCheck = {
      key: `rl|${tenant.name}|${r.id}|${scope}`,
      limitId: r.id!,
      per: r.per,
      unit: isTokens ? 'tokens' : 'requests',
      capacity,
      refillPerSec: perSec,
      cost: isTokens ? facts.inputTokens + outputTokens : 1,
      headerLimit,
    };
    limits.push(check);
    if (exceeded) continue;
    const level = snapshot.buckets?.[check.key];
    const tokens = level ? Math.min(capacity, level.tokens + (Math.max(0, env.nowMs - level.atMs) / 1000) * perSec) : capacity;
    if (tokens < check.cost) {
      const wait = check.cost > capacity ? Number.POSITIVE_INFINITY : ((check.cost - tokens) / perSec) * 1000;
      exceeded = { limit: check, retryAfterMs: Number.isFinite(wait) ? Math.ceil(wait) : 60_000 };
    }
  }
  return { limits, exceeded };
}
