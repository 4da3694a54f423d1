import type { Deployment } from '@switchyard/engine';
import type { Usage } from '../providers/chat-types.ts';
import type { LedgerOutcome, LedgerRow } from '../stores/ledger-store.ts';
import type { RequestTrail } from './request-trail.ts';

/** USD cost of a usage at a deployment's prices (cached prompt tokens at the cached-input price). */
export function costOf(
  usage: Pick<Usage, 'prompt_tokens' | 'completion_tokens' | 'prompt_tokens_details'>,
  deployment: Deployment,
): number {
  const cached = Math.min(usage.prompt_tokens, usage.prompt_tokens_details?.cached_tokens ?? 0);
  const { inPerMTok, outPerMTok, cachedInPerMTok } = deployment.price;
  const usd =
    ((usage.prompt_tokens - cached) * inPerMTok +
      cached * cachedInPerMTok +
      usage.completion_tokens * outPerMTok) /
    1e6;
  // Keep the log readable: micro-dollar precision is plenty for a per-request figure.
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * What one level of a plan (the candidates, or one escalation hop) used: the deployment whose
 * prices apply (the one that answered, or the last one tried) and its usage, reported by the
 * upstream or counted by the gateway (`estimated`). No usage: nothing billable was produced.
 */
export interface LevelUsage {
  deployment?: Deployment | undefined;
  usage?: Usage | undefined;
  estimated: boolean;
}

/**
 * Step 5 of the request path: what the request used and cost over every level it went through
 * (an escalated request pays for the answer it escalated away from too), attached to its trail,
 * and so to its log line and ledger row. Settling the reservations is the admission's `settle`.
 */
export function accountRequest(
  trail: RequestTrail,
  served: Deployment | undefined,
  levels: readonly (LevelUsage | undefined)[],
): void {
  if (served) {
    trail.deploymentId = served.id;
    trail.providerType = served.provider.type;
  }
  let usage: Usage | undefined;
  let cost = 0;
  let estimated = false;
  for (const level of levels) {
    if (!level?.usage) continue;
    const u = level.usage;
    usage ??= { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    usage.prompt_tokens += u.prompt_tokens;
    usage.completion_tokens += u.completion_tokens;
    usage.total_tokens += u.prompt_tokens + u.completion_tokens;
    const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
    if (cached > 0)
      usage.prompt_tokens_details = {
        cached_tokens: (usage.prompt_tokens_details?.cached_tokens ?? 0) + cached,
      };
    if (level.deployment) cost += costOf(u, level.deployment);
    estimated ||= level.estimated;
  }
  if (!usage) return;
  trail.usage = usage;
  trail.costUsd = Math.round(cost * 1e9) / 1e9;
  trail.estimated = estimated || undefined;
}

/** How the ledger names the way a request ended. */
export function ledgerOutcomeOf(trail: RequestTrail, status: number): LedgerOutcome {
  if (trail.outcome === 'cancelled') return 'cancelled';
  if (trail.denied) return 'denied';
  if (trail.errorCode === 'upstream_timeout') return 'timeout';
  if (trail.outcome === 'error' || status >= 400) return 'error';
  return 'ok';
}

/** Status recorded for a request the client abandoned (nginx's convention). */
export const clientClosedStatus = 499;

/**
 * The usage ledger row of a finished request, or undefined for requests that are not proxied
 * model calls (admin, health, model lists) or that never got past authentication (no tenant).
 * A stream that ended in an error event records the error's status, not the 200 it began with.
 */
export function ledgerRowOf(
  trail: RequestTrail,
  httpStatus: number,
  endedAtMs: number,
): LedgerRow | undefined {
  if (trail.endpoint === undefined || trail.tenant === undefined || trail.keyId === undefined)
    return undefined;
  const outcome = ledgerOutcomeOf(trail, httpStatus);
  const usage = trail.usage;
  // Every attempt executePlan recorded plus the retries inside them; hops are escalations, not retries.
  const upstreamCalls = trail.attempts.length + trail.retries;
  return {
    time: trail.startedAtMs,
    requestId: trail.requestId,
    rowId: trail.rowId,
    tenant: trail.tenant,
    keyId: trail.keyId,
    routeId: trail.routeId,
    logicalModel: trail.target,
    deployment: trail.deploymentId,
    policyVersion: trail.policy ?? '',
    experimentArm: trail.experimentArm,
    inputTokens: usage?.prompt_tokens ?? 0,
    outputTokens: usage?.completion_tokens ?? 0,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    costUsd: trail.costUsd ?? 0,
    estimated: trail.estimated === true,
    latencyMs: Math.max(0, endedAtMs - trail.startedAtMs),
    ttftMs: trail.firstTokenAtMs === undefined ? undefined : trail.firstTokenAtMs - trail.startedAtMs,
    status: outcome === 'cancelled' ? clientClosedStatus : (trail.errorStatus ?? httpStatus),
    outcome,
    retries: Math.max(0, upstreamCalls - 1 - trail.escalations),
    escalations: trail.escalations,
    cacheStatus: trail.cacheStatus ?? 'bypass',
    savedCostUsd: trail.savedCostUsd ?? 0,
  };
}
