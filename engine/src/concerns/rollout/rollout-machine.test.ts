import { describe, expect, it } from 'vitest';
import { rolloutSchema } from './rollout.schema.ts';
import { type ArmStats, emptyArmStats, emptyShadowStats, type StepObservation } from './rollout-analysis.ts';
import {
  evaluateRollout,
  pauseRollout,
  planRolloutSteps,
  promoteRollout,
  type RolloutState,
  resumeRollout,
  rollbackRollout,
  rolloutPercent,
  startRollout,
} from './rollout-machine.ts';

const spec = rolloutSchema.parse({ steps: [5, 50, 100], holdMinutes: 10, minRequests: 20 });
const minute = 60_000;

function started(overrides: Partial<Parameters<typeof startRollout>[0]> = {}): RolloutState {
  const t = startRollout({
    id: 'ro_1',
    policyName: 'default',
    stableVersion: 'aaaaaaaaaaaa',
    candidateVersion: 'bbbbbbbbbbbb',
    verdict: { pass: true },
    spec,
    nowMs: 0,
    ...overrides,
  });
  if (!t.ok) throw new Error(t.reason);
  return t.state;
}

const arm = (over: Partial<ArmStats>): ArmStats => ({ ...emptyArmStats, ...over });
const healthy: StepObservation = {
  stable: arm({ requests: 400, errors: 2, costUsd: 0.4, latencyP95Ms: 100 }),
  candidate: arm({ requests: 25, errors: 0, costUsd: 0.025, latencyP95Ms: 105 }),
};

describe('starting a rollout', () => {
  it('refuses a candidate without a passing verdict unless forced, and says how to proceed', () => {
    const none = startRollout({
      id: 'r',
      policyName: 'p',
      stableVersion: 'a',
      candidateVersion: 'b',
      spec,
      nowMs: 0,
    });
    expect(none).toEqual({ ok: false, reason: expect.stringContaining('has no gate verdict') });
    const failed = startRollout({
      id: 'r',
      policyName: 'p',
      stableVersion: 'a',
      candidateVersion: 'b',
      verdict: { pass: false },
      spec,
      nowMs: 0,
    });
    expect(failed).toEqual({ ok: false, reason: expect.stringContaining('failed the eval gate') });
    const forced = startRollout({
      id: 'r',
      policyName: 'p',
      stableVersion: 'a',
      candidateVersion: 'b',
      verdict: { pass: false },
      spec,
      nowMs: 0,
      force: true,
    });
    expect(forced.ok && forced.state.forced).toBe(true);
    expect(forced.ok && forced.reason).toMatch(/^forced \(gate FAILED\)/);
  });

  it('refuses to roll out the stable version onto itself', () => {
    const t = startRollout({
      id: 'r',
      policyName: 'p',
      stableVersion: 'a',
      candidateVersion: 'a',
      verdict: { pass: true },
      spec,
      nowMs: 0,
    });
    expect(t).toEqual({ ok: false, reason: 'version `a` is already stable' });
  });

  it('begins with a shadow step when the plan asks for one', () => {
    expect(planRolloutSteps({ steps: [1, 100], shadow: true })).toEqual([
      { percent: 0, shadow: true },
      { percent: 1, shadow: false },
      { percent: 100, shadow: false },
    ]);
    const s = started({ spec: rolloutSchema.parse({ shadow: true, steps: [10, 100] }) });
    expect(rolloutPercent(s)).toBe(0);
    expect(s.plan.steps[0]).toEqual({ percent: 0, shadow: true });
  });
});

