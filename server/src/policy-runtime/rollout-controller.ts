import {
  type ArmStats,
  compilePolicy,
  emptyArmStats,
  evaluateRollout,
  formatDiagnostic,
  isRolloutActive,
  pauseRollout,
  promoteRollout,
  type RolloutEvaluation,
  type RolloutState,
  type RolloutTransition,
  resumeRollout,
  rollbackRollout,
  type StepObservation,
  startRollout,
} from '@switchyard/engine';
import type { Clock } from '../clock.ts';
import type { LedgerAggregate, LedgerStore } from '../stores/ledger-store.ts';
import type { NewAuditEntry, PolicyVersionStore, StoredRollout } from '../stores/policy-version-store.ts';

/** Who asked for a change and why; both go to the audit log. */
export interface Actor {
  actor: string;
  reason?: string | undefined;
}

/** The outcome of a request to change a rollout: the rollout as it now is, or why nothing changed. */
export type RolloutOutcome = { ok: true; rollout: RolloutState } | { ok: false; reason: string };

/** A rollout with its live analysis: what the current step saw and what it still waits for. */
export interface RolloutReport {
  rollout: RolloutState;
  revision: number;
  observation: StepObservation;
  evaluation: RolloutEvaluation;
}

/** Options of `RolloutController`. */
export interface RolloutControllerOptions {
  store: PolicyVersionStore;
  /** Where request outcomes are read from: rows carry `policyVersion` = `name@version`. */
  ledger: LedgerStore;
  clock: Clock;
  /** The actor automatic transitions are audited as (default `rollout-controller`). */
  actor?: string | undefined;
}

/** The ledger row group of one version: the request path writes `policyVersion` as `name@version`. */
function armStats(rows: readonly LedgerAggregate[], policyId: string): ArmStats {
  const row = rows.find((r) => r.group.policy === policyId);
  if (!row) return { ...emptyArmStats };
  return {
    requests: row.requests,
    errors: row.errors,
    escalated: row.escalated,
    costUsd: row.costUsd,
    latencyP95Ms: row.latencyP95Ms,
  };
}

/**
 * Runs rollouts: starts one (refusing a candidate without a passing gate verdict unless forced),
 * judges the current step from the ledger (`tick`) and moves it on, rolls it back or promotes it,
 * and applies the operator's pause, resume, promote and rollback. The decisions are the engine's
 * pure `startRollout`/`evaluateRollout`; this class reads their inputs and commits their outcome
 * with its audit lines in one store transaction (compare-and-set, so replicas ticking at once
 * apply each transition once).
 */
export class RolloutController {
  readonly #store: PolicyVersionStore;
  readonly #ledger: LedgerStore;
  readonly #clock: Clock;
  readonly #actor: string;

  constructor(options: RolloutControllerOptions) {
    this.#store = options.store;
    this.#ledger = options.ledger;
    this.#clock = options.clock;
    this.#actor = options.actor ?? 'rollout-controller';
  }

