import type { ChatChunk, FinishReason, Usage } from '../chat-types.ts';
import { primeChatStream } from '../primed-chat-stream.ts';
import { type ChatStream, UpstreamError } from '../provider.ts';
import type { SseEvent } from '../sse-parser.ts';
import { upstreamErrorFromStatus } from '../upstream-error-map.ts';
import { statusOfAnthropicErrorType } from './anthropic-error-types.ts';
import { toFinishReason, toOpenAiUsage } from './translate-response.ts';
import type { AnthropicErrorDetail, AnthropicStreamEvent, AnthropicUsage } from './wire.ts';

/**
 * Opens a chat stream over Anthropic's SSE events: resolves once the first event was translated (an
 * `error` event in its place rejects), then yields OpenAI chunks as events arrive.
 */
export function openAnthropicChatStream(
  events: AsyncIterable<SseEvent>,
  createdSeconds: number,
): Promise<ChatStream> {
  const translator = new AnthropicStreamTranslator(createdSeconds);
  return primeChatStream(translator.translate(events), () => translator.usage);
}

/** Turns an Anthropic `error` event (or an error body inside a 200) into a `body` failure the client sees. */
export function anthropicStreamError(detail: AnthropicErrorDetail): UpstreamError {
  const equivalentStatus = statusOfAnthropicErrorType(detail.type);
  const mapped = upstreamErrorFromStatus('anthropic', equivalentStatus, `${detail.type}: ${detail.message}`);
  return new UpstreamError(
    `anthropic stream failed: ${detail.type}: ${detail.message}`,
    'body',
    mapped.status,
    mapped.type,
    mapped.code,
    equivalentStatus,
  );
}

/**
 * Translates Anthropic stream events to OpenAI chunks: `message_start` → role chunk; text deltas →
 * content; a `tool_use` block → a tool call (id and name first, then `input_json_delta` pieces as
 * arguments); `message_delta` → the finish chunk; `message_stop` → a usage chunk with no choices.
 */
export class AnthropicStreamTranslator {
  private readonly createdSeconds: number;
  /** Usage, set when the stream ended with `message_stop`. */
  usage: Usage | undefined;
  private id = '';
  private model = '';
  private readonly anthropicUsage: Partial<AnthropicUsage> = {};
  /** Anthropic block index → OpenAI tool call index, for tool_use blocks. */
  private readonly toolIndexByBlock = new Map<number, number>();
  /** Tool blocks that have sent no argument text yet (they still need `{}`). */
  private readonly toolsWithoutArguments = new Set<number>();

  constructor(createdSeconds: number) {
    this.createdSeconds = createdSeconds;
  }

  /** Yields chunks for `events`; throws `UpstreamError` on an `error` event or a truncated stream. */
  async *translate(events: AsyncIterable<SseEvent>): AsyncGenerator<ChatChunk> {
    let stopped = false;
    for await (const sse of events) {
      const event = parseEvent(sse);
      switch (event.type) {
        case 'message_start':
          this.id = event.message.id;
          this.model = event.message.model;
          Object.assign(this.anthropicUsage, event.message.usage);
          yield this.chunk({ role: 'assistant', content: '' });
          break;
        case 'content_block_start': {
          const block = event.content_block;
          if (block.type === 'text' && block.text) yield this.chunk({ content: block.text });
          else if (block.type === 'tool_use') {
            const toolIndex = this.toolIndexByBlock.size;
            this.toolIndexByBlock.set(event.index, toolIndex);
            this.toolsWithoutArguments.add(event.index);
            yield this.chunk({
              tool_calls: [
                {
                  index: toolIndex,
                  id: block.id,
                  type: 'function',
                  function: { name: block.name, arguments: '' },
                },
              ],
            });
          }
          break;
        }
        case 'content_block_delta': {
          const delta = event.delta;
          if (delta.type === 'text_delta') {
            if (delta.text) yield this.chunk({ content: delta.text });
          } else if (delta.type === 'input_json_delta') {
            const toolIndex = this.toolIndexByBlock.get(event.index);
            if (toolIndex !== undefined && delta.partial_json) {
              this.toolsWithoutArguments.delete(event.index);
              yield this.chunk({
                tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }],
              });
            }
          }
          break;
        }
        case 'content_block_stop': {
          const toolIndex = this.toolIndexByBlock.get(event.index);
          // A tool called without arguments streams no input_json_delta; OpenAI clients expect JSON.
          if (toolIndex !== undefined && this.toolsWithoutArguments.delete(event.index))
            yield this.chunk({ tool_calls: [{ index: toolIndex, function: { arguments: '{}' } }] });
          break;
        }
        case 'message_delta':
          Object.assign(this.anthropicUsage, withoutNulls(event.usage));
          if (event.delta.stop_reason)
            yield this.chunk(
              {},
              toFinishReason(event.delta.stop_reason),
              event.delta.stop_sequence ?? undefined,
            );
          break;
        case 'message_stop':
          stopped = true;
          this.usage = toOpenAiUsage(this.anthropicUsage);
          yield {
            id: this.id,
            object: 'chat.completion.chunk',
            created: this.createdSeconds,
            model: this.model,
            choices: [],
            usage: this.usage,
          };
          break;
        case 'error':
          throw anthropicStreamError(event.error);
        default:
          // ping, and event types Anthropic may add later (its versioning policy says to ignore them).
          break;
      }
    }
    if (!stopped)
      throw new UpstreamError(
        'anthropic stream ended before message_stop',
        'protocol',
        502,
        'upstream_error',
        'upstream_protocol_error',
      );
  }

  private chunk(
    delta: ChatChunk['choices'][number]['delta'],
    finishReason: FinishReason | null = null,
    stopSequence?: string,
  ): ChatChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.createdSeconds,
      model: this.model,
      choices: [
        {
          index: 0,
          delta,
          finish_reason: finishReason,
          ...(stopSequence ? { stop_reason: stopSequence } : {}),
        },
      ],
    };
  }
}

function parseEvent(sse: SseEvent): AnthropicStreamEvent {
  try {
    return JSON.parse(sse.data) as AnthropicStreamEvent;
  } catch {
    throw new UpstreamError(
      `anthropic sent an unreadable \`${sse.event ?? 'message'}\` event`,
      'protocol',
      502,
      'upstream_error',
      'upstream_protocol_error',
    );
  }
}

function withoutNulls<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== null && v !== undefined),
  ) as Partial<T>;
}
