import type {
  ChatChunk,
  ChatCompletion,
  ChatMessage,
  ChatRequest,
  ContentPart,
  FinishReason,
  ToolCall,
  ToolDefinition,
  Usage,
} from '../chat-types.ts';
import { invalidChatRequestError } from '../invalid-chat-request-error.ts';
import { UpstreamError } from '../provider.ts';
import { anthropicErrorTypeOfStatus } from './anthropic-error-types.ts';
import type {
  AnthropicErrorBody,
  AnthropicMessage,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicResponseBlock,
  AnthropicStopReason,
  AnthropicStreamEvent,
  AnthropicToolResultBlock,
  AnthropicUsage,
} from './wire.ts';

/**
 * Translates a request received on the gateway's `POST /v1/messages` (from an Anthropic client)
 * into the canonical chat request: `system` → a system message, `tool_result` blocks → `tool`
 * messages ahead of the rest of their user turn, `tool_use` blocks → assistant tool calls, images →
 * `image_url` parts (base64 as data URLs). Thinking blocks are dropped. Content the chat shape
 * cannot carry (documents, server tools, images inside tool results) is rejected with a 400
 * `UpstreamError`, never silently dropped.
 */
export function chatRequestFromAnthropic(request: AnthropicRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (typeof request.system === 'string') {
    if (request.system !== '') messages.push({ role: 'system', content: request.system });
  } else if (request.system && request.system.length > 0) {
    const [first, ...rest] = request.system;
    const parts = request.system.map((block): ContentPart => ({ type: 'text', text: block.text }));
    messages.push({ role: 'system', content: first && rest.length === 0 ? first.text : parts });
  }
  for (const message of request.messages) messages.push(...chatMessagesFromTurn(message));

  const out: ChatRequest = { model: request.model, messages, max_tokens: request.max_tokens };
  if (request.stop_sequences && request.stop_sequences.length > 0) out.stop = request.stop_sequences;
  if (request.temperature != null) out.temperature = request.temperature;
  if (request.top_p != null) out.top_p = request.top_p;
  // Not an OpenAI field, but OpenAI-compatible servers (vLLM, SGLang) honour it and the Anthropic adapter maps it back.
  if (request.top_k != null) out.top_k = request.top_k;
  if (request.metadata?.user_id) out.user = request.metadata.user_id;
  if (request.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  if (request.tools && request.tools.length > 0) out.tools = request.tools.map(toolDefinitionFromAnthropic);
  const choice = request.tool_choice;
  if (choice) {
    if (choice.type === 'auto') out.tool_choice = 'auto';
    else if (choice.type === 'any') out.tool_choice = 'required';
    else if (choice.type === 'none') out.tool_choice = 'none';
    else out.tool_choice = { type: 'function', function: { name: choice.name } };
    if (choice.type !== 'none' && choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  return out;
}

function toolDefinitionFromAnthropic(tool: NonNullable<AnthropicRequest['tools']>[number]): ToolDefinition {
  if (tool.type !== undefined && tool.type !== 'custom')
    throw invalidChatRequestError(
      `server tool \`${tool.type}\` is not supported through the gateway; declare a custom tool`,
      'unsupported_capability',
    );
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description ? { description: tool.description } : {}),
      parameters: tool.input_schema,
    },
  };
}

function chatMessagesFromTurn(message: AnthropicMessageParam): ChatMessage[] {
  if (typeof message.content === 'string') return [{ role: message.role, content: message.content }];
  if (message.role === 'assistant') {
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
      else if (block.type !== 'thinking' && block.type !== 'redacted_thinking') throw unsupportedBlock(block);
    }
    return [{ role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) }];
  }
  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  for (const block of message.content) {
    if (block.type === 'tool_result')
      out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block) });
    else if (block.type === 'text') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') {
      const source = block.source;
      if (source.type === 'base64')
        parts.push({
          type: 'image_url',
          image_url: { url: `data:${source.media_type};base64,${source.data}` },
        });
      else if (source.type === 'url') parts.push({ type: 'image_url', image_url: { url: source.url } });
      else
        throw invalidChatRequestError(
          `image source \`${(source as { type: string }).type}\` is not supported; send base64 or url`,
          'unsupported_capability',
        );
    } else throw unsupportedBlock(block);
  }
  if (parts.length > 0) {
    const only = parts[0]!;
    out.push({ role: 'user', content: parts.length === 1 && only.type === 'text' ? only.text : parts });
  }
  return out;
}

