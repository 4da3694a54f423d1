import type { PolicyInput } from '@switchyard/engine';
import { stringify } from 'yaml';

/** Sizes of the generated bench policy. */
export const benchPolicyShape = { routes: 100, cacheRules: 20, tenants: 50 } as const;

/** How many routes of each kind the generator cycles through (tags, tenant, metadata, when, alias). */
const routeKinds = 5;

/** The tenant name for index `i` (`default` is tenant 0, the others `team-01` … `team-49`). */
export function benchTenant(i: number): string {
  return i === 0 ? 'default' : `team-${String(i).padStart(2, '0')}`;
}

/** A policy's `${env:NAME}` secret reference (a policy value, not a template to fill in here). */
function envRef(name: string): string {
  return `\${env:${name}}`;
}

function deployment(
  provider: string,
  model: string,
  weight: number,
  inPerMTok: number,
  outPerMTok: number,
  id?: string,
) {
  return { ...(id ? { id } : {}), provider, model, weight, price: { inPerMTok, outPerMTok } };
}

function models(): PolicyInput['models'] {
  const chat = ['chat', 'streaming'] as const;
  const tools = ['chat', 'streaming', 'tools', 'json'] as const;
  return {
    fast: {
      contextWindow: 128_000,
      maxOutputTokens: 2048,
      capabilities: [...tools],
      deployments: [
        deployment('openai', 'gpt-4o-mini', 3, 0.15, 0.6, 'oai-mini'),
        deployment('openai-eu', 'gpt-4o-mini', 1, 0.15, 0.6, 'oai-mini-eu'),
        deployment('vllm', 'Qwen/Qwen2.5-7B-Instruct', 1, 0.02, 0.02, 'qwen-7b'),
      ],
    },
    strong: {
      contextWindow: 200_000,
      maxOutputTokens: 8192,
      capabilities: [...tools, 'vision'],
      deployments: [
        deployment('anthropic', 'claude-sonnet-4-5', 2, 3, 15, 'sonnet'),
        deployment('openai', 'gpt-4.1', 1, 2, 8, 'gpt-41'),
      ],
    },
    code: {
      contextWindow: 200_000,
      maxOutputTokens: 8192,
      capabilities: [...tools],
      deployments: [
        deployment('anthropic', 'claude-sonnet-4-5', 1, 3, 15, 'sonnet'),
        deployment('vllm', 'Qwen/Qwen2.5-Coder-32B-Instruct', 1, 0.1, 0.1, 'qwen-coder'),
      ],
    },
    long: {
      contextWindow: 1_000_000,
      maxOutputTokens: 8192,
      capabilities: [...chat],
      deployments: [
        deployment('gemini', 'gemini-2.5-pro', 1, 1.25, 10, 'gemini-pro'),
        deployment('gemini', 'gemini-2.5-flash', 1, 0.3, 2.5, 'gemini-flash'),
      ],
    },
    vision: {
      capabilities: [...chat, 'vision'],
      deployments: [
        deployment('openai', 'gpt-4o', 1, 2.5, 10, 'gpt-4o'),
        deployment('gemini', 'gemini-2.5-flash', 1, 0.3, 2.5, 'gemini-flash'),
      ],
    },
    reasoning: {
      contextWindow: 200_000,
      maxOutputTokens: 16_000,
      deployments: [
        deployment('openai', 'o4-mini', 1, 1.1, 4.4, 'o4-mini'),
        deployment('anthropic', 'claude-opus-4-1', 1, 15, 75, 'opus'),
      ],
    },
    local: {
      contextWindow: 32_000,
      capabilities: [...tools],
      deployments: [
        deployment('vllm', 'meta-llama/Llama-3.1-8B-Instruct', 2, 0.01, 0.01, 'llama-a'),
        deployment('vllm', 'meta-llama/Llama-3.1-8B-Instruct', 1, 0.01, 0.01, 'llama-b'),
        deployment('vllm', 'mistralai/Mistral-7B-Instruct-v0.3', 1, 0.01, 0.01, 'mistral'),
      ],
    },
    cheap: {
      contextWindow: 64_000,
      deployments: [
        deployment('gemini', 'gemini-2.5-flash-lite', 3, 0.1, 0.4, 'flash-lite'),
        deployment('openai', 'gpt-4.1-nano', 1, 0.1, 0.4, 'nano'),
      ],
    },
    embed: {
      capabilities: ['embedding'],
      deployments: [
        deployment('openai', 'text-embedding-3-small', 1, 0.02, 0, 'te3-small'),
        deployment('vllm', 'BAAI/bge-m3', 1, 0.005, 0, 'bge-m3'),
      ],
    },
    rerank: {
      contextWindow: 8192,
      capabilities: ['embedding'],
      deployments: [deployment('vllm', 'BAAI/bge-reranker-v2-m3', 1, 0.005, 0, 'bge-rerank')],
    },
  };
}

