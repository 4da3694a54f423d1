import { parseArgs } from 'node:util';
import { describeStep, isRolloutActive, rolloutPercent } from '@switchyard/engine';
import { systemClock } from '../clock.ts';
import {
  RolloutController,
  type RolloutOutcome,
  type RolloutReport,
} from '../policy-runtime/rollout-controller.ts';
import { type CliCommand, UsageError } from './cli-command.ts';
import {
  type LifecycleStores,
  openLifecycleStores,
  storeFlagOptions,
  storeFlagUsage,
} from './open-lifecycle-stores.ts';
import { cliActor } from './policy-publish.command.ts';

const usage = `usage:
  switchyard rollout start <version> [--force] [--reason R]
  switchyard rollout status [--name N] [--json]
  switchyard rollout pause|resume|promote|rollback [--name N] [--reason R]
  switchyard rollout tick [--name N]
  switchyard rollout audit [--name N] [--limit N] [--json]

Rolls a published version out over its policy's stable version: the candidate serves the steps of
its \`rollout:\` section (a shadow step first when \`shadow: true\`), each held \`holdMinutes\` and
needing \`minRequests\` candidate requests; a breached \`abortIf\` threshold rolls it back, holding
100 % promotes it. A running gateway ticks on its own; \`tick\` judges the current step once (for
cron or CI). A version needs a passing gate verdict to start unless --force (audited). Every
change lands in the audit log with who (--actor, $SWITCHYARD_ACTOR or $USER) and why (--reason).

options:
  --name N       the policy (default: the one with an active rollout)
  --reason R     why, for the audit log
  --force        start without a passing gate verdict
  --actor NAME   who, for the audit log
  --limit N      audit lines to show (default 50)
  --json         print JSON
${storeFlagUsage}`;

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' },
        reason: { type: 'string' },
        force: { type: 'boolean' },
        actor: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        ...storeFlagOptions,
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
}

/** The policy a command is about: --name, else the only one with an active rollout, else the only one published. */
async function policyName(
  stores: LifecycleStores,
  controller: RolloutController,
  flag: string | undefined,
): Promise<string> {
  if (flag) return flag;
  const active = await controller.activeNames();
  if (active.length === 1) return active[0]!;
  if (active.length > 1)
    throw new UsageError(`several policies have active rollouts (${active.join(', ')}); pass --name`);
  const names = [...new Set((await stores.versions.list({ limit: 1000 })).map((v) => v.name))];
  if (names.length === 1) return names[0]!;
  throw new UsageError(
    names.length === 0 ? 'no published policy versions' : `pass --name (one of ${names.join(', ')})`,
  );
}

function renderReport(r: RolloutReport): string {
  const s = r.rollout;
  const step = s.plan.steps[s.stepIndex];
  const out = [
    `rollout   ${s.id} (${s.status}${s.forced ? ', forced' : ''})`,
    `policy    ${s.policyName}: stable ${s.stableVersion} → candidate ${s.candidateVersion}`,
    `step      ${s.stepIndex + 1}/${s.plan.steps.length}: ${step ? describeStep(step) : '-'} (candidate share now ${rolloutPercent(s)} %), since ${new Date(s.stepStartedAtMs).toISOString()}`,
    `plan      ${s.plan.steps.map(describeStep).join(' → ')}, hold ${s.plan.holdMs / 60_000} min, ${s.plan.minRequests} requests, sticky by ${s.plan.stickyBy}`,
    `reason    ${s.reason}`,
  ];
  if (isRolloutActive(s)) {
    const arm = (name: string, a: RolloutReport['observation']['stable']) =>
      `${name.padEnd(9)} ${a.requests} req, ${a.errors} err, ${a.escalated} escalated, $${a.costUsd.toFixed(6)}, p95 ${a.latencyP95Ms ?? '-'} ms`;
    out.push(arm('stable', r.observation.stable), arm('candidate', r.observation.candidate));
    if (r.observation.shadow) {
      const sh = r.observation.shadow;
      out.push(`shadow    ${sh.requests} req, ${sh.rerouted} re-routed, ${sh.newDenials} newly denied`);
    }
    for (const c of r.evaluation.analysis.checks)
      out.push(`  ${c.breached ? '✗' : '✓'} ${c.metric} ${c.actual.toFixed(3)} (limit ${c.limit})`);
    if (r.evaluation.waitingFor.length) out.push(`waiting   ${r.evaluation.waitingFor.join(', ')}`);
  }
  return `${out.join('\n')}\n`;
}

function printOutcome(outcome: RolloutOutcome, json: boolean | undefined): number {
  if (!outcome.ok) throw new Error(outcome.reason);
  const s = outcome.rollout;
  if (json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  else
    process.stdout.write(
      `${s.id}: ${s.status}, ${describeStep(s.plan.steps[s.stepIndex]!)} (candidate ${s.candidateVersion})\n  ${s.reason}\n`,
    );
  return 0;
}

/** `switchyard rollout …`: start, watch and steer canary rollouts of published versions. */
export const rolloutCommand: CliCommand = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv);
    const [action, ...rest] = positionals;
    const actions = ['start', 'status', 'pause', 'resume', 'promote', 'rollback', 'tick', 'audit'];
    if (!action || !actions.includes(action))
      throw new UsageError(`${action ? `unknown action \`${action}\`` : 'missing action'}\n\n${usage}`);
    const stores = await openLifecycleStores(values);
    try {
      const controller = new RolloutController({
        store: stores.versions,
        ledger: stores.ledger,
        clock: systemClock,
      });
      const by = { actor: cliActor(values.actor), reason: values.reason };
      if (action === 'start') {
        const ref = rest[0];
        if (!ref) throw new UsageError('`rollout start` needs a version (see `switchyard policy versions`)');
        return printOutcome(await controller.start(ref, { ...by, force: values.force }), values.json);
      }
      const name = await policyName(stores, controller, values.name);
      if (action === 'audit') {
        const rollouts = await stores.versions.listRollouts({ name, limit: 1000 });
        const versions = await stores.versions.list({ name, limit: 1000 });
        const subjects = [...rollouts.map((r) => r.state.id), ...versions.map((v) => v.version)];
        const limit = values.limit ? Number(values.limit) : 50;
        const entries = (await stores.versions.audit({ subjects, limit: 100_000 })).slice(-limit);
        if (values.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        else
          for (const e of entries)
            process.stdout.write(
              `${new Date(e.at).toISOString()}\t${e.actor}\t${e.action}\t${e.subject}\t${e.reason}\n`,
            );
        return 0;
      }
      if (action === 'status' || action === 'tick') {
        const report = action === 'tick' ? await controller.tick(name) : await controller.report(name);
        if (!report) {
          process.stdout.write(`policy \`${name}\` has no rollout\n`);
          return action === 'tick' ? 0 : 1;
        }
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
        return 0;
      }
      const outcome =
        action === 'pause'
          ? await controller.pause(name, by)
          : action === 'resume'
            ? await controller.resume(name, by)
            : action === 'promote'
              ? await controller.promote(name, by)
              : await controller.rollback(name, by);
      return printOutcome(outcome, values.json);
    } finally {
      await stores.close();
    }
  },
};
