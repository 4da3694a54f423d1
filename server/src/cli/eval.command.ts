import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compilePolicy } from '@switchyard/engine';
import { type CliCommand, UsageError } from './cli-command.ts';
import { openLifecycleStoresIfPresent, storeFlagOptions, storeFlagUsage } from './open-lifecycle-stores.ts';
import { cliActor } from './policy-publish.command.ts';
import { type PolicySource, resolvePolicySource } from './resolve-policy-source.ts';

/** The baseline when nothing is published and none is named. */
const fallbackBaseline = 'policies/default';

const usage = `usage: switchyard eval gate --candidate <dir|version> [--baseline <dir|version>] [options]

  Runs the promptfoo suites of the baseline's \`gate:\` section through a gateway serving the
  baseline, then one serving the candidate (both in this process, on 127.0.0.1, offline), and
  judges the candidate: pass rate, pass-rate drop, cost per request and p95 latency against the
  baseline's thresholds. Writes verdict.json and verdict.md with --out; attaches the verdict to the
  candidate when it is a published version; exits 1 when the gate fails.

  --candidate REF   the policy to judge: folder, file or published version id
  --baseline REF    what to compare with (default: the candidate policy's stable version in the
                    store; with nothing published, ${fallbackBaseline})
  --out DIR         write verdict.json and verdict.md there
  --suites A,B      suites to run instead of the baseline's gate.suites
  --suites-dir DIR  where suites live (default evals/suites)
  --format F        text (default), markdown or json
  --no-attach       do not attach the verdict to the published candidate
  --actor NAME      who ran the gate, for the audit log (default $SWITCHYARD_ACTOR or $USER)
${storeFlagUsage}`;

async function runGateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      candidate: { type: 'string' },
      baseline: { type: 'string' },
      out: { type: 'string' },
      suites: { type: 'string' },
      'suites-dir': { type: 'string' },
      format: { type: 'string', default: 'text' },
      'no-attach': { type: 'boolean' },
      actor: { type: 'string' },
      ...storeFlagOptions,
    },
  });
  if (!values.candidate) throw new UsageError(`missing --candidate\n\n${usage}`);
  if (!['text', 'markdown', 'json'].includes(values.format))
    throw new UsageError(`--format must be text, markdown or json, got \`${values.format}\``);
  const stores = await openLifecycleStoresIfPresent(values);
  try {
    const context = { flags: values, stores };
    const candidate = await resolvePolicySource(values.candidate, context);
    const compiled = compilePolicy(candidate.files);
    if (!compiled.ok)
      throw new Error(`candidate \`${values.candidate}\` does not compile; run \`switchyard policy check\``);
    let baseline: PolicySource;
    if (values.baseline) baseline = await resolvePolicySource(values.baseline, context);
    else {
      const stable = await stores?.versions.stableVersion(compiled.policy.name);
      if (stable) baseline = { ...(await resolvePolicySource(stable, context)), label: 'stable' };
      else if (existsSync(fallbackBaseline)) baseline = await resolvePolicySource(fallbackBaseline, context);
      else
        throw new UsageError(
          `no baseline: \`${compiled.policy.name}\` has no stable version and there is no ${fallbackBaseline}; pass --baseline`,
        );
    }
    const { runGate, renderVerdictText } = await import('@switchyard/evals');
    const { verdict, markdown } = await runGate({
      candidate: { files: candidate.files, label: candidate.version ? undefined : candidate.label },
      baseline: { files: baseline.files, label: baseline.label },
      suites: values.suites
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      suitesDir: values['suites-dir'],
      outDir: values.out,
    });
    let note = '';
    if (stores && !values['no-attach']) {
      const published = await stores.versions.get(compiled.policy.version);
      if (published) {
        const outcome = await stores.versions.attachVerdict(published.version, verdict, {
          actor: cliActor(values.actor),
          nowMs: Date.now(),
        });
        note =
          outcome === 'attached'
            ? `verdict attached to ${compiled.policy.id}\n`
            : `${compiled.policy.id} already had a verdict; kept it\n`;
      }
    }
    if (values.format === 'json') process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    else process.stdout.write(values.format === 'markdown' ? markdown : renderVerdictText(verdict));
    if (note) process.stderr.write(note);
    return verdict.pass ? 0 : 1;
  } finally {
    await stores?.close();
  }
}

/** `switchyard eval <gate>`. */
export const evalCommand: CliCommand = {
  usage: `usage: switchyard eval gate [options]\n\n${usage.replace(/^usage: .*\n\n/, '')}`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'gate')
      throw new UsageError(
        `${sub ? `unknown eval subcommand \`${sub}\`` : 'missing subcommand'}\n\n${usage}`,
      );
    return runGateCommand(rest);
  },
};