describe('evaluating a step', () => {
  it('waits until the step was held long enough and saw enough candidate requests', () => {
    const s = started();
    const early = evaluateRollout(s, healthy, 5 * minute);
    expect(early.transition).toBeUndefined();
    expect(early.waitingFor).toEqual(['hold 300 s more']);
    const few = evaluateRollout(s, { ...healthy, candidate: arm({ requests: 12 }) }, 11 * minute);
    expect(few.waitingFor).toEqual(['8 more candidate request(s)']);
  });

  it('advances to the next step, whose window starts now', () => {
    const e = evaluateRollout(started(), healthy, 10 * minute);
    expect(e.transition?.action).toBe('advanced');
    expect(e.transition?.state).toMatchObject({
      stepIndex: 1,
      stepStartedAtMs: 10 * minute,
      status: 'running',
    });
    expect(rolloutPercent(e.transition!.state)).toBe(50);
  });

  it('promotes after holding the last step', () => {
    const last = { ...started(), stepIndex: 2 };
    const e = evaluateRollout(last, { stable: emptyArmStats, candidate: arm({ requests: 30 }) }, 10 * minute);
    expect(e.transition?.action).toBe('promoted');
    expect(e.transition?.state).toMatchObject({ status: 'promoted', endedAtMs: 10 * minute });
    expect(rolloutPercent(e.transition!.state)).toBe(0);
  });

  it('rolls back when the candidate errors more than allowed, before the hold is over', () => {
    const e = evaluateRollout(
      started(),
      { ...healthy, candidate: arm({ requests: 10, errors: 10, latencyP95Ms: 5 }) },
      1 * minute,
    );
    expect(e.transition?.action).toBe('rolled_back');
    expect(e.transition?.reason).toBe('automatic rollback at 5 %: errorRateDelta 0.995 > 0.01');
    expect(e.transition?.state.status).toBe('rolled_back');
  });

  it('does not judge thresholds on a handful of requests', () => {
    const e = evaluateRollout(started(), { ...healthy, candidate: arm({ requests: 3, errors: 1 }) }, minute);
    expect(e.analysis.judged).toBe(false);
    expect(e.transition).toBeUndefined();
  });

  it('rolls back on latency, cost and escalation ratios', () => {
    const slow = evaluateRollout(
      started(),
      { ...healthy, candidate: arm({ requests: 25, costUsd: 0.025, latencyP95Ms: 130 }) },
      minute,
    );
    expect(slow.analysis.breaches.map((b) => b.metric)).toEqual(['p95LatencyRatio']);
    const costly = evaluateRollout(
      started(),
      { ...healthy, candidate: arm({ requests: 25, costUsd: 0.05, latencyP95Ms: 100 }) },
      minute,
    );
    expect(costly.analysis.breaches.map((b) => b.metric)).toEqual(['costRatio']);
    const escalating = evaluateRollout(
      started(),
      { ...healthy, candidate: arm({ requests: 25, escalated: 5, costUsd: 0.025, latencyP95Ms: 100 }) },
      minute,
    );
    expect(escalating.analysis.breaches.map((b) => b.metric)).toEqual(['escalationRateDelta']);
  });

  it('rolls back a shadow step that would re-route or deny too much', () => {
    const s = started({
      spec: rolloutSchema.parse({ shadow: true, minRequests: 20, abortIf: { rerouteShare: 0.2 } }),
    });
    const fine = evaluateRollout(
      s,
      {
        stable: emptyArmStats,
        candidate: emptyArmStats,
        shadow: { ...emptyShadowStats, requests: 50, rerouted: 5, stableCostUsd: 1, predictedCostUsd: 1 },
      },
      10 * minute,
    );
    expect(fine.transition?.action).toBe('advanced');
    const denying = evaluateRollout(
      s,
      {
        stable: emptyArmStats,
        candidate: emptyArmStats,
        shadow: { ...emptyShadowStats, requests: 50, newDenials: 3, stableCostUsd: 1, predictedCostUsd: 1 },
      },
      minute,
    );
    expect(denying.transition?.reason).toBe('automatic rollback at shadow: newDenialShare 0.060 > 0.01');
  });
});

describe('manual transitions', () => {
  it('pauses (no advance, rollback still possible) and resumes with a fresh window', () => {
    const paused = pauseRollout(started(), 'looking into latency', 2 * minute);
    if (!paused.ok) throw new Error(paused.reason);
    expect(evaluateRollout(paused.state, healthy, 30 * minute).transition).toBeUndefined();
    expect(
      evaluateRollout(paused.state, { ...healthy, candidate: arm({ requests: 20, errors: 20 }) }, 30 * minute)
        .transition?.action,
    ).toBe('rolled_back');
    expect(rolloutPercent(paused.state)).toBe(5);
    const resumed = resumeRollout(paused.state, 'fine', 40 * minute);
    expect(resumed.ok && resumed.state).toMatchObject({ status: 'running', stepStartedAtMs: 40 * minute });
    expect(pauseRollout(paused.state, 'again', 0)).toEqual({ ok: false, reason: 'rollout `ro_1` is paused' });
  });

  it('promotes or rolls back at any step, but not once over', () => {
    const promoted = promoteRollout(started(), 'looks good', minute);
    expect(promoted.ok && promoted.state.status).toBe('promoted');
    if (!promoted.ok) return;
    expect(rollbackRollout(promoted.state, 'oops', minute)).toEqual({
      ok: false,
      reason: 'rollout `ro_1` is promoted',
    });
    const rolledBack = rollbackRollout(started(), 'bad answers', minute);
    expect(rolledBack.ok && rolledBack.state).toMatchObject({ status: 'rolled_back', reason: 'bad answers' });
  });
});
