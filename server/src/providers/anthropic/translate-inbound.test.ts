import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatCompletion } from '../chat-types.ts';
import { startFakeUpstream, startSse } from '../fake-upstream.ts';
import { UpstreamError } from '../provider.ts';
import {
  type AnthropicSseEvent,
  anthropicErrorBody,
  anthropicEventsFromChunks,
  anthropicMessageFromCompletion,
  chatRequestFromAnthropic,
  formatAnthropicSseEvent,
} from './translate-inbound.ts';
import { toAnthropicRequest } from './translate-request.ts';
import type { AnthropicMessageParam, AnthropicRequest, AnthropicRequestBlock } from './wire.ts';

/** Puts both spellings Anthropic accepts (string or text blocks) into block form, so meaning can be compared. */
function normalize(request: AnthropicRequest): AnthropicRequest {
  const text = (content: string) => [{ type: 'text' as const, text: content }];
  const blocks = (content: AnthropicMessageParam['content']): AnthropicRequestBlock[] =>
    typeof content === 'string'
      ? text(content)
      : content.map((b) =>
          b.type === 'tool_result' && typeof b.content === 'string' ? { ...b, content: text(b.content) } : b,
        );
  return {
    ...request,
    ...(typeof request.system === 'string' ? { system: text(request.system) } : {}),
    messages: request.messages.map((m) => ({ role: m.role, content: blocks(m.content) })),
  };
}

const conversation: AnthropicRequest = {
  model: 'claude-sonnet-4-20250514',
  max_tokens: 1024,
  system: 'You are a weather assistant.',
  messages: [
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in these pictures, and what is the weather there?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQSkZJRg==' } },
        { type: 'image', source: { type: 'url', url: 'https://example.com/sf.jpg' } },
      ],
    },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me check both cities.' },
        { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { location: 'San Francisco, CA' } },
        {
          type: 'tool_use',
          id: 'toolu_02',
          name: 'get_weather',
          input: { location: 'Paris', unit: 'celsius' },
        },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01', content: '15 degrees' },
        { type: 'tool_result', tool_use_id: 'toolu_02', content: [{ type: 'text', text: '22 degrees' }] },
        { type: 'text', text: 'Which is warmer?' },
      ],
    },
  ],
  stop_sequences: ['\n\nHuman:'],
  temperature: 0.5,
  top_p: 0.9,
  top_k: 40,
  metadata: { user_id: 'user-7' },
  tools: [
    {
      name: 'get_weather',
      description: 'Get the current weather in a given location',
      input_schema: {
        type: 'object',
        properties: {
          location: { type: 'string' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['location'],
      },
    },
  ],
  tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
};

describe('chatRequestFromAnthropic', () => {
  it('translates tool results into tool messages ahead of the rest of their user turn', () => {
    const chat = chatRequestFromAnthropic(conversation);
    expect(chat.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'tool', 'user']);
    expect(chat.messages[3]).toEqual({ role: 'tool', tool_call_id: 'toolu_01', content: '15 degrees' });
    expect(chat.messages[4]).toEqual({ role: 'tool', tool_call_id: 'toolu_02', content: '22 degrees' });
    expect(chat.messages[1]!.content).toContainEqual({
      type: 'image_url',
      image_url: { url: 'data:image/jpeg;base64,/9j/4AAQSkZJRg==' },
    });
    expect(chat).toMatchObject({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1024,
      stop: ['\n\nHuman:'],
      user: 'user-7',
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
    });
  });

  it('round-trips an Anthropic request through the chat shape without losing meaning', () => {
    const roundTripped = toAnthropicRequest(chatRequestFromAnthropic(conversation), conversation.model);
    expect(normalize(roundTripped)).toEqual(normalize(conversation));
  });

  it('round-trips system blocks, every tool_choice and streaming', () => {
    for (const toolChoice of [{ type: 'auto' }, { type: 'any' }, { type: 'none' }] as const) {
      const request: AnthropicRequest = {
        model: 'm',
        max_tokens: 10,
        system: [
          { type: 'text', text: 'One.' },
          { type: 'text', text: 'Two.' },
        ],
        messages: [{ role: 'user', content: 'Hi' }],
        tools: [{ name: 't', input_schema: { type: 'object', properties: {} } }],
        tool_choice: toolChoice,
      };
      expect(toAnthropicRequest(chatRequestFromAnthropic(request), 'm')).toEqual(request);
    }
    expect(chatRequestFromAnthropic({ model: 'm', max_tokens: 5, messages: [], stream: true })).toMatchObject(
      {
        stream: true,
        stream_options: { include_usage: true },
      },
    );
  });

  it('rejects content the chat shape cannot carry instead of dropping it', () => {
    const withServerTool = {
      ...conversation,
      tools: [{ type: 'web_search_20250305', name: 'web_search', input_schema: {} }],
    };
    expect(() => chatRequestFromAnthropic(withServerTool)).toThrow(/server tool `web_search_20250305`/);
    const withDocument = {
      model: 'm',
      max_tokens: 5,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }],
    } as unknown as AnthropicRequest;
    expect(() => chatRequestFromAnthropic(withDocument)).toThrow(UpstreamError);
  });
});

