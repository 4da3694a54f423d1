import { describe, expect, it } from 'vitest';
import type { ChatRequest, EmbeddingsRequest } from '../providers/chat-types.ts';
import { canonicalJson, chatParametersHash, embeddingsCacheKey, exactCacheKey } from './cache-key.ts';

const tenant = { scopeKey: 'tenant:search' };
const base: ChatRequest = {
  model: 'fast',
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
  temperature: 0,
};
const keyOf = (request: ChatRequest, scope = tenant, model = 'fast') => exactCacheKey(scope, model, request);

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: undefined }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"y":2}]},"b":1}',
    );
  });
});

describe('exactCacheKey', () => {
  it('is the same SHA-256 for the same request', () => {
    expect(keyOf(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyOf(structuredClone(base))).toBe(keyOf(base));
  });

  it('ignores key order, streaming, user and metadata', () => {
    const reordered: ChatRequest = {
      temperature: 0,
      messages: [
        { content: 'Be brief.', role: 'system' },
        { content: 'What is the capital of France?', role: 'user' },
      ],
      model: 'fast',
    };
    expect(keyOf(reordered)).toBe(keyOf(base));
    expect(
      keyOf({
        ...base,
        stream: true,
        stream_options: { include_usage: true },
        user: 'u1',
        metadata: { a: 'b' },
      }),
    ).toBe(keyOf(base));
  });

  it('treats explicit defaults like omitted ones', () => {
    const plain: ChatRequest = { model: 'fast', messages: base.messages };
    expect(
      keyOf({
        ...plain,
        temperature: 1,
        top_p: 1,
        n: 1,
        presence_penalty: 0,
        frequency_penalty: 0,
        logprobs: false,
        top_logprobs: 3,
        stop: [],
        response_format: { type: 'text' },
        tool_choice: 'none',
        seed: null,
        max_tokens: null,
      }),
    ).toBe(keyOf(plain));
    expect(keyOf({ ...base, max_tokens: 100 })).toBe(keyOf({ ...base, max_completion_tokens: 100 }));
    expect(keyOf({ ...base, stop: 'END' })).toBe(keyOf({ ...base, stop: ['END'] }));
    expect(keyOf({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] })).toBe(
      keyOf({ ...base, messages: [{ role: 'user', content: 'hi' }] }),
    );
  });

  const tool = { type: 'function' as const, function: { name: 'weather', parameters: { type: 'object' } } };
  const changes: [string, ChatRequest][] = [
    ['a message', { ...base, messages: [{ role: 'user', content: 'What is the capital of Spain?' }] }],
    [
      'the system prompt',
      { ...base, messages: [{ role: 'system', content: 'Be verbose.' }, base.messages[1]!] },
    ],
    [
      'an image part',
      {
        ...base,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: 'https://x/a.png' } },
            ],
          },
        ],
      },
    ],
    [
      'a tool call',
      {
        ...base,
        messages: [
          ...base.messages,
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '21°C' },
        ],
      },
    ],
    ['tools', { ...base, tools: [tool] }],
    ['tool_choice', { ...base, tools: [tool], tool_choice: 'required' }],
    ['parallel_tool_calls', { ...base, tools: [tool], parallel_tool_calls: false }],
    ['response_format', { ...base, response_format: { type: 'json_object' } }],
    ['temperature', { ...base, temperature: 0.7 }],
    ['top_p', { ...base, top_p: 0.5 }],
    ['max_tokens', { ...base, max_tokens: 10 }],
    ['max_completion_tokens', { ...base, max_completion_tokens: 10 }],
    ['seed', { ...base, seed: 42 }],
    ['stop', { ...base, stop: ['\n'] }],
    ['n', { ...base, n: 2 }],
    ['logprobs', { ...base, logprobs: true }],
    ['top_logprobs', { ...base, logprobs: true, top_logprobs: 5 }],
    ['presence_penalty', { ...base, presence_penalty: 0.5 }],
    ['frequency_penalty', { ...base, frequency_penalty: 0.5 }],
    ['an unknown parameter passed through', { ...base, reasoning_effort: 'high' }],
  ];
  it.each(changes)('changes when %s changes', (_field, changed) => {
    expect(keyOf(changed)).not.toBe(keyOf(base));
  });

  it('changes with the tool call result', () => {
    const withResult = (content: string): ChatRequest => ({
      ...base,
      messages: [
        {
          role: 'assistant',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content },
      ],
    });
    expect(keyOf(withResult('21°C'))).not.toBe(keyOf(withResult('5°C')));
  });

  it('never collides across scopes or logical models', () => {
    expect(keyOf(base, { scopeKey: 'tenant:other' })).not.toBe(keyOf(base));
    expect(keyOf(base, { scopeKey: 'key:search' })).not.toBe(keyOf(base));
    expect(keyOf(base, tenant, 'strong')).not.toBe(keyOf(base));
  });

  it('refuses to build a key without a scope', () => {
    expect(() => keyOf(base, { scopeKey: '' })).toThrow(/cache scope/);
    expect(() => keyOf(base, { scopeKey: 'tenant:' })).toThrow(/cache scope/);
  });
});

describe('embeddingsCacheKey', () => {
  const request: EmbeddingsRequest = { model: 'embed', input: 'hello world' };
  const keyOfEmbed = (r: EmbeddingsRequest, scope = tenant) => embeddingsCacheKey(scope, 'embed', r);

  it('is the same for a lone string and a one-item list, with default encoding explicit or not', () => {
    expect(keyOfEmbed({ ...request, input: ['hello world'], encoding_format: 'float', user: 'u' })).toBe(
      keyOfEmbed(request),
    );
    expect(keyOfEmbed({ ...request, input: [1, 2, 3] })).toBe(keyOfEmbed({ ...request, input: [[1, 2, 3]] }));
  });

  it('changes with input, dimensions, encoding and scope, and never equals a chat key', () => {
    const key = keyOfEmbed(request);
    expect(keyOfEmbed({ ...request, input: 'hello there' })).not.toBe(key);
    expect(keyOfEmbed({ ...request, input: ['hello', 'world'] })).not.toBe(key);
    expect(keyOfEmbed({ ...request, dimensions: 64 })).not.toBe(key);
    expect(keyOfEmbed({ ...request, encoding_format: 'base64' })).not.toBe(key);
    expect(keyOfEmbed(request, { scopeKey: 'key:k1' })).not.toBe(key);
    expect(exactCacheKey(tenant, 'embed', { model: 'embed', messages: [] })).not.toBe(key);
  });
});

describe('chatParametersHash', () => {
  it('ignores the conversation but not the parameters or the model', () => {
    const other: ChatRequest = { ...base, messages: [{ role: 'user', content: 'Something else' }] };
    expect(chatParametersHash('fast', other)).toBe(chatParametersHash('fast', base));
    expect(chatParametersHash('fast', { ...base, temperature: 0.2 })).not.toBe(
      chatParametersHash('fast', base),
    );
    expect(chatParametersHash('strong', base)).not.toBe(chatParametersHash('fast', base));
  });
});
