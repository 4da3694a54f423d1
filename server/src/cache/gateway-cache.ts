import type { CachePlan } from '@switchyard/engine';
import type {
  ChatCompletion,
  ChatRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from '../providers/chat-types.ts';
import { embeddingsCacheKey, exactCacheKey } from './cache-key.ts';
import {
  type CacheableOutcome,
  type CacheDirectives,
  type CacheStatus,
  cacheDirectivesFrom,
  isCacheable,
  isFreshEnough,
} from './cacheability.ts';
import type { CachedResponse, ResponseCache } from './response-cache.ts';
import type { EmbedText, SemanticCache, SemanticProbe } from './semantic-cache.ts';

/** Options of `GatewayCache`. */
export interface GatewayCacheOptions {
  /** Where answers live (memory for one node, Redis for replicas). */
  responses: ResponseCache;
  /** Semantic matching; without it, `semantic` rules match exactly. */
  semantic?: SemanticCache | undefined;
  /**
   * Told about every failure of the cache or the embedder. The cache fails open: a failed lookup is
   * a miss and a failed store is skipped, so count these (`switchyard_store_fail_open_total`).
   */
  onError?: ((error: unknown, operation: 'lookup' | 'store') => void) | undefined;
}

/** What the server passes to a lookup, right after `decide` produced a plan with `plan.cache`. */
export interface CacheLookupInput<R> {
  /** `plan.cache`. */
  cache: CachePlan;
  /** `plan.target`: the logical model the plan chose. */
  logicalModel: string;
  /** The client's request body, as validated. */
  request: R;
  /** The request's `Cache-Control` header. */
  cacheControl?: string | readonly string[] | undefined;
  /** Embeds a text with `cache.embeddingModel`; needed for semantic rules only. */
  embed?: EmbedText | undefined;
  nowMs: number;
}

/** Where a fresh answer will be stored; carried from lookup to `remember`. */
export interface PendingCacheWrite {
  key: string;
  ttlMs: number;
  probe?: SemanticProbe | undefined;
  /** For semantic rules whose lookup did not embed (a bypassed read): embed when storing. */
  late?: { cache: CachePlan; logicalModel: string; request: ChatRequest; embed: EmbedText } | undefined;
}

/** A lookup's outcome: answer from `hit` if there is one; otherwise call upstream and `remember`. */
export interface CacheLookup<T extends ChatCompletion | EmbeddingsResponse> {
  /** For `x-switchyard-cache`, metrics and the decision log. */
  status: CacheStatus;
  /** `plan.cache.ruleId`, for metrics and the decision log. */
  ruleId: string;
  /** The stored answer, on a hit; `similarity` is 1 for an exact match. */
  hit?: { entry: CachedResponse & { completion: T }; similarity: number } | undefined;
  /** Undefined when nothing may be stored (`Cache-Control: no-store`) or after a hit. */
  write?: PendingCacheWrite | undefined;
}

/** What produced a fresh answer, stored with it. */
export interface AnswerSource {
  /** `Deployment.id` that answered. */
  deploymentId: string;
  /** What the answer cost upstream (what each later hit saves). */
  costUsd?: number | undefined;
}

/**
 * The response caches as the request path uses them: one lookup after `decide` and one `remember`
 * after a successful answer, for chat (exact or semantic, per the rule) and embeddings (always
 * exact). It applies the client's `Cache-Control`, keeps every key scoped by `plan.cache.scopeKey`,
 * stores only complete answers (`isCacheable`), and fails open: neither method ever rejects.
 */
export class GatewayCache {
  readonly #responses: ResponseCache;
  readonly #semantic: SemanticCache | undefined;
  readonly #onError: (error: unknown, operation: 'lookup' | 'store') => void;

  constructor(options: GatewayCacheOptions) {
    this.#responses = options.responses;
    this.#semantic = options.semantic;
    this.#onError = options.onError ?? (() => {});
  }

  /** Looks a chat request up: exactly first, then (semantic rules) by meaning. */
  async lookupChat(input: CacheLookupInput<ChatRequest>): Promise<CacheLookup<ChatCompletion>> {
    const { cache, logicalModel, request, embed, nowMs } = input;
    const directives = cacheDirectivesFrom(input.cacheControl);
    const key = this.#keyOr(() => exactCacheKey(cache, logicalModel, request));
    if (key === undefined) return { status: 'bypass', ruleId: cache.ruleId };
    const semantic = cache.mode === 'semantic' && embed ? this.#semantic : undefined;
    const write: PendingCacheWrite | undefined = directives.write ? { key, ttlMs: cache.ttlMs } : undefined;
    if (!directives.read) {
      if (write && semantic && embed) write.late = { cache, logicalModel, request, embed };
      return { status: 'bypass', ruleId: cache.ruleId, write };
    }
    try {
      const exact = await this.#fresh(key, directives, nowMs);
      if (exact) return this.#hit(cache, exact as CachedResponse & { completion: ChatCompletion }, 1);
      if (semantic && embed) {
        const found = await semantic.lookup(cache, logicalModel, request, embed, nowMs);
        if (write) write.probe = found.probe;
        const match = found.match;
        if (match && isFreshEnough(match.entry.storedAt, directives, nowMs))
          return this.#hit(
            cache,
            match.entry as CachedResponse & { completion: ChatCompletion },
            match.similarity,
          );
      }
    } catch (error) {
      this.#onError(error, 'lookup');
    }
    return { status: 'miss', ruleId: cache.ruleId, write };
  }

  /** Looks an embeddings request up (always exactly: model, input, dimensions, encoding). */
  async lookupEmbeddings(
    input: CacheLookupInput<EmbeddingsRequest>,
  ): Promise<CacheLookup<EmbeddingsResponse>> {
    const { cache, nowMs } = input;
    const directives = cacheDirectivesFrom(input.cacheControl);
    const key = this.#keyOr(() => embeddingsCacheKey(cache, input.logicalModel, input.request));
    if (key === undefined) return { status: 'bypass', ruleId: cache.ruleId };
    const write: PendingCacheWrite | undefined = directives.write ? { key, ttlMs: cache.ttlMs } : undefined;
    if (!directives.read) return { status: 'bypass', ruleId: cache.ruleId, write };
    try {
      const entry = await this.#fresh(key, directives, nowMs);
      if (entry) return this.#hit(cache, entry as CachedResponse & { completion: EmbeddingsResponse }, 1);
    } catch (error) {
      this.#onError(error, 'lookup');
    }
    return { status: 'miss', ruleId: cache.ruleId, write };
  }

  /**
   * Stores a fresh answer where the lookup said, when the request succeeded and the answer is
   * complete (`isCacheable`). Resolves whether it was stored; never rejects, so it can run after the
   * response has gone out. For a stream, pass the completion `CompletionAssembler` rebuilt.
   */
  async remember<T extends ChatCompletion | EmbeddingsResponse>(
    lookup: CacheLookup<T>,
    completion: T | undefined,
    outcome: CacheableOutcome,
    source: AnswerSource,
    nowMs: number,
  ): Promise<boolean> {
    const write = lookup.write;
    if (!write || lookup.status === 'hit' || !completion || !isCacheable(completion, outcome)) return false;
    const entry: CachedResponse = {
      completion,
      storedAt: nowMs,
      deploymentId: source.deploymentId,
      ...(source.costUsd !== undefined ? { savedCostUsd: source.costUsd } : {}),
    };
    try {
      let probe = write.probe;
      if (!probe && write.late && this.#semantic) {
        const { cache, logicalModel, request, embed } = write.late;
        probe = await this.#semantic.probe(cache, logicalModel, request, embed);
      }
      if (probe && this.#semantic) await this.#semantic.remember(probe, write.key, entry, write.ttlMs, nowMs);
      else await this.#responses.set(write.key, entry, write.ttlMs, nowMs);
      return true;
    } catch (error) {
      this.#onError(error, 'store');
      return false;
    }
  }

  /** The key, or undefined (reported) when none can be built safely: then the cache stays out of it. */
  #keyOr(build: () => string): string | undefined {
    try {
      return build();
    } catch (error) {
      this.#onError(error, 'lookup');
      return undefined;
    }
  }

  async #fresh(key: string, directives: CacheDirectives, nowMs: number): Promise<CachedResponse | undefined> {
    const entry = await this.#responses.get(key, nowMs);
    return entry && isFreshEnough(entry.storedAt, directives, nowMs) ? entry : undefined;
  }

  #hit<T extends ChatCompletion | EmbeddingsResponse>(
    cache: CachePlan,
    entry: CachedResponse & { completion: T },
    similarity: number,
  ): CacheLookup<T> {
    return { status: 'hit', ruleId: cache.ruleId, hit: { entry, similarity } };
  }
}
