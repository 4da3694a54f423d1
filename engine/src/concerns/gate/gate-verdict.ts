import type { GateSpec } from './gate.schema.ts';

/** One eval test as one policy did on it. */
export interface GateTestOutcome {
  /** Stable id within its suite (the test's description, else its position). */
  id: string;
  passed: boolean;
  /** USD cost of the request(s) the test made. */
  costUsd: number;
  latencyMs: number;
  /** Why it failed, briefly (assertion message or error). */
  failure?: string | undefined;
  /** The deployment that answered (`x-switchyard-model`), when known. */
  servedBy?: string | undefined;
}

/** One suite's tests as one policy did on them. */
export interface GateSuiteRun {
  suite: string;
  tests: readonly GateTestOutcome[];
}

/** The thresholds of a gate: the policy's `gate:` section plus the latency noise tolerance. */
export interface GateThresholds extends Omit<GateSpec, 'suites'> {
  /**
   * A p95 latency increase smaller than this never fails the gate, whatever the ratio: the gate
   * measures a gateway on a shared machine, where a single scheduling hiccup moves the p95 of a
   * small suite by tens of milliseconds, while a policy change that matters (another model, an
   * extra escalation hop) costs hundreds (default 100 ms).
   */
  latencyToleranceMs?: number | undefined;
}

/** Totals of one policy over one suite. */
export interface GateArmSummary {
  tests: number;
  passed: number;
  /** `passed / tests` (1 for an empty suite). */
  passRate: number;
  costPerRequestUsd: number;
  /** Nearest-rank percentiles of the tests' latencies. */
  latencyP50Ms: number;
  latencyP95Ms: number;
}

/** A test whose outcome differs between baseline and candidate. */
export interface GateTestChange {
  id: string;
  /** `regressed`: passed → failed; `fixed`: failed → passed; `added`/`removed`: only one side ran it. */
  change: 'regressed' | 'fixed' | 'added' | 'removed';
  baseline?: GateTestOutcome | undefined;
  candidate?: GateTestOutcome | undefined;
}

/** The name of a gate check. */
export type GateCheckName = 'minPassRate' | 'maxPassRateDrop' | 'maxCostRatio' | 'maxP95LatencyRatio';

/** One threshold compared with what was measured. */
export interface GateCheck {
  name: GateCheckName;
  pass: boolean;
  actual: number;
  limit: number;
  /** One line, e.g. `pass rate 0.889 < 0.95`. */
  detail: string;
}

/** The verdict on one suite. */
export interface GateSuiteVerdict {
  suite: string;
  pass: boolean;
  baseline: GateArmSummary;
  candidate: GateArmSummary;
  checks: GateCheck[];
  changes: GateTestChange[];
}

/** The gate's verdict on a candidate policy: every suite must pass every check. */
export interface GateVerdict {
  pass: boolean;
  /** `name@version` (or a label) of each side. */
  candidate: string;
  baseline: string;
  thresholds: GateThresholds;
  suites: GateSuiteVerdict[];
  /** One line: what passed or which checks failed. */
  summary: string;
}

/** Nearest rank: the value at rank ⌈p·n⌉ of the sorted values (0 for none), as the ledger computes it. */
export function nearestRankPercentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/** Totals of one policy over one suite. */
export function summarizeGateRun(tests: readonly GateTestOutcome[]): GateArmSummary {
  const passed = tests.filter((t) => t.passed).length;
  const latencies = tests.map((t) => t.latencyMs);
  return {
    tests: tests.length,
    passed,
    passRate: tests.length === 0 ? 1 : passed / tests.length,
    costPerRequestUsd: tests.length === 0 ? 0 : tests.reduce((s, t) => s + t.costUsd, 0) / tests.length,
    latencyP50Ms: nearestRankPercentile(latencies, 0.5),
    latencyP95Ms: nearestRankPercentile(latencies, 0.95),
  };
}

function compareTests(
  baseline: readonly GateTestOutcome[],
  candidate: readonly GateTestOutcome[],
): GateTestChange[] {
  const before = new Map(baseline.map((t) => [t.id, t]));
  const after = new Map(candidate.map((t) => [t.id, t]));
  const changes: GateTestChange[] = [];
  for (const [id, b] of before) {
    const c = after.get(id);
    if (!c) changes.push({ id, change: 'removed', baseline: b });
    else if (b.passed && !c.passed) changes.push({ id, change: 'regressed', baseline: b, candidate: c });
    else if (!b.passed && c.passed) changes.push({ id, change: 'fixed', baseline: b, candidate: c });
  }
  for (const [id, c] of after) if (!before.has(id)) changes.push({ id, change: 'added', candidate: c });
  return changes;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(3));

