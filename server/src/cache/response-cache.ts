import type { ChatCompletion, EmbeddingsResponse } from '../providers/chat-types.ts';

/** One cached answer, as stored. */
export interface CachedResponse {
  /** The answer exactly as the client got it the first time (non-streamed shape). */
  completion: ChatCompletion | EmbeddingsResponse;
  /** When it was stored (epoch ms): the age a `Cache-Control: max-age` compares against. */
  storedAt: number;
  /** What the original request cost upstream: what every hit saves. */
  savedCostUsd?: number | undefined;
  /** `Deployment.id` that produced it, for headers, logs and metrics of hits. */
  deploymentId: string;
}

/**
 * Cached answers by key (`exactCacheKey` / `embeddingsCacheKey`). Keys are opaque here: the scope
 * that keeps tenants apart is inside them. Like every store, a cache never reads the clock (callers
 * pass `nowMs`) and never owns the connection it is given; failures reject and the caller treats
 * them as a miss (fail open). `get` returns a copy: mutating it never changes what is cached.
 */
export interface ResponseCache {
  /** The entry under `key`, unless absent or expired at `nowMs`. */
  get(key: string, nowMs: number): Promise<CachedResponse | undefined>;
  /**
   * Stores `value` under `key` until `nowMs + ttlMs`, replacing any entry. May decline silently
   * (an entry larger than the implementation accepts): a cache is allowed to forget.
   */
  set(key: string, value: CachedResponse, ttlMs: number, nowMs: number): Promise<void>;
  /** Removes the entry; resolves whether there was one. */
  delete(key: string): Promise<boolean>;
  /** Releases what the cache owns (not a connection it was given). */
  close(): Promise<void>;
}

/** A stored entry: the value and when it stops being served. */
export interface StoredCacheEntry {
  value: CachedResponse;
  expiresAt: number;
}
