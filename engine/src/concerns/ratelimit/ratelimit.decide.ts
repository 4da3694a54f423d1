import type { CompiledLimit, CompiledTenant } from '../../model/compiled-policy.ts';
import type { LimitCheck } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';
import { memoLimit } from '../quota/quota.decide.ts';

/** The buckets a request takes from, and the first one the snapshot says is short, with the wait. */
export interface RateLimitOutcome {
  limits: LimitCheck[];
  exceeded?: { limit: LimitCheck; retryAfterMs: number } | undefined;
}

function checkFor(l: CompiledLimit, tenant: string, scope: string, cost: number): LimitCheck {
  let m = l.memo.get(scope);
  if (m === undefined) {
    if (l.memo.size >= memoLimit) l.memo.clear();
    m = { key: `rl|${tenant}|${l.id}|${scope}`, fixed: undefined };
    l.memo.set(scope, m);
  }
  // A request bucket always takes 1: the check is the same object every time.
  if (l.unit === 'requests' && m.fixed !== undefined) return m.fixed;
  const check: LimitCheck = {
    key: m.key,
    limitId: l.id,
    per: l.per,
    unit: l.unit,
    capacity: l.capacity,
    refillPerSec: l.refillPerSec,
    cost,
    headerLimit: l.headerLimit,
  };
  if (l.unit === 'requests') m.fixed = Object.freeze(check);
  return check;
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
  const specs = tenant.limits;
  const limits: LimitCheck[] = [];
  if (specs.length === 0) return { limits };
  let exceeded: RateLimitOutcome['exceeded'];
  const buckets = snapshot.buckets;
  for (const l of specs) {
    const scope =
      l.per === 'tenant'
        ? tenant.name
        : l.per === 'key'
          ? facts.keyId
          : l.per === 'route'
            ? routeId
            : l.per === 'model'
              ? target
              : facts.endpoint;
    const check = checkFor(l, tenant.name, scope, l.unit === 'tokens' ? facts.inputTokens + outputTokens : 1);
    limits.push(check);
    if (exceeded !== undefined) continue;
    const level = buckets?.[check.key];
    const tokens =
      level === undefined
        ? l.capacity
        : Math.min(l.capacity, level.tokens + (Math.max(0, env.nowMs - level.atMs) / 1000) * l.refillPerSec);
    if (tokens < check.cost) {
      const wait =
        check.cost > l.capacity ? 60_000 : Math.ceil(((check.cost - tokens) / l.refillPerSec) * 1000);
      exceeded = { limit: check, retryAfterMs: wait };
    }
  }
  return { limits, exceeded };
}
