import type { ProviderSpec } from '@switchyard/engine';
import type { ChatCompletion, ChatRequest, EmbeddingsRequest, EmbeddingsResponse } from '../chat-types.ts';
import { invalidChatRequestError } from '../invalid-chat-request-error.ts';
import { primeChatStream } from '../primed-chat-stream.ts';
import { type ChatStream, type ProviderAdapter, type ProviderCall, UpstreamError } from '../provider.ts';
import { upstreamErrorFromStatus } from '../upstream-error-map.ts';
import { abortableDelay } from './abortable-delay.ts';
import { resolveCapabilityTier } from './capability-tier.ts';
import { hashText } from './deterministic-hash.ts';
import { defaultEmbeddingDimensions, embeddingToBase64, embedText } from './hashed-embedding.ts';
import { messageText } from './message-text.ts';
import { createSeededRandom, type SeededRandom } from './seeded-random.ts';
import { parseSimMarkers, type SimMarkers } from './sim-markers.ts';
import { type SimulatedAnswer, simulateAnswer } from './simulated-answer.ts';
import {
  midstreamError,
  paceChunks,
  type SimulatedPacing,
  type SimulatedResponseMeta,
  toChatChunks,
  toChatCompletion,
} from './stream.ts';
import { estimateTokens } from './token-estimate.ts';

/** The simulator's latency and failure profile with the schema's defaults filled in. */
interface SimulatorProfile {
  ttftMs: number;
  tpotMs: number;
  jitter: number;
  errorRate: number;
  errorStatus: number;
  tier: number | undefined;
  seed: number;
}

/** Everything decided about one call before any waiting. */
interface SimulatedCall {
  markers: SimMarkers;
  /** The last user message without its markers. */
  prompt: string;
  profile: SimulatorProfile;
  /** Whether the profile's `errorRate` drew an injected error for this call. */
  injectedError: boolean;
  pacing: SimulatedPacing;
  provider: string;
}

/**
 * The built-in, in-process, deterministic backend: no HTTP, answers computed from the request.
 * Latency follows `deployment.provider.profile` (ttft, tpot, seeded jitter) on real timers that the
 * call's signal cancels at once; errors are injected at `errorRate` from a seeded sequence per
 * adapter instance, or on demand with `#sim:` markers. See `README.md` for the markers and tier rules.
 */
export class SimulatorAdapter implements ProviderAdapter {
  private readonly spec: ProviderSpec;
  private readonly errorDraws = new Map<number, SeededRandom>();
  private readonly latencyDraws = new Map<number, SeededRandom>();
  private calls = 0;

  constructor(spec: ProviderSpec = { type: 'simulator', maxConnections: 1 }) {
    this.spec = spec;
  }

  /** A non-streamed completion, returned after the time the whole answer would take to generate. */
  async chat(request: ChatRequest, call: ProviderCall): Promise<ChatCompletion> {
    const simulated = this.begin(request, call);
    const { answer, meta } = this.answer(request, call, simulated);
    await this.failBeforeResponse(simulated, call.signal);
    const { pacing } = simulated;
    if (simulated.markers.bodyError) throw bodyError(simulated.provider);
    const chunkCount = 1 + answer.tokens.length;
    if (pacing.stallAfterChunks !== undefined)
      await abortableDelay(Number.POSITIVE_INFINITY, call.signal, simulated.provider);
    if (pacing.errorAfterChunks !== undefined) {
      await abortableDelay(
        pacing.firstTokenMs + Math.min(pacing.errorAfterChunks, chunkCount) * pacing.perTokenMs,
        call.signal,
        simulated.provider,
      );
      throw midstreamError(simulated.provider, pacing.errorAfterChunks);
    }
    await abortableDelay(
      pacing.firstTokenMs + answer.tokens.length * pacing.perTokenMs,
      call.signal,
      simulated.provider,
    );
    return toChatCompletion(answer, meta);
  }

  /**
   * A streamed completion, paced like the profile says. Resolves with the first chunk (after the
   * time to first token); status errors and `#sim:body-error` reject before that.
   */
  async chatStream(request: ChatRequest, call: ProviderCall): Promise<ChatStream> {
    const simulated = this.begin(request, call);
    const { answer, meta } = this.answer(request, call, simulated);
    await this.failBeforeResponse(simulated, call.signal);
    let usage: SimulatedAnswer['usage'] | undefined;
    const chunks = toChatChunks(answer, meta);
    const source = async function* () {
      if (simulated.markers.bodyError) throw bodyError(simulated.provider);
      for await (const chunk of paceChunks(chunks, simulated.pacing, meta, call.signal)) {
        if (chunk.usage) usage = chunk.usage;
        yield chunk;
      }
    };
    return primeChatStream(source(), () => usage);
  }

