import type { CachePlan } from '@switchyard/engine';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ChatCompletion, ChatRequest } from '../providers/chat-types.ts';
import { embedText } from '../providers/simulator/hashed-embedding.ts';
import { cleanupRedisTestNamespace, redisTestNamespace } from '../stores/redis/redis-test-namespace.ts';
import { exactCacheKey } from './cache-key.ts';
import { MemoryResponseCache } from './memory/memory-response-cache.ts';
import { MemorySemanticIndex } from './memory/memory-semantic-index.ts';
import { RedisResponseCache } from './redis/redis-response-cache.ts';
import { RedisSemanticIndex } from './redis/redis-semantic-index.ts';
import type { ResponseCache } from './response-cache.ts';
import { conversationText, SemanticCache } from './semantic-cache.ts';
import type { SemanticIndex } from './semantic-index.ts';

afterAll(cleanupRedisTestNamespace);

/** The simulator's embeddings: similar texts land close, unrelated ones near orthogonal. */
const embed = vi.fn(async (text: string) => embedText(text));

const plan = (scopeKey = 'tenant:search'): CachePlan => ({
  ruleId: 'faq',
  mode: 'semantic',
  ttlMs: 3_600_000,
  scope: 'tenant',
  scopeKey,
  similarity: 0.95,
  promptCache: false,
  countTokensOnHit: false,
});
const ask = (question: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'fast',
  messages: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: question },
  ],
  temperature: 0,
  ...extra,
});
const answer: ChatCompletion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop' }],
};

const backends: [string, () => Promise<{ index: SemanticIndex; responses: ResponseCache }>][] = [
  ['memory', async () => ({ index: new MemorySemanticIndex(), responses: new MemoryResponseCache() })],
  [
    'redis',
    async () => {
      const ns = await redisTestNamespace();
      const prefix = `${ns.prefix}${Math.random().toString(36).slice(2)}:`;
      return {
        index: new RedisSemanticIndex(ns.redis, { prefix }),
        responses: new RedisResponseCache(ns.redis, { prefix }),
      };
    },
  ],
];

describe.each(backends)('semantic cache on %s', (_name, open) => {
  /** A cache holding the answer to "What is the capital of France?" for tenant `search`. */
  async function primed() {
    const { index, responses } = await open();
    const cache = new SemanticCache(index, responses);
    const request = ask('What is the capital of France?');
    const { probe } = await cache.lookup(plan(), 'fast', request, embed, 0);
    const key = exactCacheKey(plan(), 'fast', request);
    await cache.remember(
      probe!,
      key,
      { completion: answer, storedAt: 0, deploymentId: 'fast/a' },
      3_600_000,
      0,
    );
    return cache;
  }

  it('answers a near-duplicate question with the stored answer', async () => {
    const cache = await primed();
    const found = await cache.lookup(
      plan(),
      'fast',
      ask('what is the capital city of France?'),
      embed,
      1_000,
    );
    expect(found.match?.entry.completion).toEqual(answer);
    expect(found.match?.similarity).toBeGreaterThanOrEqual(0.95);
    expect(found.match?.similarity).toBeLessThan(1);
  });

  it('misses a different question, even one worded almost the same', async () => {
    const cache = await primed();
    expect(
      (await cache.lookup(plan(), 'fast', ask('How do I bake sourdough bread?'), embed, 1_000)).match,
    ).toBeUndefined();
    expect(
      (await cache.lookup(plan(), 'fast', ask('What is the capital of Spain?'), embed, 1_000)).match,
    ).toBeUndefined();
  });

  it('misses the same question asked by another tenant', async () => {
    const cache = await primed();
    const found = await cache.lookup(
      plan('tenant:other'),
      'fast',
      ask('What is the capital of France?'),
      embed,
      1_000,
    );
    expect(found.match).toBeUndefined();
  });

  it('misses the same question asked with other parameters or another model', async () => {
    const cache = await primed();
    const question = 'What is the capital of France?';
    expect(
      (await cache.lookup(plan(), 'fast', ask(question, { temperature: 0.8 }), embed, 1_000)).match,
    ).toBeUndefined();
    expect(
      (await cache.lookup(plan(), 'fast', ask(question, { max_tokens: 5 }), embed, 1_000)).match,
    ).toBeUndefined();
    expect((await cache.lookup(plan(), 'strong', ask(question), embed, 1_000)).match).toBeUndefined();
  });

  it('misses once the entry has expired', async () => {
    const cache = await primed();
    const found = await cache.lookup(plan(), 'fast', ask('What is the capital of France?'), embed, 3_600_000);
    expect(found.match).toBeUndefined();
  });
});

describe('semantic cache', () => {
  it('drops an index entry whose answer is gone from the response cache', async () => {
    const index = new MemorySemanticIndex();
    const responses = new MemoryResponseCache();
    const cache = new SemanticCache(index, responses);
    const request = ask('What is the capital of France?');
    const { probe } = await cache.lookup(plan(), 'fast', request, embed, 0);
    const key = exactCacheKey(plan(), 'fast', request);
    await cache.remember(probe!, key, { completion: answer, storedAt: 0, deploymentId: 'fast/a' }, 60_000, 0);
    await responses.delete(key);
    expect((await cache.lookup(plan(), 'fast', request, embed, 1)).match).toBeUndefined();
    expect(index.size).toBe(0);
  });

  it('never embeds a conversation holding an image, or one too long to compare whole', async () => {
    const cache = new SemanticCache(new MemorySemanticIndex(), new MemoryResponseCache(), {
      maxTextChars: 100,
    });
    embed.mockClear();
    const withImage = ask('x', {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          ],
        },
      ],
    });
    expect(await cache.lookup(plan(), 'fast', withImage, embed, 0)).toEqual({});
    expect(await cache.lookup(plan(), 'fast', ask('y'.repeat(101)), embed, 0)).toEqual({});
    expect(embed).not.toHaveBeenCalled();
  });

  it('compares the whole conversation: system prompt, tool calls and results included', () => {
    const text = conversationText(
      ask('x', {
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '21°C' },
        ],
      }),
    );
    expect(text).toBe(
      'system: Be brief.\nuser: Weather in Paris?\nassistant:  [call weather {"city":"Paris"}]\ntool: 21°C',
    );
  });
});
