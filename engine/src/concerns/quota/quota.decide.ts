import type { CompiledQuota, CompiledTenant } from '../../model/compiled-policy.ts';
import type { Charge, Deployment } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';
import type { QuotaWindow } from './quota.schema.ts';

/** Start of the calendar window (UTC) containing `nowMs`. */
function windowStart(window: QuotaWindow, nowMs: number): number {
  if (window === 'minute') return nowMs - (nowMs % 60_000);
  if (window === 'hour') return nowMs - (nowMs % 3_600_000);
  if (window === 'day') return nowMs - (nowMs % 86_400_000);
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** End (exclusive) of the calendar window that starts at `start`. */
function windowEnd(window: QuotaWindow, start: number): number {
  if (window === 'minute') return start + 60_000;
  if (window === 'hour') return start + 3_600_000;
  if (window === 'day') return start + 86_400_000;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Start and end (exclusive) of the calendar window (UTC) containing `nowMs`. */
export function quotaWindowBounds(window: QuotaWindow, nowMs: number): [number, number] {
  const start = windowStart(window, nowMs);
  return [start, windowEnd(window, start)];
}

/** Upper bound of a request's cost in USD over the given deployments (the most expensive one). */
export function costUpperBound(
  deployments: readonly Deployment[],
  inputTokens: number,
  outputTokens: number,
): number {
  let max = 0;
  for (const d of deployments) {
    const c = (inputTokens * d.price.inPerMTok + outputTokens * d.price.outPerMTok) / 1e6;
    if (c > max) max = c;
  }
  return max;
}

/** Bound on memo entries per quota, limit or cache rule: past it the memo starts over. */
export const memoLimit = 4096;

/** The current window of a quota for one scope value, from the memo when still current. */
function currentWindow(q: CompiledQuota, tenant: string, scope: string, nowMs: number) {
  let m = q.memo.get(scope);
  if (m === undefined || nowMs >= m.end || nowMs < m.start) {
    const start = windowStart(q.window, nowMs);
    if (q.memo.size >= memoLimit) q.memo.clear();
    m = {
      start,
      end: windowEnd(q.window, start),
      key: `q|${tenant}|${q.id}|${scope}|${start}`,
      fixed: undefined,
    };
    q.memo.set(scope, m);
  }
  return m;
}

/** The charge that refused a request, if any, and every charge to reserve. */
export interface QuotaOutcome {
  charges: Charge[];
  exceeded?: Charge | undefined;
}

/** The same reservations for an escalation hop: same keys, amounts bounded by the hop's model. */
export function chargesForHop(
  charges: readonly Charge[],
  candidates: readonly Deployment[],
  inputTokens: number,
  outputTokens: number,
): Charge[] {
  return charges.map((c) =>
    c.unit === 'requests'
      ? c
      : {
          ...c,
          amount:
            c.unit === 'tokens'
              ? inputTokens + outputTokens
              : costUpperBound(candidates, inputTokens, outputTokens),
        },
  );
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
  const quotas = tenant.quotas;
  const charges: Charge[] = [];
  if (quotas.length === 0) return { charges };
  let exceeded: Charge | undefined;
  const used = snapshot.quotaUsed;
  for (const q of quotas) {
    const m = currentWindow(q, tenant.name, q.per === 'tenant' ? tenant.name : facts.keyId, env.nowMs);
    let charge: Charge;
    if (q.unit === 'requests') {
      // A request always reserves 1: the charge is the same object for the whole window.
      charge = m.fixed ??= Object.freeze({
        key: m.key,
        quotaId: q.id,
        per: q.per,
        unit: q.unit,
        window: q.window,
        windowStartMs: m.start,
        windowEndMs: m.end,
        limit: q.limit,
        amount: 1,
      });
    } else {
      const amount =
        q.unit === 'tokens'
          ? facts.inputTokens + outputTokens
          : costUpperBound(candidates, facts.inputTokens, outputTokens);
      charge = {
        key: m.key,
        quotaId: q.id,
        per: q.per,
        unit: q.unit,
        window: q.window,
        windowStartMs: m.start,
        windowEndMs: m.end,
        limit: q.limit,
        amount,
      };
    }
    charges.push(charge);
    if (exceeded === undefined && used !== undefined && (used[charge.key] ?? 0) + charge.amount > q.limit)
      exceeded = charge;
  }
  return { charges, exceeded };
}