function tenants(): NonNullable<PolicyInput['tenants']> {
  const out: NonNullable<PolicyInput['tenants']> = {};
  for (let i = 0; i < benchPolicyShape.tenants; i++) {
    const restricted = i % 7 === 3;
    out[benchTenant(i)] = {
      description: `bench tenant ${i}`,
      allowModels: restricted ? ['fast', 'cheap', 'local', 'embed'] : '*',
      quotas: [
        { id: 'usd-day', per: 'tenant', window: 'day', usd: 100 + i * 10 },
        { id: 'key-tokens-minute', per: 'key', window: 'minute', tokens: 400_000 },
        { id: 'key-requests-hour', per: 'key', window: 'hour', requests: 20_000 },
      ],
      rateLimits: [
        { id: 'key-rps', per: 'key', rps: 50, burst: 100 },
        { id: 'tenant-tpm', per: 'tenant', tpm: 2_000_000 },
      ],
      onStoreFailure: i % 2 === 0 ? 'open' : 'closed',
    };
  }
  return out;
}

/** The `when` conditions routes of the JSON Logic kind cycle through. */
function routeCondition(k: number): unknown {
  switch (k % 4) {
    case 0:
      return { '>': [{ var: 'inputTokens' }, 30_000 + k * 1000] };
    case 1:
      return {
        and: [{ '<=': [{ var: 'temperature' }, 0.2] }, { '==': [{ var: 'metadata.priority' }, `p${k}`] }],
      };
    case 2:
      return {
        or: [{ '==': [{ var: 'metadata.workflow' }, `wf-${k}`] }, { in: [`label-${k}`, { var: 'tags' }] }],
      };
    default:
      return {
        and: [
          { '==': [{ var: 'responseFormat' }, 'json_schema'] },
          { '>': [{ var: 'messageCount' }, 20 + k] },
        ],
      };
  }
}

const targets = ['fast', 'strong', 'code', 'long', 'reasoning', 'local', 'cheap'] as const;

function routes(): NonNullable<PolicyInput['routes']> {
  const out: NonNullable<PolicyInput['routes']> = [];
  const n = benchPolicyShape.routes;
  // The last two are the usual tail: `auto` cheap-first with escalation, then a catch-all.
  // Embeddings first, as real policies do: the catch-all would otherwise send them to a chat model.
  out.push({ id: 'embeddings', match: { endpoint: 'embeddings' }, target: 'embed' });
  for (let i = 1; i < n - 2; i++) {
    const target = targets[i % targets.length]!;
    const id = `r${String(i).padStart(3, '0')}`;
    switch (i % routeKinds) {
      case 0:
        out.push({ id, match: { model: 'auto', tags: [`tag-${i}`] }, target });
        break;
      case 1:
        out.push({
          id,
          match: {
            model: ['auto', 'chat'],
            tenant: benchTenant(1 + (i % (benchPolicyShape.tenants - 1))),
            stream: true,
          },
          target,
        });
        break;
      case 2:
        out.push({
          id,
          match: { model: 'auto', metadata: { feature: `feature-${i}` } },
          target,
          escalate: [{ to: target === 'reasoning' ? 'strong' : 'reasoning', on: ['error', 'length'] }],
        });
        break;
      case 3:
        out.push({
          id,
          match: { model: 'auto' },
          when: routeCondition(i) as Record<string, unknown>,
          target: 'strong',
        });
        break;
      default:
        if (i === 4) out.push({ id, match: { model: `alias-${i}` }, experiment: 'fast-vs-local' });
        else out.push({ id, match: { model: `alias-${i}` }, target, idempotent: i % 2 === 0 });
    }
  }
  out.push({
    id: 'auto',
    match: { model: 'auto' },
    target: 'fast',
    escalate: {
      steps: [
        { to: 'strong', on: ['error', 'timeout', 'length', 'lowConfidence'] },
        { to: 'reasoning', on: ['error', 'refusal'] },
      ],
      maxHops: 2,
    },
  });
  out.push({ id: 'catch-all', description: 'everything else', target: 'cheap' });
  return out;
}

