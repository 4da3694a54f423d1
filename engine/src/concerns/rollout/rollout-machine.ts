import type { RolloutSpec } from './rollout.schema.ts';
import {
  analyzeRolloutStep,
  describeBreaches,
  type StepAnalysis,
  type StepObservation,
} from './rollout-analysis.ts';

/** Where a rollout is: serving the candidate to its step's share, held, or over. */
export type RolloutStatus = 'running' | 'paused' | 'promoted' | 'rolled_back';

/** One step of a rollout: the candidate's share of traffic, or the shadow step (candidate decides, stable serves). */
export interface RolloutStep {
  /** Percent of traffic (0–100) the candidate serves; 0 in the shadow step. */
  percent: number;
  shadow: boolean;
}

/** The rollout plan, copied from the candidate's `rollout:` section when the rollout starts. */
export interface RolloutPlan {
  steps: readonly RolloutStep[];
  stickyBy: RolloutSpec['stickyBy'];
  /** How long each step is held before it can pass. */
  holdMs: number;
  /** Candidate requests (shadow step: requests decided by both) a step needs before it can pass. */
  minRequests: number;
  abortIf: RolloutSpec['abortIf'];
}

/** A rollout of a candidate version over the stable one; persisted, shared by every replica. */
export interface RolloutState {
  /** Unique id; also the salt of the sticky bucketing, so every replica splits traffic alike. */
  id: string;
  /** The policy name both versions carry. */
  policyName: string;
  stableVersion: string;
  candidateVersion: string;
  status: RolloutStatus;
  plan: RolloutPlan;
  stepIndex: number;
  /** When the current step began (or was resumed); its analysis window starts here. */
  stepStartedAtMs: number;
  startedAtMs: number;
  updatedAtMs: number;
  endedAtMs?: number | undefined;
  /** Whether it was started without a passing gate verdict. */
  forced: boolean;
  /** Why the last transition happened. */
  reason: string;
}

/** What moved a rollout, for the audit log. */
export type RolloutAction = 'started' | 'advanced' | 'paused' | 'resumed' | 'promoted' | 'rolled_back';

/** A transition that happened, or why it could not. */
export type RolloutTransition =
  | { ok: true; state: RolloutState; action: RolloutAction; reason: string; analysis?: StepAnalysis }
  | { ok: false; reason: string };

/** The steps of a plan: the shadow step first when `shadow` is set, then each percentage. */
export function planRolloutSteps(spec: Pick<RolloutSpec, 'steps' | 'shadow'>): RolloutStep[] {
  const steps = spec.steps.map((percent) => ({ percent, shadow: false }));
  return spec.shadow ? [{ percent: 0, shadow: true }, ...steps] : steps;
}

/** The plan a rollout copies from the candidate's `rollout:` section. */
export function rolloutPlanOf(spec: RolloutSpec): RolloutPlan {
  return {
    steps: planRolloutSteps(spec),
    stickyBy: spec.stickyBy,
    holdMs: spec.holdMinutes * 60_000,
    minRequests: spec.minRequests,
    abortIf: spec.abortIf,
  };
}

/** What starting a rollout needs. */
export interface StartRolloutInput {
  id: string;
  policyName: string;
  stableVersion: string;
  candidateVersion: string;
  /** The candidate's gate verdict, if one was attached. */
  verdict?: { pass: boolean } | undefined;
  spec: RolloutSpec;
  nowMs: number;
  /** Start even without a passing verdict (audited as forced). */
  force?: boolean | undefined;
  reason?: string | undefined;
}

/**
 * Starts a rollout at its first step, or refuses: a candidate must differ from the stable version
 * and carry a passing gate verdict, unless `force` is set.
 */
export function startRollout(input: StartRolloutInput): RolloutTransition {
  if (input.candidateVersion === input.stableVersion)
    return { ok: false, reason: `version \`${input.candidateVersion}\` is already stable` };
  const force = input.force === true;
  if (!force && !input.verdict)
    return {
      ok: false,
      reason: `version \`${input.candidateVersion}\` has no gate verdict; run \`switchyard eval gate --candidate ${input.candidateVersion}\` or start with --force`,
    };
  if (!force && input.verdict && !input.verdict.pass)
    return {
      ok: false,
      reason: `version \`${input.candidateVersion}\` failed the eval gate; fix it or start with --force`,
    };
  const plan = rolloutPlanOf(input.spec);
  const first = plan.steps[0]!;
  const gate = input.verdict ? (input.verdict.pass ? 'gate passed' : 'gate FAILED') : 'no gate verdict';
  const reason =
    input.reason ??
    `${force && !input.verdict?.pass ? `forced (${gate})` : gate}; first step ${describeStep(first)}`;
  return {
    ok: true,
    action: 'started',
    reason,
    state: {
      id: input.id,
      policyName: input.policyName,
      stableVersion: input.stableVersion,
      candidateVersion: input.candidateVersion,
      status: 'running',
      plan,
      stepIndex: 0,
      stepStartedAtMs: input.nowMs,
      startedAtMs: input.nowMs,
      updatedAtMs: input.nowMs,
      forced: force && !input.verdict?.pass,
      reason,
    },
  };
}

/** `shadow` or `5 %`. */
export function describeStep(step: RolloutStep): string {
  return step.shadow ? 'shadow' : `${step.percent} %`;
}

