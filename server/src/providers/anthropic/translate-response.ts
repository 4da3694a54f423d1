import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../chat-types.ts';
import type { AnthropicMessage, AnthropicStopReason, AnthropicUsage } from './wire.ts';

/**
 * Maps Anthropic's `stop_reason` to OpenAI's `finish_reason`. `pause_turn` (a server tool paused a
 * long turn) ends this response normally; `refusal` is a content filter in OpenAI's terms.
 */
export function toFinishReason(stopReason: AnthropicStopReason | null | undefined): FinishReason | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return null;
  }
}

/**
 * Maps Anthropic's usage to OpenAI's. Anthropic's `input_tokens` exclude cache reads and cache
 * writes; OpenAI's `prompt_tokens` count the whole prompt, with cache reads as `cached_tokens`.
 */
export function toOpenAiUsage(usage: Partial<AnthropicUsage>): Usage {
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const prompt = (usage.input_tokens ?? 0) + cacheRead + (usage.cache_creation_input_tokens ?? 0);
  const completion = usage.output_tokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

/**
 * Translates an Anthropic Message into an OpenAI chat completion: text blocks joined, `tool_use`
 * blocks as tool calls with JSON-encoded arguments, thinking blocks dropped.
 */
export function fromAnthropicMessage(message: AnthropicMessage, createdSeconds: number): ChatCompletion {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') text = (text ?? '') + block.text;
    else if (block.type === 'tool_use')
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
  }
  return {
    id: message.id,
    object: 'chat.completion',
    created: createdSeconds,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toFinishReason(message.stop_reason),
        ...(message.stop_sequence ? { stop_reason: message.stop_sequence } : {}),
      },
    ],
    usage: toOpenAiUsage(message.usage),
  };
}
