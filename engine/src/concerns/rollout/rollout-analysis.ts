import type { RolloutSpec } from './rollout.schema.ts';

/** What one arm (stable or candidate) did during a step's window, from ledger aggregates. */
export interface ArmStats {
  requests: number;
  /** Requests that ended in an error or a timeout. */
  errors: number;
  /** Requests that took at least one escalation hop. */
  escalated: number;
  costUsd: number;
  /** Nearest-rank p95 latency of the served requests; null when there were none. */
  latencyP95Ms: number | null;
}

/**
 * What the shadow step saw: each request decided by both policies (the stable one served it, the
 * candidate's decision was only recorded), summed over the step's window.
 */
export interface ShadowStats {
  requests: number;
  /** Requests the candidate would route to another route, model or first deployment. */
  rerouted: number;
  /** Requests the stable policy served and the candidate would deny. */
  newDenials: number;
  /** Cost of the requests as served (stable prices). */
  stableCostUsd: number;
  /** Cost of the same usage at the prices of what the candidate would have picked. */
  predictedCostUsd: number;
}

/** An arm with nothing observed yet. */
export const emptyArmStats: ArmStats = Object.freeze({
  requests: 0,
  errors: 0,
  escalated: 0,
  costUsd: 0,
  latencyP95Ms: null,
});

/** A shadow tally with nothing observed yet. */
export const emptyShadowStats: ShadowStats = Object.freeze({
  requests: 0,
  rerouted: 0,
  newDenials: 0,
  stableCostUsd: 0,
  predictedCostUsd: 0,
});

/** What a step's analysis is given: both arms in the step's window, plus the shadow tally in a shadow step. */
export interface StepObservation {
  stable: ArmStats;
  candidate: ArmStats;
  shadow?: ShadowStats | undefined;
}

/** The name of an `abortIf` threshold. */
export type AbortMetric = keyof RolloutSpec['abortIf'];

/** One `abortIf` threshold compared with what was observed. */
export interface AbortCheck {
  metric: AbortMetric;
  /** The observed value (a delta, ratio or share, as the threshold is written). */
  actual: number;
  limit: number;
  breached: boolean;
}

/** The analysis of one step: the checks that could be judged and whether any was breached. */
export interface StepAnalysis {
  shadow: boolean;
  /** Candidate requests (shadow step: requests decided by both policies) seen in the window. */
  candidateRequests: number;
  /** Whether enough requests were seen to judge the thresholds at all (see `abortEvidence`). */
  judged: boolean;
  checks: AbortCheck[];
  breaches: AbortCheck[];
}

/**
 * Candidate requests a step needs before any `abortIf` threshold is judged: a single early failure
 * should not roll back a healthy candidate, but a broken one must not keep serving for long either.
 * `minRequests` when that is smaller.
 */
export function abortEvidence(minRequests: number): number {
  return Math.max(1, Math.min(minRequests, 10));
}

const rate = (n: number, d: number) => (d > 0 ? n / d : 0);

/**
 * Compares the candidate with the stable arm over one step's window against the plan's `abortIf`
 * thresholds. Canary steps check the error-rate and escalation-rate deltas, the p95 latency ratio
 * and the cost-per-request ratio; ratios are only judged while the stable arm has traffic to
 * compare with (at 100 % the deltas compare with zero). A shadow step checks the share of requests
 * the candidate would re-route, the share it would newly deny, and its predicted cost per request.
 */
export function analyzeRolloutStep(
  observation: StepObservation,
  abortIf: RolloutSpec['abortIf'],
  options: { shadow: boolean; minRequests: number },
): StepAnalysis {
  const checks: AbortCheck[] = [];
  const add = (metric: AbortMetric, actual: number) => {
    const limit = abortIf[metric];
    checks.push({ metric, actual, limit, breached: actual > limit });
  };
  if (options.shadow) {
    const s = observation.shadow ?? emptyShadowStats;
    const judged = s.requests >= abortEvidence(options.minRequests);
    if (judged) {
      add('rerouteShare', rate(s.rerouted, s.requests));
      add('newDenialShare', rate(s.newDenials, s.requests));
      if (s.stableCostUsd > 0) add('costRatio', s.predictedCostUsd / s.stableCostUsd);
    }
    return finish(true, s.requests, judged, checks);
  }
  const { stable, candidate } = observation;
  const judged = candidate.requests >= abortEvidence(options.minRequests);
  if (judged) {
    add('errorRateDelta', rate(candidate.errors, candidate.requests) - rate(stable.errors, stable.requests));
    add(
      'escalationRateDelta',
      rate(candidate.escalated, candidate.requests) - rate(stable.escalated, stable.requests),
    );
    if (stable.requests > 0) {
      if (candidate.latencyP95Ms !== null && stable.latencyP95Ms !== null && stable.latencyP95Ms > 0)
        add('p95LatencyRatio', candidate.latencyP95Ms / stable.latencyP95Ms);
      const stableCost = rate(stable.costUsd, stable.requests);
      if (stableCost > 0) add('costRatio', rate(candidate.costUsd, candidate.requests) / stableCost);
    }
  }
  return finish(false, candidate.requests, judged, checks);
}

function finish(
  shadow: boolean,
  candidateRequests: number,
  judged: boolean,
  checks: AbortCheck[],
): StepAnalysis {
  return { shadow, candidateRequests, judged, checks, breaches: checks.filter((c) => c.breached) };
}

/** One line per breached threshold, e.g. `errorRateDelta 1.000 > 0.010`. */
export function describeBreaches(analysis: StepAnalysis): string {
  return analysis.breaches.map((b) => `${b.metric} ${b.actual.toFixed(3)} > ${b.limit}`).join(', ');
}
