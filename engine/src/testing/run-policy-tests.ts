import type { Diagnostic } from '../errors.ts';
import type { CompiledPolicy, PolicyFile } from '../model/compiled-policy.ts';
import type { Decision } from '../model/decision.ts';
import { seededEnv } from '../model/env.ts';
import type { RequestFacts } from '../model/facts.ts';
import { emptySnapshot, type StateSnapshot } from '../model/snapshot.ts';
import { decide } from '../pipeline/decide.ts';
import { parseYamlFile } from '../pipeline/parse.ts';
import { locate } from '../pipeline/source-map.ts';
import { factsWithDefaults } from './facts-with-defaults.ts';
import { type PolicyTestCase, policyTestFileSchema } from './policy-test.schema.ts';

/** One expectation that did not hold. */
export interface TestMismatch {
  field: string;
  expected: unknown;
  actual: unknown;
}

/** The outcome of one test case. */
export interface TestCaseResult {
  name: string;
  line: number;
  passed: boolean;
  mismatches: TestMismatch[];
  decision: Decision;
}

/** The outcome of a whole `policy.test.yaml`: its cases, or why the file itself could not be read. */
export interface PolicyTestReport {
  file: string;
  results: TestCaseResult[];
  errors: Diagnostic[];
}

const defaultNow = Date.UTC(2026, 0, 1, 12);

/** Resolves snapshot entries keyed by quota/limit id to the store keys the policy uses for these facts. */
function resolveSnapshot(
  policy: CompiledPolicy,
  facts: RequestFacts,
  snap: PolicyTestCase['snapshot'],
  nowMs: number,
): StateSnapshot {
  if (!snap) return emptySnapshot;
  const probe = decide(policy, facts, emptySnapshot, seededEnv(nowMs, 1));
  const charges = probe.kind === 'plan' ? probe.charges : [];
  const limits = probe.kind === 'plan' ? probe.limits : [];
  const quotaUsed: Record<string, number> = {};
  for (const [k, v] of Object.entries(snap.quotaUsed ?? {})) {
    const c = charges.find((x) => x.quotaId === k);
    quotaUsed[c ? c.key : k] = v;
  }
  const buckets: Record<string, { tokens: number; atMs: number }> = {};
  for (const [k, v] of Object.entries(snap.buckets ?? {})) {
    const l = limits.find((x) => x.limitId === k);
    buckets[l ? l.key : k] = { tokens: v, atMs: nowMs };
  }
  return { breakers: snap.breakers ?? {}, quotaUsed, buckets };
}

function compare(c: PolicyTestCase, d: Decision): TestMismatch[] {
  const e = c.expect;
  const out: TestMismatch[] = [];
  const check = (field: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(actual))
      out.push({ field, expected, actual });
  };
  const plan = d.kind === 'plan' ? d : undefined;
  const denial = d.kind === 'deny' ? d : undefined;
  if ((e.denial !== undefined || e.status !== undefined) && !denial)
    out.push({ field: 'denial', expected: e.denial ?? e.status, actual: 'a plan' });
  if (e.denial === undefined && e.status === undefined && denial)
    out.push({ field: 'decision', expected: 'a plan', actual: `denial ${denial.code}: ${denial.message}` });
  check('denial', e.denial, denial?.code);
  check('status', e.status, denial?.status);
  check('route', e.route, plan?.routeId ?? denial?.routeId);
  check('target', e.target, plan?.target);
  check('deployment', e.deployment, plan?.candidates[0]?.id);
  check(
    'candidates',
    e.candidates,
    plan?.candidates.map((x) => x.id),
  );
  check(
    'escalation',
    e.escalation,
    plan?.escalation.map((h) => h.to),
  );
  if (e.cache !== undefined) check('cache', e.cache, plan?.cache?.ruleId ?? null);
  check('arm', e.arm, plan?.experiment?.arm);
  if (e.reasons) {
    const rules = d.reasons.map((r) => r.rule);
    let i = 0;
    for (const r of rules) if (r === e.reasons[i]) i++;
    if (i < e.reasons.length) out.push({ field: 'reasons', expected: e.reasons, actual: rules });
  }
  return out;
}

/**
 * Runs the cases of a `policy.test.yaml` against a compiled policy: each case's facts (over the
 * file's defaults) and snapshot go through `decide()` at a fixed time and seed, and the fields the
 * case expects are compared with the decision.
 */
export function runPolicyTests(policy: CompiledPolicy, testFile: PolicyFile): PolicyTestReport {
  const parsed = parseYamlFile(testFile);
  if (parsed.errors.length > 0) return { file: testFile.path, results: [], errors: parsed.errors };
  const r = policyTestFileSchema.safeParse(parsed.value);
  if (!r.success) {
    const errors: Diagnostic[] = r.error.issues.map((issue) => ({
      code: issue.code === 'unrecognized_keys' ? 'SY_POLICY_UNKNOWN_FIELD' : 'SY_POLICY_INVALID_VALUE',
      severity: 'error',
      message: `test file: \`${issue.path.join('.')}\`: ${issue.message.toLowerCase()}`,
      ...locate(parsed.source, issue.path, true),
    }));
    return { file: testFile.path, results: [], errors };
  }
  const file = r.data;
  const nowMs = file.now ? Date.parse(file.now) : defaultNow;
  const results = file.cases.map((c, i) => {
    const facts = factsWithDefaults(file.defaults, c.request);
    const snapshot = resolveSnapshot(policy, facts, c.snapshot, nowMs);
    const decision = decide(policy, facts, snapshot, seededEnv(nowMs, c.seed ?? file.seed ?? 1));
    const mismatches = compare(c, decision);
    return {
      name: c.name,
      line: locate(parsed.source, ['cases', i]).line,
      passed: mismatches.length === 0,
      mismatches,
      decision,
    };
  });
  return { file: testFile.path, results, errors: [] };
}

/** The request facts of every case in a `policy.test.yaml` (sample requests for `policy diff`). */
export function readTestCaseFacts(testFile: PolicyFile): RequestFacts[] {
  const parsed = parseYamlFile(testFile);
  const r = policyTestFileSchema.safeParse(parsed.value);
  if (parsed.errors.length > 0 || !r.success) return [];
  return r.data.cases.map((c) => factsWithDefaults(r.data.defaults, c.request));
}
