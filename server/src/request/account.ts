import type { Deployment } from '@switchyard/engine';
import type { Usage } from '../providers/chat-types.ts';
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
 * Step 5 of the request path: what the request used and cost, attached to its trail (and so to its
 * log line). Settling quota reservations and the usage ledger join this step later.
 */
export function accountRequest(
  trail: RequestTrail,
  deployment: Deployment,
  usage: Usage | null | undefined,
): void {
  trail.deploymentId = deployment.id;
  if (!usage) return;
  trail.usage = usage;
  trail.costUsd = costOf(usage, deployment);
}
