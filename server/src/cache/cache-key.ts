import { createHash } from 'node:crypto';
import type { CachePlan } from '@switchyard/engine';
import type { ChatMessage, ChatRequest, ContentPart, EmbeddingsRequest } from '../providers/chat-types.ts';

/** Bumped whenever normalisation changes, so old entries are never read with a new meaning. */
const keyVersion = 'v1';

/**
 * Request fields that never change the answer: delivery (`stream`, `stream_options`), attribution
 * (`user`, `metadata`, `safety_identifier`), storage and caching hints. Every other field, known or
 * not, is part of the key: an unknown field (`reasoning_effort`, `logit_bias`…) may change the output,
 * and a key that ignores it could serve one answer for two different questions.
 */
const deliveryOnlyFields = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'user',
  'metadata',
  'safety_identifier',
  'store',
  'prompt_cache_key',
]);

/**
 * Serialises a JSON-like value with object keys sorted and `undefined` members dropped, so two
 * objects that mean the same serialise the same whatever order their keys came in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number')
      return Number.isFinite(value) ? JSON.stringify(value === 0 ? 0 : value) : 'null';
    return value === undefined ? 'null' : JSON.stringify(value);
  }
  // Plain loops and string appends: this runs over every message of every cached request.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `null` and the API's defaults become `undefined`, so an explicit default keys like an omitted one. */
function unlessDefault<T>(value: T | null | undefined, fallback: T): T | undefined {
  return value === null || value === undefined || value === fallback ? undefined : value;
}

/** A single text part answers like the plain string; image `detail` defaults to `auto`. */
function normaliseContent(content: string | ContentPart[] | null | undefined): unknown {
  if (content === undefined || content === null) return null;
  if (typeof content === 'string') return content;
  if (content.length === 1 && content[0]!.type === 'text') return content[0]!.text;
  return content.map((part) =>
    part.type === 'image_url'
      ? { type: 'image_url', url: part.image_url.url, detail: part.image_url.detail ?? 'auto' }
      : part,
  );
}

function normaliseMessage(message: ChatMessage): unknown {
  switch (message.role) {
    case 'assistant':
      return {
        role: 'assistant',
        name: message.name,
        content: normaliseContent(message.content),
        refusal: message.refusal ?? undefined,
        tool_calls: message.tool_calls?.length
          ? message.tool_calls.map((c) => ({
              id: c.id,
              type: c.type ?? 'function',
              name: c.function.name,
              arguments: c.function.arguments,
            }))
          : undefined,
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.tool_call_id, content: normaliseContent(message.content) };
    default:
      return { role: message.role, name: message.name, content: normaliseContent(message.content) };
  }
}

/**
 * The parameters besides the conversation that change a chat answer, with the API's defaults
 * normalised away: `max_tokens` and `max_completion_tokens` are one cap, `stop` is always a list,
 * `tool_choice` defaults by whether tools were offered, `top_logprobs` counts only with `logprobs`.
 */
export function chatOutputParameters(request: ChatRequest): Record<string, unknown> {
  const hasTools = (request.tools?.length ?? 0) > 0;
  const stop = request.stop === null || request.stop === undefined ? [] : [request.stop].flat();
  const logprobs = request.logprobs === true;
  const params: Record<string, unknown> = {
    tools: hasTools ? request.tools : undefined,
    tool_choice: unlessDefault(request.tool_choice, hasTools ? 'auto' : 'none'),
    parallel_tool_calls: hasTools ? unlessDefault(request.parallel_tool_calls, true) : undefined,
    response_format:
      request.response_format?.type === 'text' ? undefined : (request.response_format ?? undefined),
    temperature: unlessDefault(request.temperature, 1),
    top_p: unlessDefault(request.top_p, 1),
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? undefined,
    seed: request.seed ?? undefined,
    stop: stop.length > 0 ? stop : undefined,
    n: unlessDefault(request.n, 1),
    logprobs: logprobs || undefined,
    top_logprobs: logprobs ? unlessDefault(request.top_logprobs, 0) : undefined,
    presence_penalty: unlessDefault(request.presence_penalty, 0),
    frequency_penalty: unlessDefault(request.frequency_penalty, 0),
  };
  for (const [field, value] of Object.entries(request)) {
    if (field in params || field === 'max_completion_tokens' || deliveryOnlyFields.has(field)) continue;
    if (value === null || value === undefined) continue;
    params[`x:${field}`] = value;
  }
  return params;
}

/** The conversation as it keys: messages with defaults normalised, tool calls and results included. */
export function normalisedMessages(request: ChatRequest): unknown[] {
  return request.messages.map(normaliseMessage);
}

function requireScope(cache: Pick<CachePlan, 'scopeKey'>): string {
  // An entry without its scope could be served to another tenant or key: refuse to build one.
  if (!/^(tenant|key):./.test(cache.scopeKey))
    throw new Error(
      `expected a cache scope like \`tenant:<name>\` or \`key:<id>\`, got \`${cache.scopeKey}\``,
    );
  return cache.scopeKey;
}

/**
 * The exact-match cache key of a chat request: SHA-256 (hex) of the rule's scope (always: an entry
 * never crosses tenants or keys), the logical model and the canonical JSON of everything that changes
 * the answer. Key order, `stream`, `stream_options`, `user` and `metadata` do not change it.
 */
export function exactCacheKey(
  cache: Pick<CachePlan, 'scopeKey'>,
  logicalModel: string,
  request: ChatRequest,
): string {
  const scope = requireScope(cache);
  return sha256Hex(
    canonicalJson([
      keyVersion,
      'chat',
      scope,
      logicalModel,
      normalisedMessages(request),
      chatOutputParameters(request),
    ]),
  );
}

/**
 * The exact-match cache key of an embeddings request: scope, logical model, input (a lone string
 * keys like a one-item list: the answer is the same), `dimensions` and `encoding_format` (default `float`).
 */
export function embeddingsCacheKey(
  cache: Pick<CachePlan, 'scopeKey'>,
  logicalModel: string,
  request: EmbeddingsRequest,
): string {
  const scope = requireScope(cache);
  const input = request.input;
  const inputs =
    typeof input === 'string' ? [input] : input.length > 0 && typeof input[0] === 'number' ? [input] : input;
  return sha256Hex(
    canonicalJson([
      keyVersion,
      'embeddings',
      scope,
      logicalModel,
      inputs,
      request.dimensions ?? null,
      request.encoding_format ?? 'float',
    ]),
  );
}

/**
 * The hash of every non-conversation parameter of a chat request (logical model included): the
 * semantic cache only compares conversations whose parameters hash the same.
 */
export function chatParametersHash(logicalModel: string, request: ChatRequest): string {
  return sha256Hex(canonicalJson([keyVersion, 'chat-params', logicalModel, chatOutputParameters(request)]));
}