const completion: ChatCompletion = {
  id: 'chatcmpl-abc123',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
          },
        ],
      },
      finish_reason: 'tool_calls',
    },
  ],
  usage: {
    prompt_tokens: 120,
    completion_tokens: 30,
    total_tokens: 150,
    prompt_tokens_details: { cached_tokens: 100 },
  },
};

describe('anthropicMessageFromCompletion', () => {
  it('builds an Anthropic message with text and tool_use blocks, stop reason and usage net of cache reads', () => {
    expect(anthropicMessageFromCompletion(completion)).toEqual({
      id: 'msg_abc123',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 20,
        output_tokens: 30,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 100,
      },
    });
  });

  it('maps finish reasons, reporting the matched stop sequence when the upstream told it', () => {
    const withFinish = (
      finish_reason: ChatCompletion['choices'][number]['finish_reason'],
      stop_reason?: string,
    ) =>
      anthropicMessageFromCompletion({
        ...completion,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'x' },
            finish_reason,
            ...(stop_reason ? { stop_reason } : {}),
          },
        ],
      });
    expect(withFinish('stop')).toMatchObject({ stop_reason: 'end_turn', stop_sequence: null });
    expect(withFinish('stop', 'END')).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    expect(withFinish('length').stop_reason).toBe('max_tokens');
    expect(withFinish('content_filter').stop_reason).toBe('refusal');
  });
});