  /** Hashed bag-of-words embeddings (see `hashed-embedding.ts`), after the time to first token. */
  async embed(request: EmbeddingsRequest, call: ProviderCall): Promise<EmbeddingsResponse> {
    const simulated = this.begin(undefined, call);
    const dimensions = request.dimensions ?? defaultEmbeddingDimensions;
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096)
      throw invalidChatRequestError(
        `expected \`dimensions\` to be an integer from 1 to 4096, got \`${dimensions}\``,
        'invalid_value',
      );
    const inputs = embeddingInputs(request.input);
    if (inputs.length === 0)
      throw invalidChatRequestError('expected `input` to hold at least one text, got none', 'invalid_value');
    await this.failBeforeResponse(simulated, call.signal);
    await abortableDelay(simulated.pacing.firstTokenMs, call.signal, simulated.provider);
    let promptTokens = 0;
    const data = inputs.map((input, index) => {
      promptTokens += typeof input === 'string' ? estimateTokens(input) : Math.max(1, input.length);
      const vector = embedText(input, dimensions);
      return {
        object: 'embedding' as const,
        index,
        embedding: request.encoding_format === 'base64' ? embeddingToBase64(vector) : vector,
      };
    });
    return {
      object: 'list',
      data,
      model: call.deployment.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    };
  }

  /** Nothing to close: no connections. */
  async close(): Promise<void> {}

  /** Parses markers and draws this call's error and jitter: one draw of each per call, in call order. */
  private begin(request: ChatRequest | undefined, call: ProviderCall): SimulatedCall {
    const profile = profileOf(call.deployment.provider.profile ?? this.spec.profile);
    const lastUser = request?.messages.findLast((message) => message.role === 'user');
    const { markers, prompt } = parseSimMarkers(messageText(lastUser?.content));
    const errorDraw = drawFrom(this.errorDraws, profile.seed)();
    const jitterDraw = drawFrom(this.latencyDraws, profile.seed ^ 0x5bd1e995)();
    const factor = 1 + profile.jitter * (2 * jitterDraw - 1);
    this.calls++;
    return {
      markers,
      prompt,
      profile,
      injectedError: errorDraw < profile.errorRate,
      provider: call.deployment.providerName,
      pacing: {
        firstTokenMs: profile.ttftMs * factor + (markers.slowMs ?? 0),
        perTokenMs: profile.tpotMs * factor,
        stallAfterChunks: markers.stallAfterChunks,
        errorAfterChunks: markers.errorAfterChunks,
      },
    };
  }

  private answer(
    request: ChatRequest,
    call: ProviderCall,
    simulated: SimulatedCall,
  ): { answer: SimulatedAnswer; meta: SimulatedResponseMeta } {
    const model = call.deployment.model;
    const tier = resolveCapabilityTier(model, simulated.profile.tier);
    const { prompt } = simulated;
    const answer = simulateAnswer(request, {
      tier,
      seed: simulated.profile.seed,
      model,
      prompt,
      refuse: simulated.markers.refuse,
    });
    const meta: SimulatedResponseMeta = {
      id: `chatcmpl-sim${hashText(model, prompt, simulated.profile.seed).toString(36)}${this.calls.toString(36)}`,
      created: Math.floor(Date.now() / 1000),
      model,
      systemFingerprint: `fp_sim_t${tier}`,
      provider: simulated.provider,
    };
    return { answer, meta };
  }

  /** `#sim:slow`'s extra wait for errors too, then the marker's or the profile's injected status error. */
  private async failBeforeResponse(simulated: SimulatedCall, signal: AbortSignal): Promise<void> {
    const status =
      simulated.markers.errorStatus ?? (simulated.injectedError ? simulated.profile.errorStatus : undefined);
    if (status === undefined) return;
    await abortableDelay(simulated.markers.slowMs ?? 0, signal, simulated.provider);
    const why =
      simulated.markers.errorStatus !== undefined ? '#sim:error' : `errorRate ${simulated.profile.errorRate}`;
    const retryAfterMs = status === 429 || status === 503 ? 1000 : undefined;
    throw upstreamErrorFromStatus(simulated.provider, status, `simulated failure (${why})`, retryAfterMs);
  }
}

function profileOf(profile: Partial<NonNullable<ProviderSpec['profile']>> | undefined): SimulatorProfile {
  return {
    ttftMs: profile?.ttftMs ?? 20,
    tpotMs: profile?.tpotMs ?? 2,
    jitter: profile?.jitter ?? 0.1,
    errorRate: profile?.errorRate ?? 0,
    errorStatus: profile?.errorStatus ?? 503,
    tier: profile?.tier,
    seed: profile?.seed ?? 1,
  };
}

function drawFrom(streams: Map<number, SeededRandom>, seed: number): SeededRandom {
  let random = streams.get(seed);
  if (!random) {
    random = createSeededRandom(seed);
    streams.set(seed, random);
  }
  return random;
}

function bodyError(provider: string): UpstreamError {
  return new UpstreamError(
    `${provider} answered with an error: simulated error body (#sim:body-error)`,
    'body',
    502,
    'upstream_error',
    'upstream_server_error',
  );
}

function embeddingInputs(input: EmbeddingsRequest['input']): (string | number[])[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  if (typeof input[0] === 'number') return [input as number[]];
  return input as (string | number[])[];
}