/** Whether the rollout still splits traffic (running or paused). */
export function isRolloutActive(state: RolloutState): boolean {
  return state.status === 'running' || state.status === 'paused';
}

/** The step the rollout is on. */
export function currentStep(state: RolloutState): RolloutStep {
  return state.plan.steps[state.stepIndex] ?? { percent: 0, shadow: false };
}

/** The candidate's share of traffic now (0 when the rollout is over or in its shadow step). */
export function rolloutPercent(state: RolloutState): number {
  return isRolloutActive(state) ? currentStep(state).percent : 0;
}

/** What one evaluation concluded: a transition, or the rollout as it was and what it waits for. */
export interface RolloutEvaluation {
  analysis: StepAnalysis;
  transition?: Extract<RolloutTransition, { ok: true }> | undefined;
  /** Why the step has not passed yet (empty when it just did or the rollout is not running). */
  waitingFor: string[];
}

/**
 * Judges the current step of a rollout at `nowMs` from what was observed in its window: a breached
 * `abortIf` threshold rolls back (running or paused); a running step that was held `holdMs` and saw
 * `minRequests` passes, to the next step or, after the last, to promotion. Pure: the caller reads
 * the observations and persists the transition.
 */
export function evaluateRollout(
  state: RolloutState,
  observation: StepObservation,
  nowMs: number,
): RolloutEvaluation {
  const step = currentStep(state);
  const analysis = analyzeRolloutStep(observation, state.plan.abortIf, {
    shadow: step.shadow,
    minRequests: state.plan.minRequests,
  });
  if (!isRolloutActive(state)) return { analysis, waitingFor: [] };
  if (analysis.breaches.length > 0) {
    const reason = `automatic rollback at ${describeStep(step)}: ${describeBreaches(analysis)}`;
    return {
      analysis,
      waitingFor: [],
      transition: {
        ok: true,
        action: 'rolled_back',
        reason,
        analysis,
        state: end(state, 'rolled_back', reason, nowMs),
      },
    };
  }
  if (state.status === 'paused') return { analysis, waitingFor: ['resume (paused)'] };
  const waitingFor: string[] = [];
  const held = nowMs - state.stepStartedAtMs;
  if (held < state.plan.holdMs)
    waitingFor.push(`hold ${Math.ceil((state.plan.holdMs - held) / 1000)} s more`);
  if (analysis.candidateRequests < state.plan.minRequests)
    waitingFor.push(
      `${state.plan.minRequests - analysis.candidateRequests} more ${step.shadow ? 'shadowed' : 'candidate'} request(s)`,
    );
  if (waitingFor.length > 0) return { analysis, waitingFor };
  const next = state.plan.steps[state.stepIndex + 1];
  if (!next) {
    const reason = `held ${describeStep(step)} for ${Math.round(held / 1000)} s over ${analysis.candidateRequests} request(s) without a breach`;
    return {
      analysis,
      waitingFor,
      transition: {
        ok: true,
        action: 'promoted',
        reason,
        analysis,
        state: end(state, 'promoted', reason, nowMs),
      },
    };
  }
  const reason = `${describeStep(step)} passed (${analysis.candidateRequests} request(s), ${Math.round(held / 1000)} s); now ${describeStep(next)}`;
  return {
    analysis,
    waitingFor,
    transition: {
      ok: true,
      action: 'advanced',
      reason,
      analysis,
      state: {
        ...state,
        stepIndex: state.stepIndex + 1,
        stepStartedAtMs: nowMs,
        updatedAtMs: nowMs,
        reason,
      },
    },
  };
}

function end(
  state: RolloutState,
  status: 'promoted' | 'rolled_back',
  reason: string,
  nowMs: number,
): RolloutState {
  return { ...state, status, updatedAtMs: nowMs, endedAtMs: nowMs, reason };
}

/** Holds the rollout at its step: no automatic advance (a breached threshold still rolls back). */
export function pauseRollout(state: RolloutState, reason: string, nowMs: number): RolloutTransition {
  if (state.status !== 'running') return { ok: false, reason: `rollout \`${state.id}\` is ${state.status}` };
  return {
    ok: true,
    action: 'paused',
    reason,
    state: { ...state, status: 'paused', updatedAtMs: nowMs, reason },
  };
}

/** Continues a paused rollout; the step's hold and analysis window start again now. */
export function resumeRollout(state: RolloutState, reason: string, nowMs: number): RolloutTransition {
  if (state.status !== 'paused') return { ok: false, reason: `rollout \`${state.id}\` is ${state.status}` };
  return {
    ok: true,
    action: 'resumed',
    reason,
    state: { ...state, status: 'running', stepStartedAtMs: nowMs, updatedAtMs: nowMs, reason },
  };
}

/** Makes the candidate stable at once, whatever step the rollout is on. */
export function promoteRollout(state: RolloutState, reason: string, nowMs: number): RolloutTransition {
  if (!isRolloutActive(state)) return { ok: false, reason: `rollout \`${state.id}\` is ${state.status}` };
  return { ok: true, action: 'promoted', reason, state: end(state, 'promoted', reason, nowMs) };
}

/** Sends all traffic back to the stable version at once. */
export function rollbackRollout(state: RolloutState, reason: string, nowMs: number): RolloutTransition {
  if (!isRolloutActive(state)) return { ok: false, reason: `rollout \`${state.id}\` is ${state.status}` };
  return { ok: true, action: 'rolled_back', reason, state: end(state, 'rolled_back', reason, nowMs) };
}
