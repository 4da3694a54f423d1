import type { CachePlan } from '@switchyard/engine';
import { describe, expect, it, vi } from 'vitest';
import type { ChatCompletion, ChatRequest, EmbeddingsResponse } from '../providers/chat-types.ts';
import { embedText } from '../providers/simulator/hashed-embedding.ts';
import { GatewayCache } from './gateway-cache.ts';
import { MemoryResponseCache } from './memory/memory-response-cache.ts';
import { MemorySemanticIndex } from './memory/memory-semantic-index.ts';
import type { ResponseCache } from './response-cache.ts';
import { SemanticCache } from './semantic-cache.ts';

const exact: CachePlan = {
  ruleId: 'deterministic',
  mode: 'exact',
  ttlMs: 60_000,
  scope: 'key',
  scopeKey: 'key:k1',
  similarity: 0.95,
  promptCache: false,
  countTokensOnHit: false,
};
const semantic: CachePlan = {
  ...exact,
  ruleId: 'faq',
  mode: 'semantic',
  scope: 'tenant',
  scopeKey: 'tenant:search',
};
const ask = (question: string): ChatRequest => ({
  model: 'fast',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: question },
  ],
  temperature: 0,
});
const answer = (finish: 'stop' | 'length' = 'stop'): ChatCompletion => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: finish }],
  usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
});
const source = { deploymentId: 'fast/openai-mini', costUsd: 0.0002 };

function gateway() {
  const responses = new MemoryResponseCache();
  const index = new MemorySemanticIndex();
  const onError = vi.fn();
  const cache = new GatewayCache({ responses, semantic: new SemanticCache(index, responses), onError });
  const embed = vi.fn(async (text: string) => embedText(text));
  return { cache, responses, index, onError, embed };
}

describe('gateway cache: chat, exact rules', () => {
  it('misses, stores the answer, then hits with it and what it saved', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    const miss = await cache.lookupChat(input);
    expect(miss).toMatchObject({ status: 'miss', ruleId: 'deterministic' });
    expect(await cache.remember(miss, answer(), 'ok', source, 0)).toBe(true);
    const hit = await cache.lookupChat({
      ...input,
      request: { ...ask('Capital of France?'), stream: true },
      nowMs: 5,
    });
    expect(hit.status).toBe('hit');
    expect(hit.hit).toEqual({
      entry: { completion: answer(), storedAt: 0, savedCostUsd: 0.0002, deploymentId: 'fast/openai-mini' },
      similarity: 1,
    });
    expect(await cache.remember(hit, answer(), 'ok', source, 5)).toBe(false);
  });

  it('never serves one key’s entry to another key', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    await cache.remember(await cache.lookupChat(input), answer(), 'ok', source, 0);
    expect((await cache.lookupChat({ ...input, cache: { ...exact, scopeKey: 'key:k2' } })).status).toBe(
      'miss',
    );
  });

  it('stores nothing for a truncated answer or a failed request', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    const miss = await cache.lookupChat(input);
    expect(await cache.remember(miss, answer('length'), 'ok', source, 0)).toBe(false);
    expect(await cache.remember(miss, answer(), 'error', source, 0)).toBe(false);
    expect((await cache.lookupChat(input)).status).toBe('miss');
  });

  it('Cache-Control: no-cache bypasses the lookup but stores the fresh answer', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    await cache.remember(await cache.lookupChat(input), answer(), 'ok', source, 0);
    const bypass = await cache.lookupChat({ ...input, cacheControl: 'no-cache' });
    expect(bypass.status).toBe('bypass');
    expect(bypass.hit).toBeUndefined();
    const fresher = { ...answer(), id: 'chatcmpl-2' };
    expect(await cache.remember(bypass, fresher, 'ok', source, 10)).toBe(true);
    expect((await cache.lookupChat({ ...input, nowMs: 20 })).hit?.entry.completion.id).toBe('chatcmpl-2');
  });

  it('Cache-Control: no-store neither reads nor stores', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    await cache.remember(await cache.lookupChat(input), answer(), 'ok', source, 0);
    const bypass = await cache.lookupChat({ ...input, cacheControl: 'no-store' });
    expect(bypass).toEqual({ status: 'bypass', ruleId: 'deterministic', write: undefined });
    expect(await cache.remember(bypass, { ...answer(), id: 'new' }, 'ok', source, 1)).toBe(false);
    expect((await cache.lookupChat(input)).hit?.entry.completion.id).toBe('chatcmpl-1');
  });

  it('Cache-Control: max-age turns an older entry into a miss', async () => {
    const { cache } = gateway();
    const input = { cache: exact, logicalModel: 'fast', request: ask('Capital of France?'), nowMs: 0 };
    await cache.remember(await cache.lookupChat(input), answer(), 'ok', source, 0);
    expect((await cache.lookupChat({ ...input, cacheControl: 'max-age=10', nowMs: 9_999 })).status).toBe(
      'hit',
    );
    expect((await cache.lookupChat({ ...input, cacheControl: 'max-age=10', nowMs: 10_000 })).status).toBe(
      'miss',
    );
  });

  it('fails open: a failing store is a miss and a skipped write, reported to onError', async () => {
    const down = new Error('connection is closed');
    const broken: ResponseCache = {
      get: () => Promise.reject(down),
      set: () => Promise.reject(down),
      delete: () => Promise.reject(down),
      close: async () => {},
    };
    const onError = vi.fn();
    const cache = new GatewayCache({ responses: broken, onError });
    const miss = await cache.lookupChat({ cache: exact, logicalModel: 'fast', request: ask('x'), nowMs: 0 });
    expect(miss.status).toBe('miss');
    expect(await cache.remember(miss, answer(), 'ok', source, 0)).toBe(false);
    expect(onError.mock.calls).toEqual([
      [down, 'lookup'],
      [down, 'store'],
    ]);
  });
});

