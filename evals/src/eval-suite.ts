import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledPolicy, GateSuiteRun, GateTestOutcome } from '@switchyard/engine';
import type { EvaluateResult } from 'promptfoo';
import { parse } from 'yaml';
import type { PolicyGateway } from './policy-gateway.ts';

/** The repository's suites folder (`evals/suites`). */
export const defaultSuitesDir = new URL('../suites', import.meta.url).pathname;

/** A promptfoo suite as written in `<suites>/<name>/promptfooconfig.yaml`. */
export interface EvalSuite {
  name: string;
  path: string;
  config: Record<string, unknown>;
}

/**
 * Assertion types graded by a model: promptfoo would call a hosted API for them, and the gate
 * runs offline and must be deterministic, so suites may not use them.
 */
const modelGraded = new Set([
  'llm-rubric',
  'g-eval',
  'model-graded-closedqa',
  'model-graded-factuality',
  'factuality',
  'answer-relevance',
  'context-faithfulness',
  'context-recall',
  'context-relevance',
  'conversation-relevance',
  'similar',
  'select-best',
  'max-score',
  'classifier',
  'moderation',
  'pi',
]);

/** Reads a suite; a missing suite names the file it looked for. */
export async function loadEvalSuite(name: string, suitesDir = defaultSuitesDir): Promise<EvalSuite> {
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) throw new Error(`expected a suite name, got \`${name}\``);
  const path = join(suitesDir, name, 'promptfooconfig.yaml');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new Error(`unknown eval suite \`${name}\`: no ${path}`);
  });
  const config = parse(text) as Record<string, unknown> | null;
  if (!config || typeof config !== 'object') throw new Error(`${path}: expected a promptfoo config object`);
  checkOffline(name, config);
  return { name, path, config };
}

function assertionTypes(tests: unknown): string[] {
  if (!Array.isArray(tests)) return [];
  return tests.flatMap((t) => {
    const asserts = (t as { assert?: unknown })?.assert;
    if (!Array.isArray(asserts)) return [];
    return asserts.flatMap((a) => {
      const type = (a as { type?: unknown })?.type;
      const nested = (a as { assert?: unknown })?.assert;
      return [...(typeof type === 'string' ? [type] : []), ...assertionTypes([{ assert: nested }])];
    });
  });
}

function checkOffline(name: string, config: Record<string, unknown>): void {
  const defaultTest = config.defaultTest ? [config.defaultTest] : [];
  for (const type of assertionTypes([...(Array.isArray(config.tests) ? config.tests : []), ...defaultTest])) {
    if (modelGraded.has(type.replace(/^not-/, '')))
      throw new Error(
        `suite \`${name}\` uses the model-graded assertion \`${type}\`; the gate runs offline, use equals, contains, is-json or javascript`,
      );
  }
  const providers = Array.isArray(config.providers) ? config.providers : [];
  if (providers.length === 0) throw new Error(`suite \`${name}\` declares no provider`);
  for (const p of providers) {
    const id = typeof p === 'string' ? p : (p as { id?: unknown })?.id;
    if (typeof id !== 'string' || !/^openai:chat:/.test(id))
      throw new Error(
        `suite \`${name}\`: provider \`${String(id)}\` cannot be pointed at the gateway; use \`openai:chat:<model>\``,
      );
  }
}

/**
 * Settings that keep promptfoo offline and out of the user's home: no telemetry, no update check,
 * no sharing, no response cache (a cached answer would hide what the policy does), its config in a
 * temporary folder. Applied to this process before promptfoo is loaded; values already set win.
 */
export function keepPromptfooOffline(env: NodeJS.ProcessEnv = process.env): void {
  env.PROMPTFOO_DISABLE_TELEMETRY ??= '1';
  env.PROMPTFOO_DISABLE_UPDATE ??= '1';
  env.PROMPTFOO_DISABLE_SHARING ??= '1';
  env.PROMPTFOO_CACHE_ENABLED ??= 'false';
  env.PROMPTFOO_DISABLE_REMOTE_GENERATION ??= 'true';
  if (!env.PROMPTFOO_CONFIG_DIR) {
    env.PROMPTFOO_CONFIG_DIR = join(tmpdir(), 'switchyard-promptfoo');
    mkdirSync(env.PROMPTFOO_CONFIG_DIR, { recursive: true });
  }
}

type PromptfooModule = typeof import('promptfoo');
let promptfoo: Promise<PromptfooModule['default']> | undefined;

/** promptfoo, loaded once (it takes seconds) after making sure it stays offline. */
function loadPromptfoo(): Promise<PromptfooModule['default']> {
  keepPromptfooOffline();
  promptfoo ??= import('promptfoo').then((m) => m.default);
  return promptfoo;
}