  /**
   * Starts rolling out a published version over its policy's stable version, with the rollout plan
   * of the candidate's `rollout:` section. Refusals (no or failing verdict, a rollout already
   * active, nothing stable yet) are audited as `rollout.refused`.
   */
  async start(ref: string, by: Actor & { force?: boolean | undefined }): Promise<RolloutOutcome> {
    const nowMs = this.#clock.now();
    const version = await this.#store.get(ref);
    if (!version) return { ok: false, reason: `no published policy version \`${ref}\`` };
    const refuse = async (reason: string): Promise<RolloutOutcome> => {
      await this.#store.appendAudit({
        at: nowMs,
        actor: by.actor,
        action: 'rollout.refused',
        subject: version.version,
        reason,
        details: by.reason ? { request: by.reason, force: by.force === true } : { force: by.force === true },
      });
      return { ok: false, reason };
    };
    const stable = await this.#store.stableVersion(version.name);
    if (!stable) return refuse(`policy \`${version.name}\` has no stable version`);
    const active = await this.#store.activeRollout(version.name);
    if (active)
      return refuse(
        `rollout \`${active.state.id}\` of \`${version.name}\` is ${active.state.status}; promote or roll it back first`,
      );
    const compiled = compilePolicy(version.files);
    if (!compiled.ok)
      return refuse(
        `version \`${version.version}\` does not compile: ${compiled.errors.map(formatDiagnostic).join('; ')}`,
      );
    const transition = startRollout({
      id: `ro_${version.version}_${nowMs.toString(36)}`,
      policyName: version.name,
      stableVersion: stable,
      candidateVersion: version.version,
      verdict: version.verdict,
      spec: compiled.policy.spec.rollout,
      nowMs,
      force: by.force,
      reason: by.reason,
    });
    if (!transition.ok) return refuse(transition.reason);
    const details = {
      steps: transition.state.plan.steps,
      forced: transition.state.forced,
      verdict: version.verdict ? { pass: version.verdict.pass, summary: version.verdict.summary } : null,
    };
    const committed = await this.#store.commitRollout({
      state: transition.state,
      audit: [this.#audit(transition.state, 'started', transition.reason, by.actor, details)],
    });
    if (!committed) return refuse(`another rollout of \`${version.name}\` started at the same time`);
    return { ok: true, rollout: transition.state };
  }

  /** The active rollout of a policy (or the given rollout) with its live analysis. */
  async report(name: string, rolloutId?: string): Promise<RolloutReport | undefined> {
    const stored = rolloutId ? await this.#store.getRollout(rolloutId) : await this.#latest(name);
    if (!stored) return undefined;
    const nowMs = this.#clock.now();
    const observation = await this.observe(stored.state, nowMs);
    return {
      rollout: stored.state,
      revision: stored.revision,
      observation,
      evaluation: evaluateRollout(stored.state, observation, nowMs),
    };
  }

  async #latest(name: string): Promise<StoredRollout | undefined> {
    return (await this.#store.activeRollout(name)) ?? (await this.#store.listRollouts({ name, limit: 1 }))[0];
  }

  /**
   * What the current step saw from its start until `nowMs`: both versions' ledger totals and, in a
   * shadow step, the shadow tally.
   */
  async observe(state: RolloutState, nowMs: number): Promise<StepObservation> {
    const rows =
      nowMs > state.stepStartedAtMs
        ? await this.#ledger.query({ groupBy: ['policy'], fromMs: state.stepStartedAtMs, toMs: nowMs + 1 })
        : [];
    const step = state.plan.steps[state.stepIndex];
    return {
      stable: armStats(rows, `${state.policyName}@${state.stableVersion}`),
      candidate: armStats(rows, `${state.policyName}@${state.candidateVersion}`),
      shadow: step?.shadow ? await this.#store.shadowStats(state.id, state.stepIndex) : undefined,
    };
  }

  /**
   * Judges the active rollout of a policy now and commits what follows: the next step, promotion,
   * or an automatic rollback. Undefined when no rollout is active.
   */
  async tick(name: string): Promise<RolloutReport | undefined> {
    const stored = await this.#store.activeRollout(name);
    if (!stored) return undefined;
    const nowMs = this.#clock.now();
    const observation = await this.observe(stored.state, nowMs);
    const evaluation = evaluateRollout(stored.state, observation, nowMs);
    const t = evaluation.transition;
    if (!t) return { rollout: stored.state, revision: stored.revision, observation, evaluation };
    const details = {
      step: stored.state.plan.steps[stored.state.stepIndex],
      checks: evaluation.analysis.checks,
      observed: observation,
    };
    const committed = await this.#commit(stored, t, this.#actor, details);
    if (!committed) return this.report(name);
    return { rollout: t.state, revision: stored.revision + 1, observation, evaluation };
  }

  /** Holds the active rollout at its step (a breach still rolls back). */
  pause(name: string, by: Actor): Promise<RolloutOutcome> {
    return this.#manual(name, by, (s, reason, now) => pauseRollout(s, reason, now), 'paused by operator');
  }

  /** Continues a paused rollout; its step's hold starts again. */
  resume(name: string, by: Actor): Promise<RolloutOutcome> {
    return this.#manual(name, by, (s, reason, now) => resumeRollout(s, reason, now), 'resumed by operator');
  }

  /** Makes the candidate stable now. */
  promote(name: string, by: Actor): Promise<RolloutOutcome> {
    return this.#manual(name, by, (s, reason, now) => promoteRollout(s, reason, now), 'promoted by operator');
  }

  /** Sends all traffic back to the stable version now. */
  rollback(name: string, by: Actor): Promise<RolloutOutcome> {
    return this.#manual(
      name,
      by,
      (s, reason, now) => rollbackRollout(s, reason, now),
      'rolled back by operator',
    );
  }

  async #manual(
    name: string,
    by: Actor,
    transition: (state: RolloutState, reason: string, nowMs: number) => RolloutTransition,
    defaultReason: string,
  ): Promise<RolloutOutcome> {
    // Two tries: a tick on another replica may commit between our read and our write.
    for (let attempt = 0; attempt < 2; attempt++) {
      const stored = await this.#store.activeRollout(name);
      if (!stored) return { ok: false, reason: `policy \`${name}\` has no active rollout` };
      const t = transition(stored.state, by.reason ?? defaultReason, this.#clock.now());
      if (!t.ok) return t;
      if (await this.#commit(stored, t, by.actor, {})) return { ok: true, rollout: t.state };
    }
    return { ok: false, reason: `rollout of \`${name}\` changed meanwhile; try again` };
  }

  async #commit(
    stored: StoredRollout,
    t: Extract<RolloutTransition, { ok: true }>,
    actor: string,
    details: Record<string, unknown>,
  ): Promise<boolean> {
    const audit: NewAuditEntry[] = [this.#audit(t.state, t.action, t.reason, actor, details)];
    const promoted = t.action === 'promoted';
    if (promoted)
      audit.push({
        at: t.state.updatedAtMs,
        actor,
        action: 'stable.set',
        subject: t.state.candidateVersion,
        reason: `promoted by rollout \`${t.state.id}\` (was ${t.state.stableVersion})`,
      });
    return this.#store.commitRollout({
      state: t.state,
      expectedRevision: stored.revision,
      stableVersion: promoted ? t.state.candidateVersion : undefined,
      audit,
    });
  }

  #audit(
    state: RolloutState,
    action: string,
    reason: string,
    actor: string,
    details: Record<string, unknown>,
  ): NewAuditEntry {
    return {
      at: state.updatedAtMs,
      actor,
      action: `rollout.${action}`,
      subject: state.id,
      reason,
      details: {
        policy: state.policyName,
        stableVersion: state.stableVersion,
        candidateVersion: state.candidateVersion,
        ...details,
      },
    };
  }

  /**
   * Ticks the policy's rollout every `intervalMs` (the server runs this; every replica may, since
   * commits are compare-and-set). The timer does not keep the process alive. Returns the stop.
   */
  tickEvery(name: string, intervalMs: number, onError: (err: unknown) => void): () => void {
    let running = false;
    const timer = setInterval(() => {
      // A slow ledger query must not pile ticks up.
      if (running) return;
      running = true;
      this.tick(name)
        .catch(onError)
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Policy names with a running or paused rollout, newest first. */
  async activeNames(): Promise<string[]> {
    const all = await this.#store.listRollouts({ limit: 1000 });
    return [...new Set(all.filter((r) => isRolloutActive(r.state)).map((r) => r.state.policyName))];
  }
}
