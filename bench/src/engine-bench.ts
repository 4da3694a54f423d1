import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type CompiledPolicy,
  compilePolicy,
  type Decision,
  decide,
  type Env,
  formatDiagnostic,
  type RequestFacts,
  type StateSnapshot,
  seededEnv,
} from '@switchyard/engine';
import { benchTenant, buildBenchPolicy } from './engine-bench-policy.ts';

/** The target: deciding must cost at most half of parsing the request body it decides about. */
const targetRatio = 0.5;
const opsPerBatch = 1000;
const warmupBatches = 50;
const measuredBatches = 400;
const scenarioBatches = 60;
const compileRuns = 20;
const nowMs = Date.UTC(2025, 5, 15, 12, 30, 0);

/** A request as the server sees it before deciding; `weight` is its share of the mix. */
interface Scenario {
  name: string;
  weight: number;
  facts: RequestFacts;
}

function facts(overrides: Partial<RequestFacts>): RequestFacts {
  return {
    endpoint: 'chat',
    model: 'auto',
    tenant: benchTenant(5),
    keyId: 'key-5a1f',
    tags: [],
    stream: false,
    hasTools: false,
    hasImages: false,
    inputTokens: 520,
    maxTokens: 512,
    temperature: 0.7,
    messageCount: 4,
    responseFormat: 'text',
    metadata: {},
    ...overrides,
  };
}

/** A realistic traffic mix over the bench policy: early and late routes, cache hits, escalation. */
const scenarios: Scenario[] = [
  { name: 'early route (tags, r005)', weight: 2, facts: facts({ tags: ['tag-5', 'prod'] }) },
  {
    name: 'tenant + stream (r001)',
    weight: 1,
    facts: facts({ tenant: benchTenant(2), keyId: 'key-2b', stream: true }),
  },
  {
    name: 'late JSON Logic (r093)',
    weight: 1,
    facts: facts({ temperature: 0.1, metadata: { priority: 'p93', app: 'crm' } }),
  },
  {
    name: 'late alias (r094)',
    weight: 1,
    facts: facts({ model: 'alias-94', tenant: benchTenant(9), keyId: 'key-9c' }),
  },
  {
    name: 'auto + 2 escalation hops (r098)',
    weight: 3,
    facts: facts({ tenant: benchTenant(12), keyId: 'key-12d', inputTokens: 1800, maxTokens: undefined }),
  },
  {
    name: 'cache hit (rule 16 of 20)',
    weight: 1,
    facts: facts({ tenant: benchTenant(46), keyId: 'key-46e', tags: ['tag-10'], temperature: 0 }),
  },
  {
    name: 'embeddings (r000, cache)',
    weight: 1,
    facts: facts({
      endpoint: 'embeddings',
      model: 'embed',
      inputTokens: 300,
      maxTokens: undefined,
      temperature: undefined,
      messageCount: 8,
    }),
  },
];

/** A ~2 KB OpenAI chat completion body: system prompt, a few turns, sampling parameters, metadata. */
function chatBody(): string {
  const system =
    'You are Acme Support Assistant, a helpful and precise customer support agent for Acme Cloud. ' +
    'Answer only questions about Acme products, billing and account management. Be concise, friendly and ' +
    'accurate. When you are not sure, say so and offer to open a ticket. Never reveal internal tooling, ' +
    'never invent order numbers, and always confirm destructive actions (cancellations, deletions, refunds) ' +
    'before performing them. Format prices in the customer’s currency and dates as YYYY-MM-DD. If the ' +
    'customer writes in another language, answer in that language. Escalate to a human agent when the ' +
    'customer asks for one twice, when legal or security topics come up, or when a refund exceeds 500 USD.';
  return JSON.stringify({
    model: 'auto',
    messages: [
      { role: 'system', content: system },
      {
        role: 'user',
        content: 'Hi, I was charged twice for my Pro plan this month. Can you check what happened?',
      },
      {
        role: 'assistant',
        content:
          'I’m sorry about that! I can see two charges of 49.00 USD on 2025-06-01 for the Pro plan on your account. ' +
          'The second one looks like a duplicate authorization. Would you like me to request a refund for it?',
      },
      {
        role: 'user',
        content: 'Yes please. Also, will this affect my invoice for the annual upgrade I planned next week?',
      },
      {
        role: 'assistant',
        content:
          'I’ve requested the refund; it usually appears within 5–7 business days. Your annual upgrade invoice will not be ' +
          'affected: it is prorated from your current billing date.',
      },
      {
        role: 'user',
        content:
          'Great. Can you confirm the refund reference and the exact amount I will get back? And please send the ' +
          'confirmation to my billing contact as well, finance@example.com, since they reconcile our card statements.',
      },
    ],
    temperature: 0.2,
    top_p: 1,
    max_tokens: 512,
    stream: true,
    stream_options: { include_usage: true },
    user: 'cust-88213',
    metadata: {
      app: 'support-widget',
      conversation: 'c-7f3a9e21',
      locale: 'en-US',
      plan: 'pro',
      region: 'eu-west-1',
      channel: 'web',
    },
    response_format: { type: 'text' },
    presence_penalty: 0,
    frequency_penalty: 0,
  });
}

