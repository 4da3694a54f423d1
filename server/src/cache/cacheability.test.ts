import { describe, expect, it } from 'vitest';
import type { ChatCompletion, EmbeddingsResponse } from '../providers/chat-types.ts';
import { cacheDirectivesFrom, isCacheable, isFreshEnough } from './cacheability.ts';

function completion(choice: Partial<ChatCompletion['choices'][number]>): ChatCompletion {
  return {
    id: 'c',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Paris.' }, finish_reason: 'stop', ...choice },
    ],
  };
}

describe('isCacheable', () => {
  it('stores a complete answer of a request that succeeded', () => {
    expect(isCacheable(completion({}), 'ok')).toBe(true);
    const toolCall = completion({
      message: {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      finish_reason: 'tool_calls',
    });
    expect(isCacheable(toolCall, 'ok')).toBe(true);
  });

  it('never stores errors, cancelled requests or a missing answer', () => {
    expect(isCacheable(completion({}), 'error')).toBe(false);
    expect(isCacheable(completion({}), 'cancelled')).toBe(false);
    expect(isCacheable(undefined, 'ok')).toBe(false);
  });

  it('never stores a truncated, unfinished, filtered, refused or empty answer', () => {
    expect(isCacheable(completion({ finish_reason: 'length' }), 'ok')).toBe(false);
    expect(isCacheable(completion({ finish_reason: null }), 'ok')).toBe(false);
    expect(isCacheable(completion({ finish_reason: 'content_filter' }), 'ok')).toBe(false);
    expect(
      isCacheable(
        completion({ message: { role: 'assistant', content: "I can't.", refusal: "I can't." } }),
        'ok',
      ),
    ).toBe(false);
    expect(isCacheable(completion({ message: { role: 'assistant', content: '' } }), 'ok')).toBe(false);
    expect(isCacheable({ ...completion({}), choices: [] }, 'ok')).toBe(false);
  });

  it('never stores an answer where any one choice was cut short', () => {
    const two = completion({});
    two.choices.push({ ...two.choices[0]!, index: 1, finish_reason: 'length' });
    expect(isCacheable(two, 'ok')).toBe(false);
  });

  it('stores embeddings with data, and not empty ones', () => {
    const embeddings: EmbeddingsResponse = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [1, 0] }],
      model: 'e',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    expect(isCacheable(embeddings, 'ok')).toBe(true);
    expect(isCacheable({ ...embeddings, data: [] }, 'ok')).toBe(false);
  });
});

describe('cacheDirectivesFrom', () => {
  it('reads and writes when the client said nothing', () => {
    expect(cacheDirectivesFrom(undefined)).toEqual({ read: true, write: true });
    expect(cacheDirectivesFrom('public, must-revalidate')).toEqual({ read: true, write: true });
  });

  it('no-cache skips the lookup but still stores', () => {
    expect(cacheDirectivesFrom('No-Cache')).toEqual({ read: false, write: true });
    expect(cacheDirectivesFrom('max-age=0')).toEqual({ read: false, write: true });
  });

  it('no-store neither reads nor stores, wherever it appears', () => {
    expect(cacheDirectivesFrom('max-age=60, no-store')).toMatchObject({ read: false, write: false });
    expect(cacheDirectivesFrom(['max-age=60', 'no-store'])).toMatchObject({ read: false, write: false });
  });

  it('max-age accepts only entries younger than it', () => {
    const directives = cacheDirectivesFrom('max-age=60');
    expect(directives).toEqual({ read: true, write: true, maxAgeMs: 60_000 });
    expect(isFreshEnough(1_000, directives, 60_999)).toBe(true);
    expect(isFreshEnough(1_000, directives, 61_000)).toBe(false);
    expect(isFreshEnough(0, cacheDirectivesFrom(undefined), 1e12)).toBe(true);
    expect(cacheDirectivesFrom('max-age=abc').maxAgeMs).toBeUndefined();
  });
});
