import type { CachePlan } from '@switchyard/engine';
import type { ChatMessage, ChatRequest } from '../providers/chat-types.ts';
import { chatParametersHash } from './cache-key.ts';
import type { CachedResponse, ResponseCache } from './response-cache.ts';
import type { SemanticIndex } from './semantic-index.ts';

/** Embeds one text (the cache rule's `embeddingModel`, called by the server), resolving its vector. */
export type EmbedText = (text: string) => Promise<readonly number[]>;

/** What a semantic lookup learned that `remember` reuses, so a miss is embedded only once. */
export interface SemanticProbe {
  scopeKey: string;
  paramsHash: string;
  vector: readonly number[];
}

/** A semantic lookup's outcome: the entry found (if any) and the probe to remember the answer under. */
export interface SemanticLookup {
  match?: { entry: CachedResponse; key: string; similarity: number } | undefined;
  /** Undefined when the request cannot be compared by meaning (see `conversationText`). */
  probe?: SemanticProbe | undefined;
}

/** Options of `SemanticCache`. */
export interface SemanticCacheOptions {
  /**
   * Longest conversation text compared by meaning, in characters (default 16 000). Longer ones are
   * not embedded at all rather than truncated: a difference past the cut would be invisible.
   */
  maxTextChars?: number | undefined;
}

function toolCallsText(message: ChatMessage): string {
  if (message.role !== 'assistant' || !message.tool_calls?.length) return '';
  return message.tool_calls.map((c) => ` [call ${c.function.name} ${c.function.arguments}]`).join('');
}

/**
 * The text a conversation is compared by: every message (system prompt included) as `role: text`,
 * tool calls and results included. Undefined when part of it is not text (an image): two questions
 * about different pictures would embed alike, so such requests are only ever cached exactly.
 */
export function conversationText(request: ChatRequest): string | undefined {
  const lines: string[] = [];
  for (const message of request.messages) {
    const content = message.content;
    if (Array.isArray(content) && content.some((part) => part.type !== 'text')) return undefined;
    const text =
      typeof content === 'string'
        ? content
        : (content ?? []).map((p) => (p.type === 'text' ? p.text : '')).join(' ');
    lines.push(`${message.role}: ${text}${toolCallsText(message)}`);
  }
  return lines.join('\n');
}

/**
 * Answers a chat request with a stored answer to a conversation that means nearly the same. The
 * vectors live in a `SemanticIndex` bucket per scope and parameters hash (every non-message
 * parameter and the logical model: only answers produced under the same settings are candidates);
 * the answers themselves live in the `ResponseCache` under their exact keys, so an identical request
 * is also an exact hit. Failures reject; `GatewayCache` turns them into misses.
 */
export class SemanticCache {
  private readonly index: SemanticIndex;
  private readonly responses: ResponseCache;
  readonly #maxTextChars: number;

  constructor(index: SemanticIndex, responses: ResponseCache, options: SemanticCacheOptions = {}) {
    this.index = index;
    this.responses = responses;
    this.#maxTextChars = options.maxTextChars ?? 16_000;
  }

  /**
   * The bucket and vector of a request, or undefined when it cannot be compared by meaning (not
   * all text, or longer than `maxTextChars`). Embeds once.
   */
  async probe(
    cache: CachePlan,
    logicalModel: string,
    request: ChatRequest,
    embed: EmbedText,
  ): Promise<SemanticProbe | undefined> {
    const text = conversationText(request);
    if (text === undefined || text.length > this.#maxTextChars) return undefined;
    return {
      scopeKey: cache.scopeKey,
      paramsHash: chatParametersHash(logicalModel, request),
      vector: await embed(text),
    };
  }

  /**
   * Embeds the conversation and looks for the most similar stored one at or above
   * `cache.similarity`. An index entry whose answer is gone from the response cache is dropped.
   */
  async lookup(
    cache: CachePlan,
    logicalModel: string,
    request: ChatRequest,
    embed: EmbedText,
    nowMs: number,
  ): Promise<SemanticLookup> {
    const probe = await this.probe(cache, logicalModel, request, embed);
    if (!probe) return {};
    const found = await this.index.search(
      probe.scopeKey,
      probe.paramsHash,
      probe.vector,
      cache.similarity,
      nowMs,
    );
    if (!found) return { probe };
    const entry = await this.responses.get(found.key, nowMs);
    if (!entry) {
      await this.index.remove(probe.scopeKey, probe.paramsHash, found.key);
      return { probe };
    }
    return { match: { entry, key: found.key, similarity: found.similarity }, probe };
  }

  /** Stores the answer under its exact `key` and indexes the probe's vector pointing at it. */
  async remember(
    probe: SemanticProbe,
    key: string,
    entry: CachedResponse,
    ttlMs: number,
    nowMs: number,
  ): Promise<void> {
    await this.responses.set(key, entry, ttlMs, nowMs);
    await this.index.add(probe.scopeKey, probe.paramsHash, probe.vector, key, ttlMs, nowMs);
  }
}
