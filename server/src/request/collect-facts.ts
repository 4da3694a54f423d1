import type { IncomingHttpHeaders } from 'node:http';
import type { Endpoint, RequestFacts } from '@switchyard/engine';
import type { ChatMessage, ChatRequest, EmbeddingsRequest } from '../providers/chat-types.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';

const maxTags = 32;
const maxTagLength = 64;

/** Tags from the `x-switchyard-tags` header (comma-separated) and `metadata.tags`, deduplicated. */
export function readTags(headers: IncomingHttpHeaders, metadata: Readonly<Record<string, string>>): string[] {
  const raw = [headers['x-switchyard-tags'], metadata.tags]
    .flat()
    .filter((v): v is string => typeof v === 'string');
  const tags = new Set<string>();
  for (const text of raw) {
    for (const part of text.split(',')) {
      const tag = part.trim();
      if (tag !== '' && tag.length <= maxTagLength && tags.size < maxTags) tags.add(tag);
    }
  }
  return [...tags];
}

function stringMetadata(metadata: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof metadata !== 'object' || metadata === null) return out;
  for (const [k, v] of Object.entries(metadata)) if (typeof v === 'string') out[k] = v;
  return out;
}

function userFrom(bodyUser: unknown, headers: IncomingHttpHeaders): string | undefined {
  if (typeof bodyUser === 'string' && bodyUser !== '') return bodyUser;
  const header = headers['x-switchyard-user'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** Characters of text in a message (content, tool call arguments), and whether it carries an image. */
function measure(message: ChatMessage): { chars: number; images: number } {
  let chars = 0;
  let images = 0;
  const content = message.content;
  if (typeof content === 'string') chars += content.length;
  else if (Array.isArray(content)) {
    for (const part of content) {
      if (part.type === 'text') chars += part.text.length;
      else if (part.type === 'image_url') images++;
    }
  }
  if (message.role === 'assistant' && message.tool_calls) {
    for (const call of message.tool_calls)
      chars += call.function.name.length + call.function.arguments.length;
  }
  return { chars, images };
}

// Cheap estimate for routing and reservations (about 4 characters per token, a few tokens of framing
// per message, a flat cost per image); exact counts for accounting come from the upstream's usage.
const charsPerToken = 4;
const tokensPerMessage = 4;
const tokensPerImage = 765;

/** Step 2 of the request path: the facts the engine decides on, from a validated chat request. */
export function collectChatFacts(
  body: ChatRequest,
  headers: IncomingHttpHeaders,
  key: ApiKeyRecord,
  endpoint: Extract<Endpoint, 'chat' | 'messages'> = 'chat',
): RequestFacts {
  let chars = 0;
  let images = 0;
  for (const message of body.messages) {
    const m = measure(message);
    chars += m.chars;
    images += m.images;
  }
  if (body.tools) chars += JSON.stringify(body.tools).length;
  const metadata = stringMetadata(body.metadata);
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  return {
    endpoint,
    model: body.model,
    tenant: key.tenant,
    keyId: key.id,
    user: userFrom(body.user, headers),
    tags: readTags(headers, metadata),
    stream: body.stream === true,
    hasTools: Array.isArray(body.tools) && body.tools.length > 0,
    hasImages: images > 0,
    inputTokens:
      Math.ceil(chars / charsPerToken) + tokensPerMessage * body.messages.length + tokensPerImage * images,
    maxTokens,
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    messageCount: body.messages.length,
    responseFormat: body.response_format?.type ?? 'text',
    metadata,
  };
}

/** Step 2 for embeddings: one "message" per input. */
export function collectEmbeddingFacts(
  body: EmbeddingsRequest,
  headers: IncomingHttpHeaders,
  key: ApiKeyRecord,
): RequestFacts {
  const inputs: unknown[] = typeof body.input === 'string' ? [body.input] : body.input;
  const isTokenArray = inputs.length > 0 && typeof inputs[0] === 'number';
  let tokens = 0;
  if (isTokenArray) tokens = inputs.length;
  else {
    for (const input of inputs) {
      tokens +=
        typeof input === 'string'
          ? Math.ceil(input.length / charsPerToken)
          : Array.isArray(input)
            ? input.length
            : 0;
    }
  }
  return {
    endpoint: 'embeddings',
    model: body.model,
    tenant: key.tenant,
    keyId: key.id,
    user: userFrom(body.user, headers),
    tags: readTags(headers, {}),
    stream: false,
    hasTools: false,
    hasImages: false,
    inputTokens: tokens,
    messageCount: isTokenArray ? 1 : inputs.length,
    responseFormat: 'text',
    metadata: {},
  };
}