describe('gateway cache: a plan without a proper scope', () => {
  it('keeps the cache out of the request (bypass, nothing stored) and reports it', async () => {
    const { cache, onError } = gateway();
    const unscoped = { ...exact, scopeKey: '' };
    const lookup = await cache.lookupChat({
      cache: unscoped,
      logicalModel: 'fast',
      request: ask('x'),
      nowMs: 0,
    });
    expect(lookup).toEqual({ status: 'bypass', ruleId: 'deterministic' });
    expect(await cache.remember(lookup, answer(), 'ok', source, 0)).toBe(false);
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'lookup');
  });
});

describe('gateway cache: chat, semantic rules', () => {
  it('hits a near-duplicate, and an identical request exactly without embedding', async () => {
    const { cache, embed } = gateway();
    const base = { cache: semantic, logicalModel: 'fast', embed };
    const miss = await cache.lookupChat({
      ...base,
      request: ask('What is the capital of France?'),
      nowMs: 0,
    });
    expect(miss.status).toBe('miss');
    await cache.remember(miss, answer(), 'ok', source, 0);
    const near = await cache.lookupChat({
      ...base,
      request: ask('what is the capital city of France?'),
      nowMs: 1,
    });
    expect(near.status).toBe('hit');
    expect(near.hit?.similarity).toBeLessThan(1);
    embed.mockClear();
    const same = await cache.lookupChat({
      ...base,
      request: ask('What is the capital of France?'),
      nowMs: 2,
    });
    expect(same.hit?.similarity).toBe(1);
    expect(embed).not.toHaveBeenCalled();
  });

  it('indexes an answer whose lookup was bypassed, embedding it when storing', async () => {
    const { cache, embed } = gateway();
    const base = { cache: semantic, logicalModel: 'fast', embed };
    const bypass = await cache.lookupChat({
      ...base,
      request: ask('What is the capital of France?'),
      cacheControl: 'no-cache',
      nowMs: 0,
    });
    expect(embed).not.toHaveBeenCalled();
    await cache.remember(bypass, answer(), 'ok', source, 0);
    const near = await cache.lookupChat({
      ...base,
      request: ask('what is the capital city of France?'),
      nowMs: 1,
    });
    expect(near.status).toBe('hit');
  });

  it('falls back to exact matching when the embedder fails, and still stores exactly', async () => {
    const { cache, onError } = gateway();
    const failing = vi.fn(async () => Promise.reject(new Error('embedding model unavailable')));
    const input = {
      cache: semantic,
      logicalModel: 'fast',
      embed: failing,
      request: ask('Capital?'),
      nowMs: 0,
    };
    const miss = await cache.lookupChat(input);
    expect(miss.status).toBe('miss');
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'lookup');
    expect(await cache.remember(miss, answer(), 'ok', source, 0)).toBe(true);
    expect((await cache.lookupChat({ ...input, nowMs: 1 })).status).toBe('hit');
  });
});

describe('gateway cache: embeddings', () => {
  const vectors: EmbeddingsResponse = {
    object: 'list',
    data: [{ object: 'embedding', index: 0, embedding: [0.6, 0.8] }],
    model: 'text-embedding-3-small',
    usage: { prompt_tokens: 2, total_tokens: 2 },
  };

  it('misses, stores, then hits the same input within its scope only', async () => {
    const { cache } = gateway();
    const input = {
      cache: exact,
      logicalModel: 'embed',
      request: { model: 'embed', input: 'hello' },
      nowMs: 0,
    };
    const miss = await cache.lookupEmbeddings(input);
    expect(miss.status).toBe('miss');
    expect(await cache.remember(miss, vectors, 'ok', source, 0)).toBe(true);
    expect(
      (await cache.lookupEmbeddings({ ...input, request: { model: 'embed', input: ['hello'] } })).hit?.entry
        .completion,
    ).toEqual(vectors);
    expect(
      (await cache.lookupEmbeddings({ ...input, request: { model: 'embed', input: 'hello!' } })).status,
    ).toBe('miss');
    expect((await cache.lookupEmbeddings({ ...input, cache: { ...exact, scopeKey: 'key:k2' } })).status).toBe(
      'miss',
    );
  });

  it('treats a semantic rule on embeddings as exact', async () => {
    const { cache, embed } = gateway();
    const input = {
      cache: semantic,
      logicalModel: 'embed',
      embed,
      request: { model: 'embed', input: 'hello' },
      nowMs: 0,
    };
    await cache.remember(await cache.lookupEmbeddings(input), vectors, 'ok', source, 0);
    expect((await cache.lookupEmbeddings(input)).status).toBe('hit');
    expect(embed).not.toHaveBeenCalled();
  });
});
