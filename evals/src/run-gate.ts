import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CompiledPolicy,
  compilePolicy,
  formatDiagnostic,
  type GateSuiteRun,
  type GateThresholds,
  type GateVerdict,
  judgeGate,
  type PolicyFile,
} from '@switchyard/engine';
import type { AdapterFactory } from '@switchyard/server';
import type { Logger } from 'pino';
import {
  defaultSuitesDir,
  type EvalSuite,
  loadEvalSuite,
  runEvalSuite,
  warmUpGateway,
} from './eval-suite.ts';
import { startPolicyGateway } from './policy-gateway.ts';
import { renderVerdictMarkdown } from './render-verdict.ts';

/** One side of the gate: a policy's files and how to name it in the report. */
export interface GatePolicy {
  files: readonly PolicyFile[];
  /** Shown after `name@version`, e.g. the folder or `stable`. */
  label?: string | undefined;
}

/** Options of `runGate`. */
export interface RunGateOptions {
  candidate: GatePolicy;
  baseline: GatePolicy;
  /** Suites to run (default: the baseline's `gate.suites`). */
  suites?: readonly string[] | undefined;
  /** Overrides of the thresholds (default: the baseline's `gate:` section). */
  thresholds?: Partial<GateThresholds> | undefined;
  /** Where the suites live (default `evals/suites`). */
  suitesDir?: string | undefined;
  /** Writes `verdict.json` and `verdict.md` there when set. */
  outDir?: string | undefined;
  /** Requests promptfoo runs at once per suite (default 4). */
  concurrency?: number | undefined;
  /** Gateway logs (default: silent). */
  logger?: Logger | undefined;
  /** Provider adapters of the gateways (default: the built-in ones); for tests. */
  createAdapter?: AdapterFactory | undefined;
}

/** The gate's outcome: the verdict and its Markdown rendering. */
export interface GateRun {
  verdict: GateVerdict;
  markdown: string;
}

function compileOrThrow(side: string, files: readonly PolicyFile[]): CompiledPolicy {
  const r = compilePolicy(files);
  if (!r.ok)
    throw new Error(`${side} policy does not compile:\n${r.errors.map(formatDiagnostic).join('\n')}`);
  return r.policy;
}

const label = (policy: CompiledPolicy, side: GatePolicy) =>
  side.label ? `${policy.id} (${side.label})` : policy.id;

async function runSide(
  side: GatePolicy,
  suites: readonly EvalSuite[],
  options: RunGateOptions,
): Promise<GateSuiteRun[]> {
  const gateway = await startPolicyGateway(side.files, {
    logger: options.logger,
    createAdapter: options.createAdapter,
  });
  try {
    if (suites[0]) await warmUpGateway(suites[0], gateway);
    const runs: GateSuiteRun[] = [];
    for (const suite of suites)
      runs.push(await runEvalSuite(suite, gateway, { concurrency: options.concurrency }));
    return runs;
  } finally {
    await gateway.close();
  }
}

/**
 * The eval gate: runs each suite with promptfoo through a gateway serving the baseline, then one
 * serving the candidate (each in this process, on 127.0.0.1, one after the other so they do not
 * compete for the CPU), and judges the candidate with the engine's `judgeGate`. Suites and
 * thresholds come from the baseline's `gate:` section, so a change cannot loosen the gate it is
 * judged by; a change to `gate:` applies from the next candidate on.
 */
export async function runGate(options: RunGateOptions): Promise<GateRun> {
  const candidate = compileOrThrow('candidate', options.candidate.files);
  const baseline = compileOrThrow('baseline', options.baseline.files);
  const { suites: declaredSuites, ...declared } = baseline.spec.gate;
  const thresholds: GateThresholds = { ...declared, ...options.thresholds };
  const suites: EvalSuite[] = [];
  for (const name of options.suites ?? declaredSuites)
    suites.push(await loadEvalSuite(name, options.suitesDir ?? defaultSuitesDir));
  const baselineRuns = await runSide(options.baseline, suites, options);
  const candidateRuns = await runSide(options.candidate, suites, options);
  const verdict = judgeGate({
    candidate: { label: label(candidate, options.candidate), runs: candidateRuns },
    baseline: { label: label(baseline, options.baseline), runs: baselineRuns },
    thresholds,
  });
  const markdown = renderVerdictMarkdown(verdict);
  if (options.outDir) await writeVerdict(options.outDir, verdict, markdown);
  return { verdict, markdown };
}

/** Writes `verdict.json` and `verdict.md` into `dir` (created when missing). */
export async function writeVerdict(dir: string, verdict: GateVerdict, markdown: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'verdict.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  await writeFile(join(dir, 'verdict.md'), markdown);
}
