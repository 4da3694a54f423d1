import type { Deployment, ProviderSpec } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest } from '../chat-types.ts';
import {
  type FakeUpstream,
  readFixture,
  replyJson,
  sseFrames,
  startFakeUpstream,
  startSse,
} from '../fake-upstream.ts';
import { type ProviderCall, UpstreamError } from '../provider.ts';
import { isRetryableUpstreamError } from '../upstream-error-map.ts';
import { AnthropicAdapter } from './adapter.ts';

const fixture = (name: string) => readFixture(import.meta.url, name);
const spec: ProviderSpec = { type: 'anthropic', maxConnections: 4 };
const deployment: Deployment = {
  id: 'strong/claude',
  logicalModel: 'strong',
  providerName: 'anthropic',
  provider: spec,
  model: 'claude-sonnet-4-20250514',
  weight: 1,
  price: { inPerMTok: 3, outPerMTok: 15, cachedInPerMTok: 0.3 },
  contextWindow: 200_000,
  capabilities: ['chat', 'tools', 'streaming'],
};

let fake: FakeUpstream;
let adapter: AnthropicAdapter;
beforeAll(async () => {
  fake = await startFakeUpstream();
  adapter = new AnthropicAdapter(spec);
});
afterAll(async () => {
  await adapter.close();
  await fake.close();
});

function call(overrides: Partial<ProviderCall> = {}): ProviderCall {
  return {
    deployment,
    apiKey: 'sk-ant-test',
    baseUrl: `${fake.baseUrl}/`,
    signal: new AbortController().signal,
    requestId: 'req-1',
    ...overrides,
  };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Fails instead of hanging when a chunk only arrives after the upstream finished (a buffering adapter). */
function beforeUpstreamFinishes<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error('chunk was not yielded before the upstream finished')), 3000),
    ),
  ]);
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UpstreamError);
  return err as UpstreamError;
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const textRequest: ChatRequest = {
  model: 'strong',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hello, Claude' },
  ],
  stop: 'END',
  temperature: 0.2,
  user: 'user-42',
};

describe('AnthropicAdapter.chat', () => {
  it('posts the translated request to /v1/messages with Anthropic auth headers and maps the message', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-text.json')));
    const completion = await adapter.chat(textRequest, call());

    const received = fake.requests.at(-1)!;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/v1/messages');
    expect(received.headers['x-api-key']).toBe('sk-ant-test');
    expect(received.headers['anthropic-version']).toBe('2023-06-01');
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received.body)).toEqual({
      model: 'claude-sonnet-4-20250514',
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [{ role: 'user', content: 'Hello, Claude' }],
      max_tokens: 4096,
      stop_sequences: ['END'],
      temperature: 0.2,
      metadata: { user_id: 'user-42' },
    });
    expect(completion).toMatchObject({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      object: 'chat.completion',
      model: 'claude-sonnet-4-20250514',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi! My name is Claude.' },
          finish_reason: 'stop',
        },
      ],
    });
  });

  it('counts cache reads and writes into prompt tokens and reports cache reads as cached tokens', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-text.json')));
    const completion = await adapter.chat(textRequest, call());
    expect(completion.usage).toEqual({
      prompt_tokens: 1812,
      completion_tokens: 9,
      total_tokens: 1821,
      prompt_tokens_details: { cached_tokens: 1800 },
    });
  });

  it('sends the provider apiVersion and the call headers', async () => {
    const versioned = new AnthropicAdapter({ ...spec, apiVersion: '2024-01-01' });
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-text.json')));
    await versioned.chat(
      textRequest,
      call({ headers: { 'anthropic-beta': 'context-1m-2025-08-07' }, traceparent: '00-abc-def-01' }),
    );
    await versioned.close();
    const headers = fake.requests.at(-1)!.headers;
    expect(headers['anthropic-version']).toBe('2024-01-01');
    expect(headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    expect(headers.traceparent).toBe('00-abc-def-01');
  });

  it('round-trips tools: definitions, tool choice, earlier tool calls and merged tool results go out; tool_use comes back as tool_calls', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-tool-use.json')));
    const completion = await adapter.chat(
      {
        model: 'strong',
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'toolu_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
              },
              {
                id: 'toolu_2',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"location":"Rome"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '18°C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: '24°C' },
          { role: 'user', content: 'And San Francisco?' },
        ],
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Get the current weather in a given location',
              parameters: {
                type: 'object',
                properties: { location: { type: 'string' } },
                required: ['location'],
              },
            },
          },
        ],
        tool_choice: 'required',
        max_tokens: 1024,
      },
      call(),
    );

    const body = JSON.parse(fake.requests.at(-1)!.body);
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Get the current weather in a given location',
        input_schema: {
          type: 'object',
          properties: { location: { type: 'string' } },
          required: ['location'],
        },
      },
    ]);
    expect(body.tool_choice).toEqual({ type: 'any' });
    expect(body.max_tokens).toBe(1024);
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18°C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '24°C' },
          { type: 'text', text: 'And San Francisco?' },
        ],
      },
    ]);
    expect(completion.choices[0]).toMatchObject({
      message: {
        content: "I'll check the current weather in San Francisco for you.",
        tool_calls: [
          { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather' } },
        ],
      },
      finish_reason: 'tool_calls',
    });
    expect(JSON.parse(completion.choices[0]!.message.tool_calls![0]!.function.arguments)).toEqual({
      location: 'San Francisco, CA',
      unit: 'celsius',
    });
  });

  it('reports which stop sequence ended generation', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-stop-sequence.json')));
    const completion = await adapter.chat(
      { model: 'strong', messages: [{ role: 'user', content: 'Count' }], stop: ['5'] },
      call(),
    );
    expect(completion.choices[0]).toMatchObject({ finish_reason: 'stop', stop_reason: '5' });
  });

  it('marks the system prompt and the last tool as cache breakpoints when the call asks for prompt caching', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('message-text.json')));
    const tool = (name: string) => ({
      type: 'function' as const,
      function: { name, parameters: { type: 'object', properties: {} } },
    });
    await adapter.chat({ ...textRequest, tools: [tool('a'), tool('b')] }, call({ promptCache: true }));
    const body = JSON.parse(fake.requests.at(-1)!.body);
    expect(body.system).toEqual([
      { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.tools[0].cache_control).toBeUndefined();
    expect(body.tools[1].cache_control).toEqual({ type: 'ephemeral' });

    await adapter.chat({ ...textRequest, tools: [tool('a')] }, call());
    expect(fake.requests.at(-1)!.body).not.toContain('cache_control');
  });
});

