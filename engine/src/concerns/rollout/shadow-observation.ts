import type { Decision, Deployment } from '../../model/decision.ts';
import type { ShadowStats } from './rollout-analysis.ts';

/** Tokens a request used, as the upstream reported them (or the gateway estimated them). */
export interface ShadowUsage {
  inputTokens: number;
  outputTokens: number;
}

function usd(usage: ShadowUsage, deployment: Deployment | undefined): number {
  if (!deployment) return 0;
  return (
    (usage.inputTokens * deployment.price.inPerMTok + usage.outputTokens * deployment.price.outPerMTok) / 1e6
  );
}

/**
 * What one request adds to a shadow step's tally: the stable policy's decision (the one served)
 * and the candidate's decision for the same facts (never executed). Re-routed means another route
 * or logical model; a new denial is a request stable served and the candidate would refuse; the
 * predicted cost prices the request's actual usage at the candidate's first deployment.
 */
export function observeShadow(stable: Decision, candidate: Decision, usage?: ShadowUsage): ShadowStats {
  const served = stable.kind === 'plan';
  const rerouted =
    served &&
    candidate.kind === 'plan' &&
    (stable.routeId !== candidate.routeId || stable.target !== candidate.target);
  const priced = usage && served && candidate.kind === 'plan';
  return {
    requests: 1,
    rerouted: rerouted ? 1 : 0,
    newDenials: served && candidate.kind === 'deny' ? 1 : 0,
    stableCostUsd: priced ? usd(usage, stable.candidates[0]) : 0,
    predictedCostUsd: priced ? usd(usage, candidate.candidates[0]) : 0,
  };
}

/** The sum of two shadow tallies. */
export function addShadowStats(a: ShadowStats, b: ShadowStats): ShadowStats {
  return {
    requests: a.requests + b.requests,
    rerouted: a.rerouted + b.rerouted,
    newDenials: a.newDenials + b.newDenials,
    stableCostUsd: a.stableCostUsd + b.stableCostUsd,
    predictedCostUsd: a.predictedCostUsd + b.predictedCostUsd,
  };
}
