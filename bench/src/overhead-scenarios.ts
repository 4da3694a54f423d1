import type { TargetRequest } from './load-generator.ts';

/**
 * What the overhead bench measures: the targets (the same upstream reached directly, through a bare
 * Node proxy, through Switchyard, through Portkey) and the scenarios each of them runs.
 */

/** The targets, in report order. */
export const targetNames = ['direct', 'passthrough', 'switchyard', 'portkey'] as const;

/** A target of the overhead bench. */
export type TargetName = (typeof targetNames)[number];

/** What a target does to a request, in a few words for the report. */
export const targetDescriptions: Record<TargetName, string> = {
  direct: 'the fake upstream itself (the floor)',
  passthrough: 'bare Node proxy: node:http + undici Pool, bodies piped (the practical limit)',
  switchyard: 'Switchyard: auth, policy decision, resilience, accounting, default settings',
  portkey: 'Portkey gateway 1.15.2 (openai provider, custom host)',
};

/** The kind of request a scenario sends. */
export type Endpoint = 'chat' | 'stream' | 'embeddings';

/** One scenario: a load shape over one endpoint. */
export interface Scenario {
  name: string;
  title: string;
  endpoint: Endpoint;
  mode: 'closed' | 'open';
  /** Closed loop: requests in flight; open loop: the most in flight (sends beyond it wait). */
  concurrency: number;
  /** Open loop: requests per second. */
  rate?: number;
  /** Which measured-phase length of `BenchTiming` applies. */
  phase: 'short' | 'long';
  /** Targets it runs against (default: all). */
  targets?: readonly TargetName[];
}

/** Phase lengths of one run. */
export interface BenchTiming {
  /** Rounds: each round runs every target once per scenario, in a rotated order. */
  rounds: number;
  /**
   * Load each target gets once before the first scenario, per endpoint, thrown away: the JIT of
   * the gateway, the upstream and the generator needs a few seconds of traffic to settle.
   */
  initialWarmupMs: number;
  /** Load before each measured phase, thrown away (connections reopen, caches refill). */
  warmupMs: number;
  /** Measured phase of most scenarios. */
  shortMs: number;
  /** Measured phase of the 1,000 req/s open loop (more samples for its p99). */
  longMs: number;
}

/** A full run: ~3.5 minutes for four targets. */
export const fullTiming: BenchTiming = {
  rounds: 3,
  initialWarmupMs: 1500,
  warmupMs: 400,
  shortMs: 1500,
  longMs: 3000,
};
/** `--quick`: a smoke run, ~45 seconds for four targets. */
export const quickTiming: BenchTiming = {
  rounds: 1,
  initialWarmupMs: 500,
  warmupMs: 250,
  shortMs: 700,
  longMs: 1000,
};

/** The scenarios, in run order. */
export const overheadScenarios: readonly Scenario[] = [
  {
    name: 'chat-c32',
    title: 'chat, closed loop, 32 concurrent',
    endpoint: 'chat',
    mode: 'closed',
    concurrency: 32,
    phase: 'short',
  },
  {
    name: 'chat-c128',
    title: 'chat, closed loop, 128 concurrent (saturation)',
    endpoint: 'chat',
    mode: 'closed',
    concurrency: 128,
    phase: 'short',
  },
  {
    name: 'chat-open-1000',
    title: 'chat, open loop, 1,000 req/s',
    endpoint: 'chat',
    mode: 'open',
    concurrency: 256,
    rate: 1000,
    phase: 'long',
  },
  {
    name: 'chat-open-300',
    title: 'chat, open loop, 300 req/s (below Portkey’s saturation)',
    endpoint: 'chat',
    mode: 'open',
    concurrency: 256,
    rate: 300,
    phase: 'short',
  },
  {
    name: 'stream-c64',
    title: 'streaming chat (20 chunks, 5 ms apart), 64 concurrent streams',
    endpoint: 'stream',
    mode: 'closed',
    concurrency: 64,
    phase: 'short',
  },
  {
    name: 'embed-c32',
    title: 'embeddings, closed loop, 32 concurrent',
    endpoint: 'embeddings',
    mode: 'closed',
    concurrency: 32,
    phase: 'short',
  },
];

const systemPrompt =
  'You are a concise assistant for Acme Cloud. Answer in one or two sentences, in the language of the ' +
  'question, and never invent facts you were not given.';

/** The request body a client sends for `endpoint`, naming `model` (~400 bytes of chat). */
export function requestBody(endpoint: Endpoint, model: string): string {
  if (endpoint === 'embeddings')
    return JSON.stringify({
      model,
      input: 'The quick brown fox jumps over the lazy dog, twice, for the benchmark.',
    });
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: systemPrompt },
      { role: 'user', content: 'What does a gateway in front of an LLM API do? Keep it short.' },
    ],
    max_tokens: 64,
    temperature: 0.7,
    ...(endpoint === 'stream' ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

/** How to reach one target: its origin, the models it knows, the headers it needs. */
export interface TargetAccess {
  origin: string;
  chatModel: string;
  embeddingModel: string;
  headers: Record<string, string>;
}

/** The request a scenario sends to a target. */
export function targetRequest(access: TargetAccess, endpoint: Endpoint): TargetRequest {
  const embeddings = endpoint === 'embeddings';
  return {
    origin: access.origin,
    path: embeddings ? '/v1/embeddings' : '/v1/chat/completions',
    headers: access.headers,
    body: requestBody(endpoint, embeddings ? access.embeddingModel : access.chatModel),
    stream: endpoint === 'stream',
  };
}
