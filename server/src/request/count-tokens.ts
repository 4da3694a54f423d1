import type { ChatMessage } from '../providers/chat-types.ts';

/** Counts the tokens of a text. */
export type TokenCounter = (text: string) => number;

let loading: Promise<TokenCounter> | undefined;

/**
 * The `cl100k_base` tokenizer of js-tiktoken (the rank table is bundled in the package: no
 * network), loaded on first use and kept. Building it takes about a second of CPU, so servers call
 * this once at startup and the request path only ever finds it ready. Used only when an upstream
 * reported no usage; the counts are then estimates (another model's tokenizer may differ a little).
 */
export function loadTokenCounter(): Promise<TokenCounter> {
  loading ??= (async () => {
    const [{ Tiktoken }, { default: ranks }] = await Promise.all([
      import('js-tiktoken/lite'),
      import('js-tiktoken/ranks/cl100k_base'),
    ]);
    const encoder = new Tiktoken(ranks);
    return (text: string) => (text === '' ? 0 : encoder.encode(text, 'all').length);
  })();
  return loading;
}

// OpenAI's documented framing: about 3 tokens per message, 3 to prime the answer.
const tokensPerMessage = 3;
const tokensPerReply = 3;

/** The text of a message that a tokenizer counts: content parts, tool call names and arguments. */
function messageText(message: ChatMessage): string {
  let text = '';
  const content = message.content;
  if (typeof content === 'string') text += content;
  else if (Array.isArray(content)) for (const part of content) if (part.type === 'text') text += part.text;
  if (message.role === 'assistant' && message.tool_calls)
    for (const call of message.tool_calls) text += call.function.name + call.function.arguments;
  return text;
}

/** Estimated prompt tokens of chat messages (and tool definitions), counted with the tokenizer. */
export function countPromptTokens(
  count: TokenCounter,
  messages: readonly ChatMessage[],
  tools?: unknown,
): number {
  let tokens = tokensPerReply;
  for (const message of messages)
    tokens += tokensPerMessage + count(message.role) + count(messageText(message));
  if (tools !== undefined) tokens += count(JSON.stringify(tools));
  return tokens;
}