function cacheRules(): NonNullable<PolicyInput['cache']> {
  const out: NonNullable<PolicyInput['cache']> = [];
  for (let i = 0; i < benchPolicyShape.cacheRules - 2; i++) {
    const id = `c${String(i).padStart(2, '0')}`;
    const tenant = benchTenant(1 + ((i * 3) % (benchPolicyShape.tenants - 1)));
    if (i % 3 === 0) {
      out.push({
        id,
        match: { tenant, endpoint: ['chat', 'messages'] },
        when: { '==': [{ var: 'temperature' }, 0] },
        mode: 'exact',
        ttl: '1h',
        scope: 'key',
      });
    } else if (i % 3 === 1) {
      out.push({
        id,
        match: { tenant, metadata: { cache: 'faq' } },
        mode: 'semantic',
        similarity: 0.97,
        embeddingModel: 'embed',
        ttl: '30m',
        scope: 'tenant',
      });
    } else {
      out.push({
        id,
        match: { tags: [`cacheable-${i}`] },
        when: { '<=': [{ var: 'inputTokens' }, 4000] },
        mode: 'exact',
        ttl: '10m',
        scope: 'key',
        countTokensOnHit: true,
      });
    }
  }
  out.push({
    id: 'embeddings',
    match: { endpoint: 'embeddings' },
    mode: 'exact',
    ttl: '7d',
    scope: 'tenant',
  });
  out.push({
    id: 'deterministic',
    when: { and: [{ '==': [{ var: 'temperature' }, 0] }, { '!': [{ var: 'hasTools' }] }] },
    mode: 'exact',
    ttl: '1h',
    scope: 'key',
  });
  return out;
}

/**
 * Generates the engine bench's policy as YAML: 100 varied routes (model, tags, tenant, metadata,
 * JSON Logic on input tokens, temperature and metadata; a catch-all last), 20 cache rules, 50 tenants
 * each with quotas and rate limits, and 10 logical models over several providers and deployments.
 * Deterministic, so runs compare.
 */
export function buildBenchPolicy(): string {
  const policy: PolicyInput = {
    apiVersion: 'switchyard/v1',
    name: 'engine-bench',
    description: 'generated by bench/src/engine-bench-policy.ts',
    providers: {
      openai: { type: 'openai', apiKey: envRef('OPENAI_API_KEY') },
      'openai-eu': {
        type: 'openai',
        apiKey: envRef('OPENAI_EU_API_KEY'),
        baseUrl: 'https://eu.api.openai.com/v1',
      },
      anthropic: { type: 'anthropic', apiKey: envRef('ANTHROPIC_API_KEY') },
      gemini: { type: 'gemini', apiKey: envRef('GEMINI_API_KEY') },
      vllm: { type: 'openai-compatible', baseUrl: envRef('VLLM_URL') },
    },
    models: models(),
    tenants: tenants(),
    experiments: [
      {
        id: 'fast-vs-local',
        stickyBy: 'key',
        arms: [
          { id: 'fast', weight: 90, target: 'fast' },
          { id: 'local', weight: 10, target: 'local' },
        ],
      },
    ],
    routes: routes(),
    cache: cacheRules(),
    resilience: { overrides: { reasoning: { timeouts: { firstTokenMs: 60_000, totalMs: 300_000 } } } },
  };
  return stringify(policy, { lineWidth: 0 });
}
