import type { ChatChunk, FinishReason, Usage } from '../chat-types.ts';
import { primeChatStream } from '../primed-chat-stream.ts';
import { type ChatStream, UpstreamError } from '../provider.ts';
import type { SseEvent } from '../sse-parser.ts';
import { geminiStreamError } from './gemini-error.ts';
import { answerText, finishReasonFromGemini, ToolCallIds, usageFromGemini } from './translate-response.ts';
import type { GeminiErrorBody, GeminiResponse, GeminiUsageMetadata } from './wire.ts';

/** Identity of the chunks of one stream, for when Gemini does not send its own. */
export interface GeminiStreamIdentity {
  id: string;
  model: string;
  createdSeconds: number;
}

/**
 * Opens a chat stream over a `streamGenerateContent?alt=sse` body: resolves once the first event was
 * translated (an error object in its place rejects), then yields OpenAI chunks as events arrive.
 */
export function openGeminiChatStream(
  events: AsyncIterable<SseEvent>,
  identity: GeminiStreamIdentity,
): Promise<ChatStream> {
  const translator = new GeminiStreamTranslator(identity);
  return primeChatStream(translator.translate(events), () => translator.usage);
}

/**
 * Translates Gemini stream events (each a whole `GenerateContentResponse` holding only the new
 * parts) into OpenAI chunks: a role chunk when a candidate first appears, text parts as content,
 * each `functionCall` part as one complete tool call (Gemini never splits arguments), a finish
 * chunk on `finishReason`, and after the last event one usage chunk with no choices.
 */
export class GeminiStreamTranslator {
  private readonly identity: GeminiStreamIdentity;
  /** Usage, set when the stream ended. */
  usage: Usage | undefined;
  private readonly ids = new ToolCallIds();
  private readonly started = new Set<number>();
  private readonly toolCallsByCandidate = new Map<number, number>();
  private latestUsage: GeminiUsageMetadata | undefined;
  private id: string;
  private model: string;

  constructor(identity: GeminiStreamIdentity) {
    this.identity = identity;
    this.id = identity.id;
    this.model = identity.model;
  }

  /** Yields chunks for `events`; throws `UpstreamError` on an error event or a stream that ends unfinished. */
  async *translate(events: AsyncIterable<SseEvent>): AsyncGenerator<ChatChunk> {
    let finished = false;
    for await (const sse of events) {
      const event = parseEvent(sse);
      if ('error' in event) throw geminiStreamError((event as GeminiErrorBody).error);
      if (event.responseId) this.id = event.responseId;
      if (event.modelVersion) this.model = event.modelVersion;
      if (event.usageMetadata) this.latestUsage = event.usageMetadata;
      const candidates = event.candidates ?? [];
      if (candidates.length === 0 && event.promptFeedback?.blockReason) {
        yield* this.begin(0);
        yield this.chunk(0, {}, 'content_filter');
        finished = true;
      }
      for (const [position, candidate] of candidates.entries()) {
        const index = candidate.index ?? position;
        yield* this.begin(index);
        const parts = candidate.content?.parts ?? [];
        const text = answerText(parts);
        if (text) yield this.chunk(index, { content: text });
        for (const part of parts) {
          if (!part.functionCall) continue;
          const toolIndex = this.toolCallsByCandidate.get(index) ?? 0;
          this.toolCallsByCandidate.set(index, toolIndex + 1);
          yield this.chunk(index, {
            tool_calls: [
              {
                index: toolIndex,
                id: this.ids.idFor(part),
                type: 'function',
                function: {
                  name: part.functionCall.name,
                  arguments: JSON.stringify(part.functionCall.args ?? {}),
                },
              },
            ],
          });
        }
        if (candidate.finishReason) {
          finished = true;
          yield this.chunk(
            index,
            {},
            finishReasonFromGemini(candidate.finishReason, this.toolCallsByCandidate.has(index)),
          );
        }
      }
    }
    if (!finished)
      throw new UpstreamError(
        'gemini stream ended before a finish reason',
        'protocol',
        502,
        'upstream_error',
        'upstream_protocol_error',
      );
    this.usage = usageFromGemini(this.latestUsage);
    yield {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.identity.createdSeconds,
      model: this.model,
      choices: [],
      usage: this.usage,
    };
  }

  private *begin(index: number): Generator<ChatChunk> {
    if (this.started.has(index)) return;
    this.started.add(index);
    yield this.chunk(index, { role: 'assistant', content: '' });
  }

  private chunk(
    index: number,
    delta: ChatChunk['choices'][number]['delta'],
    finishReason: FinishReason | null = null,
  ): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.identity.createdSeconds,
      model: this.model,
      choices: [{ index, delta, finish_reason: finishReason }],
    };
  }
}

function parseEvent(sse: SseEvent): GeminiResponse | GeminiErrorBody {
  try {
    return JSON.parse(sse.data) as GeminiResponse | GeminiErrorBody;
  } catch {
    throw new UpstreamError(
      'gemini sent an unreadable stream event',
      'protocol',
      502,
      'upstream_error',
      'upstream_protocol_error',
    );
  }
}