/** Every provider of the suite, pointed at the gateway with its key (model and options kept). */
function gatewayProviders(config: Record<string, unknown>, gateway: PolicyGateway): unknown[] {
  return (config.providers as unknown[]).map((p) => {
    const provider =
      typeof p === 'string' ? { id: p } : (p as { id: string; config?: Record<string, unknown> });
    return {
      ...provider,
      config: { ...(provider.config ?? {}), apiBaseUrl: gateway.baseURL, apiKey: gateway.apiKey },
    };
  });
}

const header = (r: EvaluateResult, name: string): string | undefined => {
  const headers = (r.response?.metadata as { http?: { headers?: Record<string, string> } } | undefined)?.http
    ?.headers;
  return headers?.[name];
};

/**
 * What a test's request cost, from the response: its token usage priced at the deployment that
 * answered (`x-switchyard-model`). Attempts that answered and were escalated
 * (`x-switchyard-attempts`) are charged the same usage at their own prices (the gateway reports
 * usage for the final answer only); failed attempts and cache hits cost nothing.
 */
export function costOfResult(r: EvaluateResult, policy: CompiledPolicy): number {
  if (header(r, 'x-switchyard-cache') === 'hit') return 0;
  const usage = r.response?.tokenUsage;
  const prompt = usage?.prompt ?? 0;
  const completion = usage?.completion ?? 0;
  const price = (deploymentId: string) => {
    const model = policy.models.get(deploymentId.split('/')[0] ?? '');
    const d = model?.deployments.find((x) => x.id === deploymentId);
    return d ? (prompt * d.price.inPerMTok + completion * d.price.outPerMTok) / 1e6 : 0;
  };
  const served = header(r, 'x-switchyard-model');
  let usd = served ? price(served) : 0;
  for (const attempt of (header(r, 'x-switchyard-attempts') ?? '').split(',')) {
    const [deployment, outcome] = attempt.trim().split(';');
    if (deployment && outcome === 'escalated') usd += price(deployment);
  }
  return usd;
}

function outcomeOf(r: EvaluateResult, id: string, policy: CompiledPolicy): GateTestOutcome {
  const failure = r.success ? undefined : (r.error ?? r.gradingResult?.reason ?? 'failed');
  return {
    id,
    passed: r.success,
    costUsd: costOfResult(r, policy),
    latencyMs: r.latencyMs,
    failure: failure ? failure.replace(/\s+/g, ' ').slice(0, 300) : undefined,
    servedBy: header(r, 'x-switchyard-model'),
  };
}

/**
 * Sends one trivial request through promptfoo and the gateway and ignores the outcome, so the
 * first measured test pays no cold start (module loading, JIT, connection setup) that the other
 * side of the comparison would not pay.
 */
export async function warmUpGateway(suite: EvalSuite, gateway: PolicyGateway): Promise<void> {
  const pf = await loadPromptfoo();
  await pf.evaluate(
    {
      prompts: ['What is 2 + 2?'],
      providers: gatewayProviders(suite.config, gateway),
      tests: [{ vars: {} }],
      writeLatestResults: false,
      sharing: false,
    } as Parameters<typeof pf.evaluate>[0],
    { cache: false, maxConcurrency: 1, showProgressBar: false, silent: true } as Parameters<
      typeof pf.evaluate
    >[1],
  );
}

/**
 * Runs a suite with promptfoo through a gateway and returns each test's outcome, cost and latency.
 * A test is named by its `description` (else its position), with the prompt's label added when a
 * test runs under several prompts.
 */
export async function runEvalSuite(
  suite: EvalSuite,
  gateway: PolicyGateway,
  options: { concurrency?: number | undefined } = {},
): Promise<GateSuiteRun> {
  const pf = await loadPromptfoo();
  const record = await pf.evaluate(
    {
      ...suite.config,
      providers: gatewayProviders(suite.config, gateway),
      writeLatestResults: false,
      sharing: false,
    } as Parameters<typeof pf.evaluate>[0],
    {
      cache: false,
      maxConcurrency: options.concurrency ?? 4,
      showProgressBar: false,
      silent: true,
    } as Parameters<typeof pf.evaluate>[1],
  );
  const summary = (await record.toEvaluateSummary()) as { results: EvaluateResult[] };
  const results = [...summary.results].sort((a, b) => a.testIdx - b.testIdx || a.promptIdx - b.promptIdx);
  const baseId = (r: EvaluateResult) => r.testCase.description ?? `test-${r.testIdx + 1}`;
  const count = new Map<string, number>();
  for (const r of results) count.set(baseId(r), (count.get(baseId(r)) ?? 0) + 1);
  const tests = results.map((r) => {
    const id = count.get(baseId(r))! > 1 ? `${baseId(r)} [${r.prompt.label}]` : baseId(r);
    return outcomeOf(r, id, gateway.policy);
  });
  return { suite: suite.name, tests };
}
