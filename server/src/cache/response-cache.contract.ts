import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletion, EmbeddingsResponse } from '../providers/chat-types.ts';
import type { CachedResponse, ResponseCache } from './response-cache.ts';

/** A small chat answer to cache. */
export function cachedChat(content: string, storedAt = 1_000): CachedResponse {
  const completion: ChatCompletion = {
    id: `chatcmpl-${content.length}`,
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  };
  return { completion, storedAt, savedCostUsd: 0.000123, deploymentId: 'fast/openai-mini' };
}

/**
 * The behaviour every `ResponseCache` implementation must have. Keys are unique per test, so the
 * factory may return caches sharing their backing state.
 */
export function runResponseCacheContract(
  name: string,
  makeCache: () => ResponseCache | Promise<ResponseCache>,
): void {
  describe(`${name} response cache contract`, () => {
    let cache: ResponseCache;
    let key: string;
    beforeEach(async () => {
      cache = await makeCache();
      key = randomUUID().replaceAll('-', '');
    });
    afterEach(async () => {
      await cache.close();
    });

    it('misses a key that was never stored', async () => {
      expect(await cache.get(key, 0)).toBeUndefined();
    });

    it('returns the stored answer, field for field', async () => {
      await cache.set(key, cachedChat('Paris.'), 60_000, 1_000);
      expect(await cache.get(key, 2_000)).toEqual(cachedChat('Paris.'));
    });

    it('stores embeddings answers too', async () => {
      const completion: EmbeddingsResponse = {
        object: 'list',
        data: [{ object: 'embedding', index: 0, embedding: [0.25, -0.5, 0.125] }],
        model: 'text-embedding-3-small',
        usage: { prompt_tokens: 2, total_tokens: 2 },
      };
      await cache.set(key, { completion, storedAt: 5, deploymentId: 'embed/openai' }, 60_000, 5);
      expect(await cache.get(key, 6)).toEqual({ completion, storedAt: 5, deploymentId: 'embed/openai' });
    });

    it('hands out copies: changing one does not change what is cached', async () => {
      await cache.set(key, cachedChat('Paris.'), 60_000, 1_000);
      const first = (await cache.get(key, 1_000))!;
      (first.completion as ChatCompletion).choices[0]!.message.content = 'tampered';
      expect(await cache.get(key, 1_000)).toEqual(cachedChat('Paris.'));
    });

    it('serves an entry until its ttl has passed, and never after', async () => {
      await cache.set(key, cachedChat('Paris.'), 60_000, 1_000);
      expect(await cache.get(key, 60_999)).toBeDefined();
      expect(await cache.get(key, 61_000)).toBeUndefined();
    });

    it('replaces an entry stored again under the same key, with the new ttl', async () => {
      await cache.set(key, cachedChat('Paris.'), 1_000, 0);
      await cache.set(key, cachedChat('Lyon.', 500), 60_000, 500);
      expect((await cache.get(key, 30_000))?.completion).toEqual(cachedChat('Lyon.').completion);
    });

    it('keeps keys apart', async () => {
      await cache.set(key, cachedChat('Paris.'), 60_000, 0);
      expect(await cache.get(`${key}x`, 0)).toBeUndefined();
    });

    it('deletes an entry, and says whether there was one', async () => {
      await cache.set(key, cachedChat('Paris.'), 60_000, 0);
      expect(await cache.delete(key)).toBe(true);
      expect(await cache.get(key, 0)).toBeUndefined();
      expect(await cache.delete(key)).toBe(false);
    });
  });
}