function judgeSuite(
  suite: string,
  baselineTests: readonly GateTestOutcome[],
  candidateTests: readonly GateTestOutcome[],
  t: GateThresholds,
): GateSuiteVerdict {
  const baseline = summarizeGateRun(baselineTests);
  const candidate = summarizeGateRun(candidateTests);
  const checks: GateCheck[] = [];
  checks.push({
    name: 'minPassRate',
    pass: candidate.passRate >= t.minPassRate,
    actual: candidate.passRate,
    limit: t.minPassRate,
    detail: `pass rate ${fmt(candidate.passRate)} ${candidate.passRate >= t.minPassRate ? '≥' : '<'} ${t.minPassRate}`,
  });
  const drop = baseline.passRate - candidate.passRate;
  // A tiny epsilon keeps a drop that equals the limit (in decimal) from failing on float rounding.
  const dropOk = drop <= t.maxPassRateDrop + 1e-9;
  checks.push({
    name: 'maxPassRateDrop',
    pass: dropOk,
    actual: drop,
    limit: t.maxPassRateDrop,
    detail: `pass rate drop ${fmt(drop)} ${dropOk ? '≤' : '>'} ${t.maxPassRateDrop}`,
  });
  if (baseline.costPerRequestUsd > 0) {
    const ratio = candidate.costPerRequestUsd / baseline.costPerRequestUsd;
    const ok = ratio <= t.maxCostRatio + 1e-9;
    checks.push({
      name: 'maxCostRatio',
      pass: ok,
      actual: ratio,
      limit: t.maxCostRatio,
      detail: `cost per request ×${fmt(ratio)} ${ok ? '≤' : '>'} ×${t.maxCostRatio}`,
    });
  }
  if (baseline.latencyP95Ms > 0) {
    const ratio = candidate.latencyP95Ms / baseline.latencyP95Ms;
    const tolerance = t.latencyToleranceMs ?? 100;
    const ok =
      ratio <= t.maxP95LatencyRatio + 1e-9 || candidate.latencyP95Ms - baseline.latencyP95Ms < tolerance;
    checks.push({
      name: 'maxP95LatencyRatio',
      pass: ok,
      actual: ratio,
      limit: t.maxP95LatencyRatio,
      detail: `p95 latency ×${fmt(ratio)} ${ratio <= t.maxP95LatencyRatio ? '≤' : '>'} ×${t.maxP95LatencyRatio}${ok && ratio > t.maxP95LatencyRatio ? ` (within ${tolerance} ms tolerance)` : ''}`,
    });
  }
  return {
    suite,
    pass: checks.every((c) => c.pass),
    baseline,
    candidate,
    checks,
    changes: compareTests(baselineTests, candidateTests),
  };
}

/** What `judgeGate` compares. */
export interface GateInput {
  candidate: { label: string; runs: readonly GateSuiteRun[] };
  baseline: { label: string; runs: readonly GateSuiteRun[] };
  thresholds: GateThresholds;
}

/**
 * The gate verdict: for each suite the candidate ran, its pass rate must reach `minPassRate` and
 * fall at most `maxPassRateDrop` below the baseline's, its cost per request stay within
 * `maxCostRatio` of the baseline's and its p95 latency within `maxP95LatencyRatio` (beyond the
 * noise tolerance). A suite the baseline did not run compares with an empty run. Pure: the runs
 * are measured elsewhere.
 */
export function judgeGate(input: GateInput): GateVerdict {
  const suites = input.candidate.runs.map((run) => {
    const base = input.baseline.runs.find((b) => b.suite === run.suite);
    return judgeSuite(run.suite, base?.tests ?? [], run.tests, input.thresholds);
  });
  const failed = suites.flatMap((s) => s.checks.filter((c) => !c.pass).map((c) => `${s.suite}: ${c.detail}`));
  const pass = suites.length > 0 && failed.length === 0;
  return {
    pass,
    candidate: input.candidate.label,
    baseline: input.baseline.label,
    thresholds: input.thresholds,
    suites,
    summary:
      suites.length === 0
        ? 'no suite ran'
        : pass
          ? `passed ${suites.length} suite(s): ${suites.map((s) => `${s.suite} ${s.candidate.passed}/${s.candidate.tests}`).join(', ')}`
          : `failed: ${failed.join('; ')}`,
  };
}