describe('AnthropicAdapter errors', () => {
  it('maps 429 with retry-after to a 429 carrying retryAfterMs and Anthropic’s message', async () => {
    fake.handle((_req, res) => replyJson(res, 429, fixture('error-rate-limit.json'), { 'retry-after': '7' }));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({
      kind: 'status',
      status: 429,
      code: 'rate_limit_exceeded',
      upstreamStatus: 429,
      retryAfterMs: 7000,
    });
    expect(err.message).toContain('per-minute rate limit');
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('maps 529 overloaded to a retryable 503, before a stream starts too', async () => {
    fake.handle((_req, res) => replyJson(res, 529, fixture('error-overloaded.json')));
    const err = await rejection(adapter.chatStream(textRequest, call()));
    expect(err).toMatchObject({
      kind: 'status',
      status: 503,
      code: 'upstream_overloaded',
      upstreamStatus: 529,
    });
    expect(err.message).toBe('anthropic returned 529: overloaded_error: Overloaded');
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('maps 400 invalid_request_error to a 400 with Anthropic’s message', async () => {
    fake.handle((_req, res) => replyJson(res, 400, fixture('error-invalid-request.json')));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({
      status: 400,
      type: 'invalid_request_error',
      code: 'upstream_invalid_request',
    });
    expect(err.message).toContain('max_tokens: 100000 > 64000');
    expect(isRetryableUpstreamError(err)).toBe(false);
  });

  it('maps a refused key (401) to a 502, since it is the gateway’s credential', async () => {
    fake.handle((_req, res) =>
      replyJson(res, 401, {
        type: 'error',
        error: { type: 'authentication_error', message: 'invalid x-api-key' },
      }),
    );
    expect(await rejection(adapter.chat(textRequest, call()))).toMatchObject({
      status: 502,
      code: 'upstream_auth_failed',
    });
  });

  it('treats an error body inside a 200 as a retryable body failure', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('error-overloaded.json')));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({ kind: 'body', status: 503, code: 'upstream_overloaded' });
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('fails with a connect error when nothing listens', async () => {
    const gone = await startFakeUpstream();
    await gone.close();
    const err = await rejection(adapter.chat(textRequest, call({ baseUrl: gone.baseUrl })));
    expect(err).toMatchObject({ kind: 'connect', status: 502 });
  });

  it('refuses embeddings with 400 unsupported_capability without calling the upstream', async () => {
    const before = fake.requests.length;
    const err = await rejection(adapter.embed({ model: 'x', input: 'hi' }, call()));
    expect(err).toMatchObject({ status: 400, code: 'unsupported_capability' });
    expect(fake.requests.length).toBe(before);
  });
});

describe('AnthropicAdapter.chatStream', () => {
  it('yields text chunks as they arrive, then the finish chunk and a usage chunk with no choices', async () => {
    const frames = sseFrames(fixture('stream-text.sse'));
    const release = deferred();
    fake.handle(async (_req, res) => {
      startSse(res);
      res.write(frames.slice(0, 4).join('')); // message_start … first text delta
      await release.promise;
      res.end(frames.slice(4).join(''));
    });
    const stream = await adapter.chatStream(textRequest, call());
    expect(JSON.parse(fake.requests.at(-1)!.body).stream).toBe(true);
    expect(fake.requests.at(-1)!.headers.accept).toBe('text/event-stream');

    const iterator = stream[Symbol.asyncIterator]();
    const role = await iterator.next();
    const hello = await beforeUpstreamFinishes(iterator.next());
    release.resolve();
    const rest: ChatChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);

    expect(role.value).toMatchObject({
      id: 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY',
      object: 'chat.completion.chunk',
      choices: [{ delta: { role: 'assistant' } }],
    });
    expect(hello.value?.choices[0]?.delta).toEqual({ content: 'Hello' });
    expect(rest.map((c) => c.choices[0]?.delta.content).filter(Boolean)).toEqual(['!']);
    const finish = rest.find((c) => c.choices[0]?.finish_reason);
    expect(finish?.choices[0]?.finish_reason).toBe('stop');
    const last = rest.at(-1)!;
    expect(last.choices).toEqual([]);
    const usage = {
      prompt_tokens: 1049,
      completion_tokens: 15,
      total_tokens: 1064,
      prompt_tokens_details: { cached_tokens: 1024 },
    };
    expect(last.usage).toEqual(usage);
    expect(stream.usage).toEqual(usage);
  });

  it('streams a tool call: id and name first, then argument pieces as they arrive', async () => {
    const frames = sseFrames(fixture('stream-tool-use.sse'));
    const toolStart = frames.findIndex((f) => f.includes('"tool_use"'));
    const release = deferred();
    fake.handle(async (_req, res) => {
      startSse(res);
      res.write(frames.slice(0, toolStart + 1).join(''));
      await release.promise;
      res.end(frames.slice(toolStart + 1).join(''));
    });
    const stream = await adapter.chatStream(
      { ...textRequest, tools: [{ type: 'function', function: { name: 'get_weather' } }] },
      call(),
    );
    const iterator = stream[Symbol.asyncIterator]();
    const early: ChatChunk[] = [];
    while (!early.at(-1)?.choices[0]?.delta.tool_calls)
      early.push((await beforeUpstreamFinishes(iterator.next())).value as ChatChunk);
    release.resolve();
    const rest: ChatChunk[] = [];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);

    expect(early.map((c) => c.choices[0]?.delta.content).join('')).toBe(
      "Okay, let's check the weather for San Francisco, CA:",
    );
    expect(early.at(-1)!.choices[0]!.delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6',
        type: 'function',
        function: { name: 'get_weather', arguments: '' },
      },
    ]);
    const pieces = rest.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.index === 0 && p.id === undefined)).toBe(true);
    expect(JSON.parse(pieces.map((p) => p.function?.arguments).join(''))).toEqual({
      location: 'San Francisco, CA',
      unit: 'fahrenheit',
    });
    expect(rest.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(stream.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89 });
  });

  it('throws an UpstreamError from the iterator when an error event arrives mid-stream', async () => {
    fake.handle((_req, res) => {
      startSse(res);
      res.end(fixture('stream-error-midstream.sse'));
    });
    const stream = await adapter.chatStream(textRequest, call());
    const seen: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const chunk of stream)
          if (chunk.choices[0]?.delta.content) seen.push(chunk.choices[0].delta.content);
      })(),
    );
    expect(seen).toEqual(['Once upon']);
    expect(err).toMatchObject({ kind: 'body', status: 503, code: 'upstream_overloaded' });
    expect(err.message).toContain('overloaded_error: Overloaded');
  });

  it('rejects the call when the first stream event is an error, so it can still be retried', async () => {
    fake.handle((_req, res) => {
      startSse(res);
      res.end(fixture('stream-error-first.sse'));
    });
    const err = await rejection(adapter.chatStream(textRequest, call()));
    expect(err).toMatchObject({ kind: 'body', status: 503 });
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('fails with a protocol error when the stream ends before message_stop', async () => {
    const frames = sseFrames(fixture('stream-text.sse'));
    fake.handle((_req, res) => {
      startSse(res);
      res.end(frames.slice(0, 4).join(''));
    });
    const stream = await adapter.chatStream(textRequest, call());
    expect(await rejection(collect(stream))).toMatchObject({
      kind: 'protocol',
      code: 'upstream_protocol_error',
    });
  });

  it('closes the upstream socket within 100 ms when the call is aborted mid-stream', async () => {
    const frames = sseFrames(fixture('stream-text.sse'));
    const socketClosed = deferred();
    fake.handle(async (_req, res, closed) => {
      startSse(res);
      res.write(frames.slice(0, 4).join(''));
      await closed;
      socketClosed.resolve();
    });
    const controller = new AbortController();
    const stream = await adapter.chatStream(textRequest, call({ signal: controller.signal }));
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    const pending = rejection(iterator.next());
    controller.abort();
    await Promise.race([
      socketClosed.promise,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('upstream socket still open 100 ms after abort')), 100),
      ),
    ]);
    expect(await pending).toMatchObject({ kind: 'aborted' });
  });
});