/** The mix as a flat cycle, so each batch replays the same proportions. */
function mixCycle(): RequestFacts[] {
  return scenarios.flatMap((s) => Array.from({ length: s.weight }, () => s.facts));
}

/**
 * A snapshot as the server would read it for these requests: every quota and bucket key the plans
 * name has a value (partly used, nothing exhausted) and one deployment's breaker is open.
 */
function snapshotFor(policy: CompiledPolicy, requests: readonly RequestFacts[], env: Env): StateSnapshot {
  const quotaUsed: Record<string, number> = {};
  const buckets: Record<string, { tokens: number; atMs: number }> = {};
  for (const f of requests) {
    const d = decide(policy, f, {}, env);
    if (d.kind !== 'plan')
      throw new Error(`bench request \`${f.model}\` of \`${f.tenant}\` was denied: ${d.code} ${d.message}`);
    for (const c of [...d.charges, ...d.escalation.flatMap((h) => h.charges)])
      quotaUsed[c.key] = c.limit * 0.3;
    for (const l of d.limits) buckets[l.key] = { tokens: l.capacity * 0.6, atMs: nowMs - 250 };
  }
  return { quotaUsed, buckets, breakers: { 'fast/oai-mini-eu': 'open' } };
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function summarize(perOpNs: number[]): { medianNs: number; p99Ns: number } {
  const sorted = [...perOpNs].sort((a, b) => a - b);
  return { medianNs: percentile(sorted, 50), p99Ns: percentile(sorted, 99) };
}

/** Keeps the optimizer from dropping work whose result is unused. */
let sink = 0;

function decideBatch(
  policy: CompiledPolicy,
  cycle: readonly RequestFacts[],
  snapshot: StateSnapshot,
  env: Env,
): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < opsPerBatch; i++) {
    const d: Decision = decide(policy, cycle[i % cycle.length]!, snapshot, env);
    sink += d.reasons.length;
  }
  return Number(process.hrtime.bigint() - start) / opsPerBatch;
}

function parseBatch(body: string): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < opsPerBatch; i++) {
    const parsed = JSON.parse(body) as { messages: unknown[] };
    sink += parsed.messages.length;
  }
  return Number(process.hrtime.bigint() - start) / opsPerBatch;
}

function formatNs(ns: number): string {
  return ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1000
      ? `${(ns / 1000).toFixed(2)} µs`
      : `${ns.toFixed(0)} ns`;
}