function chunk(
  delta: ChatChunk['choices'][number]['delta'],
  finish: ChatChunk['choices'][number]['finish_reason'] = null,
): ChatChunk {
  return {
    id: 'chatcmpl-s1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
}
const usageChunk: ChatChunk = {
  id: 'chatcmpl-s1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [],
  usage: {
    prompt_tokens: 25,
    completion_tokens: 15,
    total_tokens: 40,
    prompt_tokens_details: { cached_tokens: 5 },
  },
};
const textChunks = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Hello' }),
  chunk({ content: '!' }),
  chunk({}, 'stop'),
  usageChunk,
];
const toolChunks = [
  chunk({ role: 'assistant', content: '' }),
  chunk({ content: 'Let me check.' }),
  chunk({
    tool_calls: [
      { index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } },
    ],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"location":' } }] }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: ' "Paris"}' } }] }),
  chunk({
    tool_calls: [
      { index: 1, id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ],
  }),
  chunk({}, 'tool_calls'),
  usageChunk,
];

async function* from<T>(items: T[], failAfter?: Error): AsyncGenerator<T> {
  yield* items;
  if (failAfter) throw failAfter;
}

async function events(chunks: AsyncIterable<ChatChunk>): Promise<AnthropicSseEvent[]> {
  const out: AnthropicSseEvent[] = [];
  for await (const e of anthropicEventsFromChunks(chunks, { model: 'claude-sonnet-4-20250514' })) out.push(e);
  return out;
}

/** Serves `sequence` as an Anthropic stream and consumes it with the real Anthropic SDK. */
async function consumeWithSdk(sequence: AnthropicSseEvent[]) {
  const upstream = await startFakeUpstream((_req, res) => {
    startSse(res);
    res.end(sequence.map(formatAnthropicSseEvent).join(''));
  });
  try {
    const client = new Anthropic({ baseURL: upstream.baseUrl, apiKey: 'x', maxRetries: 0 });
    const stream = client.messages.stream({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    return { message, texts };
  } finally {
    await upstream.close();
  }
}

describe('anthropicEventsFromChunks', () => {
  it('emits the documented event sequence for a text answer', async () => {
    const sequence = await events(from(textChunks));
    expect(sequence.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(sequence.every((e) => e.event === e.data.type)).toBe(true);
    expect(sequence[0]!.data).toMatchObject({
      message: {
        id: 'msg_s1',
        role: 'assistant',
        content: [],
        model: 'claude-sonnet-4-20250514',
        stop_reason: null,
      },
    });
    expect(sequence[1]!.data).toEqual({
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    });
    expect(sequence[3]!.data).toEqual({
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'Hello' },
    });
    expect(sequence[6]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 20, output_tokens: 15, cache_read_input_tokens: 5 },
    });
  });

  it('emits a block per tool call, with input_json_delta pieces, and moves indexes on as blocks change', async () => {
    const sequence = await events(from(toolChunks));
    expect(
      sequence.map((e) =>
        e.event === 'content_block_delta' ||
        e.event === 'content_block_start' ||
        e.event === 'content_block_stop'
          ? `${e.event}:${(e.data as { index: number }).index}`
          : e.event,
      ),
    ).toEqual([
      'message_start',
      'content_block_start:0',
      'ping',
      'content_block_delta:0',
      'content_block_stop:0',
      'content_block_start:1',
      'content_block_delta:1',
      'content_block_delta:1',
      'content_block_stop:1',
      'content_block_start:2',
      'content_block_delta:2',
      'content_block_stop:2',
      'message_delta',
      'message_stop',
    ]);
    expect(sequence[5]!.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} },
    });
    expect(sequence[6]!.data).toEqual({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '{"location":' },
    });
    expect(sequence.at(-2)!.data).toMatchObject({ delta: { stop_reason: 'tool_use' } });
  });

  it('produces streams the real Anthropic SDK accumulates into the right message', async () => {
    const text = await consumeWithSdk(await events(from(textChunks)));
    expect(text.texts).toEqual(['Hello', '!']);
    expect(text.message).toMatchObject({
      id: 'msg_s1',
      content: [{ type: 'text', text: 'Hello!' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 20, output_tokens: 15, cache_read_input_tokens: 5 },
    });

    const tools = await consumeWithSdk(await events(from(toolChunks)));
    expect(tools.message.content).toEqual([
      expect.objectContaining({ type: 'text', text: 'Let me check.' }),
      expect.objectContaining({
        type: 'tool_use',
        id: 'call_a',
        name: 'get_weather',
        input: { location: 'Paris' },
      }),
      expect.objectContaining({ type: 'tool_use', id: 'call_b', name: 'get_time', input: { tz: 'CET' } }),
    ]);
    expect(tools.message.stop_reason).toBe('tool_use');
  });

  it('ends with an error event when the source fails mid-stream, and rethrows when it fails first', async () => {
    const overloaded = new UpstreamError(
      'openai returned 503: overloaded',
      'status',
      503,
      'upstream_error',
      'upstream_overloaded',
    );
    const sequence = await events(from(textChunks.slice(0, 2), overloaded));
    expect(sequence.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'error',
    ]);
    expect(sequence.at(-1)!.data).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'openai returned 503: overloaded' },
    });
    await expect(events(from([], overloaded))).rejects.toBe(overloaded);
  });
});

describe('anthropicErrorBody', () => {
  it('uses Anthropic’s documented error type for each status', () => {
    const typeOf = (status: number) => anthropicErrorBody(status, 'm').error.type;
    expect(anthropicErrorBody(400, 'bad')).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'bad' },
    });
    expect([401, 403, 404, 413, 429, 500, 529, 503, 502, 504, 422].map(typeOf)).toEqual([
      'authentication_error',
      'permission_error',
      'not_found_error',
      'request_too_large',
      'rate_limit_error',
      'api_error',
      'overloaded_error',
      'overloaded_error',
      'api_error',
      'timeout_error',
      'invalid_request_error',
    ]);
  });
});