function toolResultText(block: AnthropicToolResultBlock): string {
  if (block.content === undefined) return '';
  if (typeof block.content === 'string') return block.content;
  return block.content
    .map((part) => {
      if (part.type !== 'text')
        throw invalidChatRequestError(
          'images inside `tool_result` are not supported through the gateway',
          'unsupported_capability',
        );
      return part.text;
    })
    .join('');
}

function unsupportedBlock(block: AnthropicRequestBlock): UpstreamError {
  return invalidChatRequestError(
    `content block type \`${(block as { type: string }).type}\` is not supported through the gateway`,
    'unsupported_capability',
  );
}

/** Anthropic's `stop_reason` for an OpenAI `finish_reason` (a reported stop sequence → `stop_sequence`). */
function toStopReason(
  finish: FinishReason | null | undefined,
  stopSequence: string | undefined,
): AnthropicStopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence ? 'stop_sequence' : 'end_turn';
  }
}

/** Anthropic usage from OpenAI usage: Anthropic's `input_tokens` exclude cache reads. */
function toAnthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached),
    output_tokens: usage?.completion_tokens ?? 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

function messageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id.replace(/^chatcmpl-/, '').replace(/[^A-Za-z0-9_-]/g, '')}`;
}

function parseToolInput(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args || '{}');
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // Malformed arguments from a model: Anthropic clients require an object, so they get an empty one.
  }
  return {};
}

/**
 * Translates a chat completion into the Anthropic Message the `/v1/messages` client expects:
 * text and `tool_use` blocks (arguments parsed back into `input`), `stop_reason`, `stop_sequence`
 * and usage (`input_tokens` excluding `cache_read_input_tokens`). Only the first choice is used.
 */
export function anthropicMessageFromCompletion(completion: ChatCompletion): AnthropicMessage {
  const choice = completion.choices[0];
  const content: AnthropicResponseBlock[] = [];
  if (choice?.message.content) content.push({ type: 'text', text: choice.message.content });
  for (const call of choice?.message.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolInput(call.function.arguments),
    });
  const stopSequence = typeof choice?.stop_reason === 'string' ? choice.stop_reason : undefined;
  const stopReason = toStopReason(choice?.finish_reason, stopSequence);
  return {
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? (stopSequence ?? null) : null,
    usage: toAnthropicUsage(completion.usage),
  };
}

/** One Anthropic SSE event: its `event:` name and its `data:` object (whose `type` equals the name). */
export interface AnthropicSseEvent {
  event: AnthropicStreamEvent['type'];
  data: AnthropicStreamEvent;
}

/** Options of `anthropicEventsFromChunks`. */
export interface AnthropicEventsOptions {
  /** Model name reported in `message_start` (default: the first chunk's model). */
  model?: string;
  /** Input tokens reported in `message_start` before the real count arrives (default 0). */
  estimatedInputTokens?: number;
}

/**
 * Translates a chat chunk stream into Anthropic's event sequence: `message_start`, then per content
 * block `content_block_start` (the first followed by a `ping`), its `content_block_delta`s and
 * `content_block_stop`; then `message_delta` (stop reason and usage) and `message_stop`. Text and
 * each tool call get their own block, in the order they arrive. An error from `chunks` before any
 * event rethrows (the caller can still answer with an HTTP error); after that it becomes an `error`
 * event that ends the stream, as Anthropic does.
 */
export async function* anthropicEventsFromChunks(
  chunks: AsyncIterable<ChatChunk>,
  options: AnthropicEventsOptions = {},
): AsyncGenerator<AnthropicSseEvent> {
  let started = false;
  let nextBlock = 0;
  let open: { index: number; kind: 'text' | 'tool' } | undefined;
  const blockByToolIndex = new Map<number, number>();
  let finish: FinishReason | null = null;
  let stopSequence: string | undefined;
  let usage: Usage | undefined;

  const start = (id: string, model: string): AnthropicSseEvent => {
    started = true;
    return event({
      type: 'message_start',
      message: {
        id: messageId(id),
        type: 'message',
        role: 'assistant',
        model: options.model ?? model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: options.estimatedInputTokens ?? 0,
          output_tokens: 0,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
    });
  };
  function* openBlock(kind: 'text' | 'tool', block: AnthropicResponseBlock): Generator<AnthropicSseEvent> {
    yield* closeBlock();
    open = { index: nextBlock++, kind };
    yield event({ type: 'content_block_start', index: open.index, content_block: block });
    if (open.index === 0) yield event({ type: 'ping' });
  }
  function* closeBlock(): Generator<AnthropicSseEvent> {
    if (open) yield event({ type: 'content_block_stop', index: open.index });
    open = undefined;
  }

  try {
    for await (const chunk of chunks) {
      if (!started) yield start(chunk.id, chunk.model);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) continue;
      const { content, tool_calls: toolCalls } = choice.delta;
      if (content) {
        if (open?.kind !== 'text') yield* openBlock('text', { type: 'text', text: '' });
        yield event({
          type: 'content_block_delta',
          index: open!.index,
          delta: { type: 'text_delta', text: content },
        });
      }
      for (const call of toolCalls ?? []) {
        let index = blockByToolIndex.get(call.index);
        if (index === undefined) {
          yield* openBlock('tool', {
            type: 'tool_use',
            id: call.id ?? `toolu_${nextBlock}`,
            name: call.function?.name ?? '',
            input: {},
          });
          index = open!.index;
          blockByToolIndex.set(call.index, index);
        }
        const args = call.function?.arguments;
        if (args)
          yield event({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: args },
          });
      }
      if (choice.finish_reason) {
        finish = choice.finish_reason;
        if (typeof choice.stop_reason === 'string') stopSequence = choice.stop_reason;
        yield* closeBlock();
      }
    }
  } catch (err) {
    if (!started) throw err;
    const status = err instanceof UpstreamError ? err.status : 500;
    yield event(anthropicErrorBody(status, err instanceof Error ? err.message : 'upstream stream failed'));
    return;
  }
  if (!started) yield start(`msg_${Date.now().toString(36)}`, options.model ?? '');
  yield* closeBlock();
  const stopReason = toStopReason(finish, stopSequence);
  const final = toAnthropicUsage(usage);
  yield event({
    type: 'message_delta',
    delta: {
      stop_reason: stopReason,
      stop_sequence: stopReason === 'stop_sequence' ? (stopSequence ?? null) : null,
    },
    usage: usage
      ? {
          input_tokens: final.input_tokens,
          output_tokens: final.output_tokens,
          cache_read_input_tokens: final.cache_read_input_tokens,
        }
      : { output_tokens: 0 },
  });
  yield event({ type: 'message_stop' });
}

function event(data: AnthropicStreamEvent): AnthropicSseEvent {
  return { event: data.type, data };
}

/** Serializes one event as an SSE frame (`event: …\ndata: …\n\n`). */
export function formatAnthropicSseEvent(sse: AnthropicSseEvent): string {
  return `event: ${sse.event}\ndata: ${JSON.stringify(sse.data)}\n\n`;
}

/**
 * The error body Anthropic clients understand, `{type: 'error', error: {type, message}}`, with the
 * documented error type for `status` (400 invalid_request_error … 429 rate_limit_error, 529/503
 * overloaded_error).
 */
export function anthropicErrorBody(status: number, message: string): AnthropicErrorBody {
  return { type: 'error', error: { type: anthropicErrorTypeOfStatus(status), message } };
}
