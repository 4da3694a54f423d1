import { describeStep, isRolloutActive, type RolloutState } from '@switchyard/engine';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { httpError } from '../errors.ts';
import { experimentReport } from '../policy-runtime/experiment-report.ts';
import type { RolloutController, RolloutReport } from '../policy-runtime/rollout-controller.ts';
import type { LedgerStore } from '../stores/ledger-store.ts';
import { type AdminLifecycleDeps, adminActor } from './admin-versions.route.ts';
import { parseBody } from './parse-body.ts';

/** What the rollout admin routes work with. */
export interface AdminRolloutDeps extends AdminLifecycleDeps {
  controller: RolloutController;
  ledger: LedgerStore;
  /** The policy name this gateway serves: the rollout `current` refers to. */
  policyName: string;
}

const startSchema = z.strictObject({
  version: z.string().min(4).max(80),
  force: z.boolean().optional(),
  reason: z.string().max(500).optional(),
});
const reasonSchema = z.strictObject({ reason: z.string().max(500).optional() });

/** A rollout as the admin API shows it. */
export function viewRollout(state: RolloutState): Record<string, unknown> {
  const step = state.plan.steps[state.stepIndex];
  return {
    object: 'policy.rollout',
    id: state.id,
    policy: state.policyName,
    stableVersion: state.stableVersion,
    candidateVersion: state.candidateVersion,
    status: state.status,
    step: step ? describeStep(step) : null,
    stepIndex: state.stepIndex,
    percent: isRolloutActive(state) && step ? step.percent : 0,
    steps: state.plan.steps.map(describeStep),
    stickyBy: state.plan.stickyBy,
    holdMinutes: state.plan.holdMs / 60_000,
    minRequests: state.plan.minRequests,
    abortIf: state.plan.abortIf,
    forced: state.forced,
    reason: state.reason,
    startedAt: new Date(state.startedAtMs).toISOString(),
    stepStartedAt: new Date(state.stepStartedAtMs).toISOString(),
    endedAt: state.endedAtMs === undefined ? null : new Date(state.endedAtMs).toISOString(),
  };
}

function viewReport(r: RolloutReport): Record<string, unknown> {
  return {
    ...viewRollout(r.rollout),
    analysis: {
      window: { from: new Date(r.rollout.stepStartedAtMs).toISOString() },
      stable: r.observation.stable,
      candidate: r.observation.candidate,
      shadow: r.observation.shadow ?? null,
      judged: r.evaluation.analysis.judged,
      checks: r.evaluation.analysis.checks,
      waitingFor: r.evaluation.waitingFor,
    },
  };
}

const actions = ['pause', 'resume', 'promote', 'rollback'] as const;

/**
 * `/admin/v1/rollouts` and `/admin/v1/experiments/:id`: start a rollout of a published version
 * (409 `rollout_refused` without a passing verdict unless `force`), show the current one with its
 * live analysis, pause, resume, promote or roll it back (each audited with the
 * `x-switchyard-actor` header and the `reason` given), and an A/B experiment's arms from the
 * ledger. Register with `{ versions, clock, authorize: adminAuthHook(ctx), controller, ledger, policyName }`.
 */
export const adminRolloutRoute: FastifyPluginAsync<AdminRolloutDeps> = async (app, deps) => {
  app.addHook('onRequest', deps.authorize);

  app.get('/admin/v1/rollouts', async (request) => {
    const q = request.query as { limit?: unknown };
    const limit = Math.min(Math.max(Number(q.limit) || 20, 1), 500);
    const list = await deps.versions.listRollouts({ name: deps.policyName, limit });
    return { object: 'list', data: list.map((r) => viewRollout(r.state)) };
  });

  app.get('/admin/v1/rollouts/current', async () => {
    const report = await deps.controller.report(deps.policyName);
    if (!report || !isRolloutActive(report.rollout))
      throw httpError('rollout_not_found', { name: deps.policyName });
    return viewReport(report);
  });

  app.post('/admin/v1/rollouts', async (request, reply) => {
    const body = parseBody(startSchema, request.body ?? {});
    const version = await deps.versions.get(body.version);
    if (!version) throw httpError('policy_version_not_found', { ref: body.version });
    if (version.name !== deps.policyName)
      throw httpError('rollout_refused', {
        detail: `version \`${version.version}\` is of policy \`${version.name}\`; this gateway serves \`${deps.policyName}\``,
      });
    const outcome = await deps.controller.start(version.version, {
      actor: adminActor(request),
      force: body.force,
      reason: body.reason,
    });
    if (!outcome.ok) throw httpError('rollout_refused', { detail: outcome.reason });
    reply.code(201);
    return viewRollout(outcome.rollout);
  });

  app.post('/admin/v1/rollouts/current/:action', async (request) => {
    const { action } = request.params as { action: string };
    if (!(actions as readonly string[]).includes(action))
      throw httpError('not_found', { method: 'POST', path: `/admin/v1/rollouts/current/${action}` });
    const body = parseBody(reasonSchema, request.body ?? {});
    const by = { actor: adminActor(request), reason: body.reason };
    const name = deps.policyName;
    const outcome =
      action === 'pause'
        ? await deps.controller.pause(name, by)
        : action === 'resume'
          ? await deps.controller.resume(name, by)
          : action === 'promote'
            ? await deps.controller.promote(name, by)
            : await deps.controller.rollback(name, by);
    if (!outcome.ok) {
      if (!(await deps.versions.activeRollout(name))) throw httpError('rollout_not_found', { name });
      throw httpError('rollout_refused', { detail: outcome.reason });
    }
    return viewRollout(outcome.rollout);
  });

  app.get('/admin/v1/experiments/:id', async (request) => {
    const { id } = request.params as { id: string };
    const q = request.query as { from?: unknown; to?: unknown };
    const now = deps.clock.now();
    const parse = (v: unknown, fallback: number, param: string) => {
      if (v === undefined || v === '') return fallback;
      const ms = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Date.parse(String(v));
      if (Number.isNaN(ms))
        throw httpError(
          'invalid_request',
          { param, detail: 'expected an ISO date-time or epoch ms' },
          { param },
        );
      return ms;
    };
    const toMs = parse(q.to, now + 1, 'to');
    const fromMs = parse(q.from, toMs - 24 * 3_600_000, 'from');
    if (!(toMs > fromMs))
      throw httpError(
        'invalid_request',
        { param: 'from', detail: 'expected `from` before `to`' },
        { param: 'from' },
      );
    const report = await experimentReport(deps.ledger, id, { fromMs, toMs });
    return {
      object: 'experiment.report',
      id,
      from: new Date(fromMs).toISOString(),
      to: new Date(toMs).toISOString(),
      arms: report.arms,
    };
  });
};
