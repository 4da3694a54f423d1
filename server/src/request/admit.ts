import { randomBytes } from 'node:crypto';
import type {
  Charge,
  CompiledPolicy,
  EscalationHop,
  LimitCheck,
  Plan,
  RequestFacts,
} from '@switchyard/engine';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { httpError } from '../errors.ts';
import type { GatewayStats } from '../state/gateway-stats.ts';
import {
  type ProtectionStoreSet,
  type ProtectionStores,
  SharedStoreUnavailableError,
} from '../state/protection-stores.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';
import type { TakeResult } from '../stores/limit-store.ts';
import type { ReserveResult } from '../stores/quota-store.ts';
import { costOf, type LevelUsage } from './account.ts';
import { keyCapCharges } from './key-caps.ts';
import { rateLimitHeaders } from './rate-limit-headers.ts';
import type { RequestTrail } from './request-trail.ts';

/** What admission works with (a slice of the gateway context). */
export interface AdmissionContext {
  protection: ProtectionStores;
  clock: Clock;
  logger: Logger;
  stats: GatewayStats;
}

/** What one request was admitted with: its rate-limit headers and its reservations, to settle once. */
export interface Admission {
  /** `x-ratelimit-*` headers for the response (empty when the tenant has no rate limits). */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Reserves an escalation hop's own charges (the plan's and the key's caps, bounded by the hop's
   * model) before the hop is tried; false when a quota refuses, and the hop is not taken.
   */
  reserveHop(hop: EscalationHop, level: number): Promise<boolean>;
  /**
   * Settles every reservation exactly once: reservation `i` (0 for the plan, `i` for hop `i`) with
   * `levels[i]` (what that level used, at its deployment's prices), or releases it when the level
   * used nothing; then corrects token-rate buckets from the upper bound taken to the tokens used.
   * Never throws: a store failure is logged and counted, and the lease reclaims the reservation.
   */
  settle(levels: readonly (LevelUsage | undefined)[]): Promise<void>;
}

/** Inputs of `admitRequest`. */
export interface AdmissionRequest {
  plan: Plan;
  policy: CompiledPolicy;
  key: ApiKeyRecord;
  facts: RequestFacts;
  trail: RequestTrail;
}

/**
 * Reservation ids are the gateway's own, never the request id: a client may send the same
 * `x-request-id` twice, and a store refusing a duplicate id must not look like a store outage.
 */
const reservationTag = randomBytes(6).toString('hex');
let reservationSeq = 0;

const admittedFreely: Admission = Object.freeze({
  headers: Object.freeze({}),
  reserveHop: async () => true,
  settle: async () => undefined,
});

/**
 * The step between deciding and executing: takes the plan's rate-limit buckets (all or none;
 * 429 `rate_limit_exceeded` with `Retry-After` and `x-ratelimit-*`), then reserves the plan's
 * charges plus the key's caps (all or none; 429 `quota_exceeded`, `Retry-After` until the window
 * resets; the buckets taken are given back). When the shared store is down the plan's
 * `onStoreFailure` decides: local limits (`open`) or 503 `limit_store_unavailable` (`closed`).
 * The returned admission settles what was reserved, on every path, exactly once.
 */