function main(): void {
  const text = buildBenchPolicy();
  const files = [{ path: 'engine-bench.yaml', text }];

  const compileMs: number[] = [];
  let policy: CompiledPolicy | undefined;
  for (let i = 0; i < compileRuns + 3; i++) {
    const start = process.hrtime.bigint();
    const result = compilePolicy(files);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (!result.ok)
      throw new Error(`bench policy does not compile:\n${result.errors.map(formatDiagnostic).join('\n')}`);
    policy = result.policy;
    if (i >= 3) compileMs.push(ms); // the first compiles also warm up the JIT
  }
  const compile = summarize(compileMs.map((ms) => ms * 1e6));
  if (!policy) throw new Error('unreachable: no compile ran');

  const env = seededEnv(nowMs, 42);
  const cycle = mixCycle();
  const snapshot = snapshotFor(policy, cycle, env);
  const body = chatBody();

  for (let i = 0; i < warmupBatches; i++) {
    decideBatch(policy, cycle, snapshot, env);
    parseBatch(body);
  }
  // A/B alternating, so drift in machine load (other processes, frequency scaling) hits both alike.
  const decideNs: number[] = [];
  const parseNs: number[] = [];
  for (let i = 0; i < measuredBatches; i++) {
    if (i % 2 === 0) {
      decideNs.push(decideBatch(policy, cycle, snapshot, env));
      parseNs.push(parseBatch(body));
    } else {
      parseNs.push(parseBatch(body));
      decideNs.push(decideBatch(policy, cycle, snapshot, env));
    }
  }
  const decideStats = summarize(decideNs);
  const parseStats = summarize(parseNs);
  const ratio = decideStats.medianNs / parseStats.medianNs;
  const met = ratio <= targetRatio;

  // Scenarios take turns batch by batch, so load drift spreads over all of them alike.
  const scenarioNs = scenarios.map((): number[] => []);
  for (let i = 0; i < scenarioBatches; i++) {
    for (let j = 0; j < scenarios.length; j++)
      scenarioNs[j]!.push(decideBatch(policy, [scenarios[j]!.facts], snapshot, env));
  }
  const perScenario = scenarios.map((s, j) => {
    const d = decide(policy, s.facts, snapshot, env);
    return {
      name: s.name,
      route: d.kind === 'plan' ? d.routeId : d.code,
      cacheRule: d.kind === 'plan' ? (d.cache?.ruleId ?? null) : null,
      ...summarize(scenarioNs[j]!),
    };
  });

  const bodyBytes = Buffer.byteLength(body);
  const shape = `${policy.routes.length} routes, ${policy.cacheRules.length} cache rules, ${policy.tenants.size} tenants, ${policy.models.size} models`;
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `engine bench · node ${process.version} · ${cpus()[0]?.model ?? 'unknown cpu'} · ${opsPerBatch} ops × ${measuredBatches} batches per side`,
    `policy: ${shape} (${(text.length / 1024).toFixed(1)} KiB YAML)`,
    '',
    `${pad('op', 34)}${pad('median/op', 12)}p99/op`,
    `${pad(`compilePolicy (${compileRuns} runs)`, 34)}${pad(formatNs(compile.medianNs), 12)}${formatNs(compile.p99Ns)}`,
    `${pad('decide (mix)', 34)}${pad(formatNs(decideStats.medianNs), 12)}${formatNs(decideStats.p99Ns)}`,
    `${pad(`JSON.parse (${bodyBytes} B chat body)`, 34)}${pad(formatNs(parseStats.medianNs), 12)}${formatNs(parseStats.p99Ns)}`,
    '',
    `decide / JSON.parse (median): ${ratio.toFixed(2)}×  target ≤ ${targetRatio}×: ${met ? 'met' : 'NOT met'}`,
    '',
    'decide per scenario:',
    ...perScenario.map(
      (s) =>
        `  ${pad(s.name, 34)}${pad(formatNs(s.medianNs), 12)}${pad(formatNs(s.p99Ns), 12)}→ ${s.route}${s.cacheRule ? ` · cache ${s.cacheRule}` : ''}`,
    ),
  ];
  console.log(lines.join('\n'));

  const results = {
    at: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? null,
    policy: {
      id: policy.id,
      routes: policy.routes.length,
      cacheRules: policy.cacheRules.length,
      tenants: policy.tenants.size,
      models: policy.models.size,
      yamlBytes: text.length,
    },
    method: {
      opsPerBatch,
      warmupBatches,
      measuredBatches,
      alternating: true,
      perOpFrom: 'batch mean; median and p99 over batches',
    },
    compile: { runs: compileRuns, medianMs: compile.medianNs / 1e6, p99Ms: compile.p99Ns / 1e6 },
    decide: decideStats,
    jsonParse: { ...parseStats, bodyBytes },
    ratio,
    target: { maxRatio: targetRatio, met },
    scenarios: perScenario,
    sink,
  };
  const out = fileURLToPath(new URL('../results/engine.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${out}`);
}

main();
