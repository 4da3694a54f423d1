import type { ChatMessage, ChatRequest, ContentPart } from '../chat-types.ts';
import { invalidChatRequestError } from '../invalid-chat-request-error.ts';
import { parseToolArguments } from '../parse-tool-arguments.ts';
import type {
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicRequest,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicToolChoice,
} from './wire.ts';

/** `max_tokens` sent when the client set none: Anthropic requires one. */
export const defaultAnthropicMaxTokens = 4096;

/**
 * Translates an OpenAI chat request into an Anthropic Messages request for `model`: system and
 * developer messages become `system`; tool results become `tool_result` blocks of a user turn;
 * consecutive turns of one role merge, as Anthropic requires alternating roles; `response_format`
 * becomes a system instruction, since Anthropic has no JSON mode.
 */
export function toAnthropicRequest(request: ChatRequest, model: string): AnthropicRequest {
  if (request.n != null && request.n > 1)
    throw invalidChatRequestError('anthropic does not support `n` greater than 1', 'unsupported_capability');
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: AnthropicRequestBlock[]) => {
    if (blocks.length === 0) return;
    const last = messages.at(-1);
    if (last?.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const message of request.messages) {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content));
        break;
      case 'user':
        push('user', userBlocks(message.content));
        break;
      case 'assistant':
        push('assistant', assistantBlocks(message));
        break;
      case 'tool':
        push('user', [
          {
            type: 'tool_result',
            tool_use_id: message.tool_call_id,
            content: toolResultContent(message.content),
          },
        ]);
        break;
    }
  }
  const jsonInstruction = responseFormatInstruction(request.response_format);
  if (jsonInstruction) system.push({ type: 'text', text: jsonInstruction });

  const out: AnthropicRequest = {
    model,
    messages: messages.map(collapseSingleText),
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? defaultAnthropicMaxTokens,
  };
  if (system.length > 0) out.system = system;
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (stop && stop.length > 0) out.stop_sequences = stop;
  if (request.temperature != null) out.temperature = request.temperature;
  if (request.top_p != null) out.top_p = request.top_p;
  if (typeof request.top_k === 'number') out.top_k = request.top_k;
  if (request.user) out.metadata = { user_id: request.user };
  if (request.tools && request.tools.length > 0) {
    out.tools = request.tools.map((tool) => ({
      name: tool.function.name,
      ...(tool.function.description ? { description: tool.function.description } : {}),
      input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
    }));
  }
  const toolChoice = toAnthropicToolChoice(request);
  if (toolChoice) out.tool_choice = toolChoice;
  return out;
}

function toAnthropicToolChoice(request: ChatRequest): AnthropicToolChoice | undefined {
  const choice = request.tool_choice;
  const disableParallel = request.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...disableParallel };
  if (typeof choice === 'object') return { type: 'tool', name: choice.function.name, ...disableParallel };
  if (choice === 'auto' || (request.parallel_tool_calls === false && request.tools?.length))
    return { type: 'auto', ...disableParallel };
  return undefined;
}

function textBlocks(content: string | ContentPart[]): AnthropicTextBlock[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const blocks: AnthropicTextBlock[] = [];
  for (const part of content)
    if (part.type === 'text' && part.text !== '') blocks.push({ type: 'text', text: part.text });
  return blocks;
}

function userBlocks(content: string | ContentPart[]): AnthropicRequestBlock[] {
  if (typeof content === 'string') return textBlocks(content);
  return content.flatMap((part): AnthropicRequestBlock[] =>
    part.type === 'text' ? textBlocks(part.text) : [imageBlock(part.image_url.url)],
  );
}

const dataUrlPattern = /^data:([^;,]+);base64,(.*)$/s;

/** Data URLs become inline base64 images; anything else is a URL Anthropic fetches itself. */
function imageBlock(url: string): AnthropicImageBlock {
  const match = dataUrlPattern.exec(url);
  if (match) return { type: 'image', source: { type: 'base64', media_type: match[1]!, data: match[2]! } };
  if (url.startsWith('data:'))
    throw invalidChatRequestError('image data urls must be base64-encoded', 'invalid_request');
  return { type: 'image', source: { type: 'url', url } };
}

function assistantBlocks(message: Extract<ChatMessage, { role: 'assistant' }>): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = message.content ? textBlocks(message.content) : [];
  for (const call of message.tool_calls ?? []) {
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseToolArguments(call.id, call.function.arguments),
    });
  }
  return blocks;
}

function toolResultContent(content: string | ContentPart[]): string | AnthropicTextBlock[] {
  return typeof content === 'string' ? content : textBlocks(content);
}

/** A lone text block is sent as a plain string, the form Anthropic's own examples use. */
function collapseSingleText(message: AnthropicMessageParam): AnthropicMessageParam {
  const [first, ...rest] = message.content;
  if (rest.length === 0 && typeof first === 'object' && first.type === 'text' && !first.cache_control)
    return { role: message.role, content: first.text };
  return message;
}

function responseFormatInstruction(format: ChatRequest['response_format']): string | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object')
    return 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';
  const schema = format.json_schema.schema ? `\n${JSON.stringify(format.json_schema.schema)}` : '';
  return `Respond with a single valid JSON object that conforms to the JSON Schema \`${format.json_schema.name}\` below, and nothing else: no prose, no code fences.${schema}`;
}
