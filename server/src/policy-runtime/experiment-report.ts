import type { LedgerStore } from '../stores/ledger-store.ts';

/** One arm of an experiment over a time range, from the ledger. */
export interface ExperimentArmReport {
  arm: string;
  requests: number;
  errors: number;
  errorRate: number;
  costUsd: number;
  costPerRequestUsd: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  inputTokens: number;
  outputTokens: number;
}

/** An A/B experiment's arms side by side. */
export interface ExperimentReport {
  id: string;
  fromMs: number;
  toMs: number;
  arms: ExperimentArmReport[];
}

/**
 * Per-arm requests, errors, latency and cost of an experiment, from the ledger rows grouped by
 * `arm` (the request path writes `experimentArm` as `<experiment id>/<arm>`), ordered by arm.
 */
export async function experimentReport(
  ledger: LedgerStore,
  id: string,
  range: { fromMs: number; toMs: number },
): Promise<ExperimentReport> {
  const prefix = `${id}/`;
  const rows = await ledger.query({ groupBy: ['arm'], fromMs: range.fromMs, toMs: range.toMs });
  const arms = rows
    .filter((r) => typeof r.group.arm === 'string' && r.group.arm.startsWith(prefix))
    .map((r) => ({
      arm: (r.group.arm as string).slice(prefix.length),
      requests: r.requests,
      errors: r.errors,
      errorRate: r.requests > 0 ? r.errors / r.requests : 0,
      costUsd: r.costUsd,
      costPerRequestUsd: r.requests > 0 ? r.costUsd / r.requests : 0,
      latencyP50Ms: r.latencyP50Ms,
      latencyP95Ms: r.latencyP95Ms,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
    }));
  return { id, fromMs: range.fromMs, toMs: range.toMs, arms };
}