export async function admitRequest(ctx: AdmissionContext, request: AdmissionRequest): Promise<Admission> {
  const { plan, key, facts, trail } = request;
  const now = ctx.clock.now();
  const capCharges = keyCapCharges(key, plan.candidates, facts.inputTokens, plan.maxOutputTokens, now);
  const charges = capCharges.length === 0 ? plan.charges : [...plan.charges, ...capCharges];
  if (plan.limits.length === 0 && charges.length === 0) return admittedFreely;
  const reservationId = `res_${reservationTag}_${(reservationSeq++).toString(36)}`;
  const leaseMs = leaseFor(plan);
  let outcome: {
    value: { take: TakeResult | undefined; reserve: ReserveResult | undefined };
    set: ProtectionStoreSet;
  };
  try {
    outcome = await ctx.protection.run(plan.onStoreFailure, async (set) => {
      const take = plan.limits.length > 0 ? await set.limits.take(plan.limits, now) : undefined;
      if (take && !take.ok) return { take, reserve: undefined };
      try {
        const reserve =
          charges.length > 0 ? await set.quotas.reserve(charges, reservationId, leaseMs, now) : undefined;
        return { take, reserve };
      } catch (err) {
        // The fallback stores will take again: give back what this store took.
        if (take?.ok) await refundAll(set, plan.limits, now).catch(() => undefined);
        throw err;
      }
    });
  } catch (err) {
    if (!(err instanceof SharedStoreUnavailableError)) throw err;
    trail.denied = true;
    throw httpError('limit_store_unavailable', { tenant: facts.tenant }, { retryAfterMs: 1000 });
  }
  const { set } = outcome;
  const { take, reserve } = outcome.value;
  trail.storeFallback = set.local && ctx.protection.isShared ? true : undefined;
  if (take && !take.ok) {
    trail.denied = true;
    const l = take.limit;
    trail.rejection = { kind: 'rateLimit', id: l.limitId };
    const headers = rateLimitHeaders([l], [{ remaining: take.remaining, resetAfterMs: take.retryAfterMs }]);
    throw httpError(
      'rate_limit_exceeded',
      {
        detail: `rate limit \`${l.limitId}\` of tenant \`${facts.tenant}\` reached; retry after ${Math.max(1, Math.ceil(take.retryAfterMs / 1000))} s`,
      },
      { retryAfterMs: take.retryAfterMs, headers },
    );
  }
  const headers = take?.ok ? rateLimitHeaders(plan.limits, take.buckets) : {};
  if (reserve && !reserve.ok) {
    trail.denied = true;
    trail.rejection = { kind: 'quota', id: reserve.charge.quotaId };
    if (take?.ok)
      await refundAll(set, plan.limits, now).catch((err: unknown) => settleFailed(ctx, trail, err));
    throw quotaRefusal(reserve.charge, facts.tenant, now, headers);
  }

  // Reservations by level: 0 for the plan, i for escalation hop i.
  const reservations: (readonly Charge[] | undefined)[] = [reserve ? charges : undefined];
  let settled = false;
  return {
    headers,
    async reserveHop(hop, level) {
      const at = ctx.clock.now();
      const hopOut =
        facts.maxTokens ?? request.policy.models.get(hop.to)?.spec.maxOutputTokens ?? plan.maxOutputTokens;
      const hopCharges = [
        ...hop.charges,
        ...keyCapCharges(key, hop.candidates, facts.inputTokens, hopOut, at),
      ];
      if (hopCharges.length === 0) return true;
      try {
        const result = await set.quotas.reserve(hopCharges, `${reservationId}#${level}`, leaseMs, at);
        if (!result.ok) {
          trail.hopRefused = `${hop.to}: ${result.charge.quotaId}`;
          return false;
        }
      } catch (err) {
        // The store failed mid-request: escalate only when the tenant fails open.
        settleFailed(ctx, trail, err);
        if (plan.onStoreFailure === 'closed') return false;
        return true;
      }
      reservations[level] = hopCharges;
      return true;
    },
    async settle(levels) {
      if (settled) return;
      settled = true;
      const at = ctx.clock.now();
      let tokensUsed = 0;
      const work: Promise<unknown>[] = [];
      reservations.forEach((reserved, level) => {
        const used = levels[level];
        if (used?.usage) tokensUsed += used.usage.prompt_tokens + used.usage.completion_tokens;
        if (!reserved) return;
        const id = level === 0 ? reservationId : `${reservationId}#${level}`;
        work.push(
          (used
            ? set.quotas.settle(id, actualAmounts(reserved, used), at)
            : set.quotas.release(id, at)
          ).catch((err: unknown) => settleFailed(ctx, trail, err)),
        );
      });
      for (const check of plan.limits) {
        if (check.unit !== 'tokens') continue;
        const diff = check.cost - tokensUsed;
        if (diff === 0) continue;
        work.push(
          (diff > 0 ? set.limits.refund(check, diff, at) : set.limits.charge(check, -diff, at)).catch(
            (err: unknown) => settleFailed(ctx, trail, err),
          ),
        );
      }
      await Promise.all(work);
    },
  };
}

/** What each reserved counter is settled to: tokens used, USD at the level's deployment prices, or one request. */
function actualAmounts(charges: readonly Charge[], used: LevelUsage): Record<string, number> {
  const out: Record<string, number> = {};
  const usage = used.usage;
  const tokens = usage ? usage.prompt_tokens + usage.completion_tokens : 0;
  const usd = usage && used.deployment ? costOf(usage, used.deployment) : 0;
  for (const c of charges) out[c.key] = c.unit === 'tokens' ? tokens : c.unit === 'usd' ? usd : 1;
  return out;
}

/**
 * How long a reservation holds its amount if it is never settled (a crashed gateway): long enough
 * for every try of every candidate at the policy's total timeout, plus a minute.
 */
function leaseFor(plan: Plan): number {
  const { timeouts, retry } = plan.resilience;
  const tries = (retry.attempts + 1) * Math.max(1, plan.candidates.length);
  return Math.min(3_600_000, timeouts.totalMs * tries + 60_000);
}

function refundAll(set: ProtectionStoreSet, limits: readonly LimitCheck[], nowMs: number): Promise<unknown> {
  return Promise.all(limits.map((l) => set.limits.refund(l, l.cost, nowMs)));
}

function settleFailed(ctx: AdmissionContext, trail: RequestTrail, err: unknown): void {
  ctx.stats.settleFailures++;
  ctx.logger.warn(
    { err, reqId: trail.requestId },
    'settling usage failed; the reservation is reclaimed when its lease ends',
  );
}

function quotaRefusal(charge: Charge, tenant: string, nowMs: number, headers: Record<string, string>) {
  const detail = charge.quotaId.startsWith('key-cap:')
    ? `the api key's cap of ${charge.limit} ${charge.unit} per ${charge.window} is used up until the window resets`
    : `quota \`${charge.quotaId}\` of tenant \`${tenant}\` (${charge.limit} ${charge.unit} per ${charge.window}) is used up until the window resets`;
  return httpError('quota_exceeded', { detail }, { retryAfterMs: charge.windowEndMs - nowMs, headers });
}
