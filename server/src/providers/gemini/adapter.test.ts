import type { Deployment, ProviderSpec } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest } from '../chat-types.ts';
import { type FakeUpstream, readFixture, replyJson, startFakeUpstream, startSse } from '../fake-upstream.ts';
import { type ProviderCall, UpstreamError } from '../provider.ts';
import { isRetryableUpstreamError } from '../upstream-error-map.ts';
import { GeminiAdapter } from './adapter.ts';

const fixture = (name: string) => readFixture(import.meta.url, name);
/** Gemini frames its SSE events with CRLF; keep each frame byte-exact. */
const frames = (name: string) =>
  fixture(name)
    .split(/(?<=\r\n\r\n)/)
    .filter((f) => f.trim() !== '');

const spec: ProviderSpec = { type: 'gemini', maxConnections: 4 };
const deployment = (model: string): Deployment => ({
  id: `fast/${model}`,
  logicalModel: 'fast',
  providerName: 'gemini',
  provider: spec,
  model,
  weight: 1,
  price: { inPerMTok: 0.1, outPerMTok: 0.4, cachedInPerMTok: 0.025 },
  contextWindow: 1_000_000,
  capabilities: ['chat', 'tools', 'streaming', 'embedding'],
});

let fake: FakeUpstream;
let adapter: GeminiAdapter;
beforeAll(async () => {
  fake = await startFakeUpstream();
  adapter = new GeminiAdapter(spec);
});
afterAll(async () => {
  await adapter.close();
  await fake.close();
});

function call(overrides: Partial<ProviderCall> = {}): ProviderCall {
  return {
    deployment: deployment('gemini-2.0-flash'),
    apiKey: 'AIza-test',
    baseUrl: fake.baseUrl,
    signal: new AbortController().signal,
    requestId: 'req-9',
    ...overrides,
  };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
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

async function rest(iterator: AsyncIterator<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for (let next = await iterator.next(); !next.done; next = await iterator.next()) out.push(next.value);
  return out;
}

const textRequest: ChatRequest = {
  model: 'fast',
  messages: [
    { role: 'system', content: 'You are a storyteller.' },
    { role: 'user', content: 'Write a story about a magic backpack.' },
  ],
  max_tokens: 200,
  temperature: 0.7,
  top_p: 0.95,
  stop: ['THE END'],
};

const toolRequest: ChatRequest = {
  model: 'fast',
  messages: [
    { role: 'user', content: 'Which theaters in Mountain View show Barbie, and when?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'call_0',
          type: 'function',
          function: { name: 'find_theaters', arguments: '{"location":"Mountain View, CA","movie":"Barbie"}' },
        },
      ],
    },
    { role: 'tool', tool_call_id: 'call_0', content: '{"theaters":["AMC Mountain View 16"]}' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'find_theaters',
        description: 'find theaters based on location and optionally movie title',
        parameters: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: { location: { type: 'string' }, movie: { type: ['string', 'null'] } },
          required: ['location'],
          additionalProperties: false,
        },
      },
    },
    { type: 'function', function: { name: 'get_showtimes', parameters: { type: 'object', properties: {} } } },
  ],
  tool_choice: { type: 'function', function: { name: 'get_showtimes' } },
};

describe('GeminiAdapter.chat', () => {
  it('posts the translated request to :generateContent with x-goog-api-key and maps the response', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('generate-content-text.json')));
    const completion = await adapter.chat(textRequest, call());

    const received = fake.requests.at(-1)!;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/v1beta/models/gemini-2.0-flash:generateContent');
    expect(received.headers['x-goog-api-key']).toBe('AIza-test');
    expect(received.headers['content-type']).toBe('application/json');
    expect(JSON.parse(received.body)).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Write a story about a magic backpack.' }] }],
      systemInstruction: { parts: [{ text: 'You are a storyteller.' }] },
      generationConfig: { maxOutputTokens: 200, temperature: 0.7, topP: 0.95, stopSequences: ['THE END'] },
    });
    expect(completion).toMatchObject({
      id: 'mAitaLmkHPPlz7IPvtfUqQ4',
      object: 'chat.completion',
      model: 'gemini-2.0-flash',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: expect.stringContaining('dusty backpack') },
          finish_reason: 'stop',
        },
      ],
    });
  });

  it('maps usage, with cached content tokens as cached tokens', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('generate-content-text.json')));
    const completion = await adapter.chat(textRequest, call());
    expect(completion.usage).toEqual({
      prompt_tokens: 1210,
      completion_tokens: 27,
      total_tokens: 1237,
      prompt_tokens_details: { cached_tokens: 1024 },
    });
  });

  it('round-trips tools: declarations, tool config, earlier calls and named function responses go out; function calls come back as tool_calls', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('generate-content-function-call.json')));
    const completion = await adapter.chat(toolRequest, call());

    const body = JSON.parse(fake.requests.at(-1)!.body);
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: 'find_theaters',
            description: 'find theaters based on location and optionally movie title',
            parameters: {
              type: 'object',
              properties: { location: { type: 'string' }, movie: { type: 'string', nullable: true } },
              required: ['location'],
            },
          },
          { name: 'get_showtimes' },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_showtimes'] },
    });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Which theaters in Mountain View show Barbie, and when?' }] },
      {
        role: 'model',
        parts: [
          {
            functionCall: { name: 'find_theaters', args: { location: 'Mountain View, CA', movie: 'Barbie' } },
          },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'find_theaters', response: { theaters: ['AMC Mountain View 16'] } } },
        ],
      },
    ]);

    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(
      choice.message.tool_calls?.map((c) => [c.id, c.function.name, JSON.parse(c.function.arguments)]),
    ).toEqual([
      ['call_0', 'find_theaters', { location: 'Mountain View, CA', movie: 'Barbie' }],
      [
        'call_1',
        'get_showtimes',
        { location: 'Mountain View, CA', movie: 'Barbie', theater: 'AMC Mountain View 16', date: '9/1/2024' },
      ],
    ]);
  });

  it('asks for JSON output with responseMimeType and a Gemini-compatible responseSchema', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('generate-content-text.json')));
    await adapter.chat({ ...textRequest, response_format: { type: 'json_object' } }, call());
    expect(JSON.parse(fake.requests.at(-1)!.body).generationConfig.responseMimeType).toBe('application/json');
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' } },
      required: ['title'],
      additionalProperties: false,
    };
    await adapter.chat(
      {
        ...textRequest,
        response_format: { type: 'json_schema', json_schema: { name: 'story', schema, strict: true } },
      },
      call(),
    );
    expect(JSON.parse(fake.requests.at(-1)!.body).generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseSchema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
    });
  });

  it('answers a blocked prompt with an empty content_filter choice', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('generate-content-blocked.json')));
    const completion = await adapter.chat(textRequest, call());
    expect(completion.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter' },
    ]);
    expect(completion.id).toBe('chatcmpl-req-9');
  });

  it('rejects a tool result for a call no assistant message made, without calling the upstream', async () => {
    const before = fake.requests.length;
    const err = await rejection(
      adapter.chat(
        { model: 'fast', messages: [{ role: 'tool', tool_call_id: 'call_7', content: 'x' }] },
        call(),
      ),
    );
    expect(err).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(fake.requests.length).toBe(before);
  });
});

describe('GeminiAdapter errors', () => {
  it('maps 429 RESOURCE_EXHAUSTED to a 429 whose retryAfterMs comes from RetryInfo', async () => {
    fake.handle((_req, res) => replyJson(res, 429, fixture('error-resource-exhausted.json')));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({
      kind: 'status',
      status: 429,
      code: 'rate_limit_exceeded',
      retryAfterMs: 37_000,
    });
    expect(err.message).toBe(
      'gemini returned 429: RESOURCE_EXHAUSTED: You exceeded your current quota, please check your plan and billing details.',
    );
  });

  it('prefers a Retry-After header over RetryInfo', async () => {
    fake.handle((_req, res) =>
      replyJson(res, 429, fixture('error-resource-exhausted.json'), { 'retry-after': '3' }),
    );
    expect((await rejection(adapter.chat(textRequest, call()))).retryAfterMs).toBe(3000);
  });

  it('maps 503 UNAVAILABLE to a retryable 503, before a stream starts too', async () => {
    fake.handle((_req, res) => replyJson(res, 503, fixture('error-unavailable.json')));
    const err = await rejection(adapter.chatStream(textRequest, call()));
    expect(err).toMatchObject({ status: 503, code: 'upstream_overloaded', upstreamStatus: 503 });
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('maps 500 INTERNAL to a retryable 502', async () => {
    fake.handle((_req, res) => replyJson(res, 500, fixture('error-internal.json')));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({ status: 502, code: 'upstream_server_error' });
    expect(isRetryableUpstreamError(err)).toBe(true);
  });

  it('maps 400 INVALID_ARGUMENT to a 400 with Gemini’s message', async () => {
    fake.handle((_req, res) => replyJson(res, 400, fixture('error-invalid-argument.json')));
    const err = await rejection(adapter.chat(textRequest, call()));
    expect(err).toMatchObject({ status: 400, type: 'invalid_request_error' });
    expect(err.message).toBe(
      'gemini returned 400: INVALID_ARGUMENT: * GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be positive.',
    );
    expect(isRetryableUpstreamError(err)).toBe(false);
  });

  it('treats a rejected API key (400 API_KEY_INVALID) as the gateway’s credential failing: 502', async () => {
    fake.handle((_req, res) => replyJson(res, 400, fixture('error-api-key-invalid.json')));
    expect(await rejection(adapter.chat(textRequest, call()))).toMatchObject({
      status: 502,
      code: 'upstream_auth_failed',
      upstreamStatus: 400,
    });
  });
});

describe('GeminiAdapter.chatStream', () => {
  it('streams from :streamGenerateContent?alt=sse, yielding text as it arrives, then finish and usage chunks', async () => {
    const sse = frames('stream-text.sse');
    const release = deferred();
    fake.handle(async (_req, res) => {
      startSse(res);
      res.write(sse[0]!);
      await release.promise;
      res.end(sse.slice(1).join(''));
    });
    const stream = await adapter.chatStream(textRequest, call());
    expect(fake.requests.at(-1)!.url).toBe('/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse');

    const iterator = stream[Symbol.asyncIterator]();
    const role = await iterator.next();
    const first = await beforeUpstreamFinishes(iterator.next());
    release.resolve();
    const later = await rest(iterator);

    expect(role.value).toMatchObject({
      id: 'Q2x5aO3fLuGMz7IP-5XY8Qc',
      model: 'gemini-2.0-flash',
      choices: [{ index: 0, delta: { role: 'assistant' } }],
    });
    expect(first.value?.choices[0]?.delta).toEqual({ content: 'The' });
    expect(later.map((c) => c.choices[0]?.delta.content).filter(Boolean)).toEqual([
      ' sky appears blue because of Rayleigh scattering:',
      ' shorter wavelengths scatter more.',
    ]);
    expect(later.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('stop');
    const usage = {
      prompt_tokens: 10,
      completion_tokens: 18,
      total_tokens: 28,
      prompt_tokens_details: { cached_tokens: 4 },
    };
    expect(later.at(-1)).toMatchObject({ choices: [], usage });
    expect(stream.usage).toEqual(usage);
  });

  it('streams each function call as one tool call chunk with a generated id, as it arrives', async () => {
    const sse = frames('stream-function-call.sse');
    const release = deferred();
    fake.handle(async (_req, res) => {
      startSse(res);
      res.write(sse[0]!);
      await release.promise;
      res.end(sse.slice(1).join(''));
    });
    const stream = await adapter.chatStream(toolRequest, call());
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const firstCall = await beforeUpstreamFinishes(iterator.next());
    release.resolve();
    const later = await rest(iterator);

    expect(firstCall.value?.choices[0]?.delta.tool_calls).toEqual([
      {
        index: 0,
        id: 'call_0',
        type: 'function',
        function: { name: 'find_theaters', arguments: '{"location":"Mountain View, CA","movie":"Barbie"}' },
      },
    ]);
    expect(later[0]!.choices[0]!.delta.tool_calls).toMatchObject([
      { index: 1, id: 'call_1', function: { name: 'get_showtimes' } },
    ]);
    expect(later.find((c) => c.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(stream.usage).toMatchObject({ prompt_tokens: 96, completion_tokens: 38, total_tokens: 134 });
  });

  it('throws an UpstreamError from the iterator when an error arrives mid-stream', async () => {
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
    expect(err.message).toContain('UNAVAILABLE: The model is overloaded');
  });

  it('fails with a protocol error when the stream ends without a finish reason', async () => {
    fake.handle((_req, res) => {
      startSse(res);
      res.end(frames('stream-text.sse')[0]);
    });
    const stream = await adapter.chatStream(textRequest, call());
    expect(await rejection(rest(stream[Symbol.asyncIterator]()))).toMatchObject({
      kind: 'protocol',
      code: 'upstream_protocol_error',
    });
  });

  it('closes the upstream socket within 100 ms when the call is aborted mid-stream', async () => {
    const socketClosed = deferred();
    fake.handle(async (_req, res, closed) => {
      startSse(res);
      res.write(frames('stream-text.sse')[0]!);
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

describe('GeminiAdapter.embed', () => {
  it('embeds through :batchEmbedContents, one request per input, and answers in OpenAI’s shape', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('batch-embed-contents.json')));
    const embedCall = call({ deployment: deployment('text-embedding-004') });
    const response = await adapter.embed(
      { model: 'embed', input: ['What is the meaning of life?', 'How much wood?'], dimensions: 4 },
      embedCall,
    );

    const received = fake.requests.at(-1)!;
    expect(received.url).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(received.headers['x-goog-api-key']).toBe('AIza-test');
    expect(JSON.parse(received.body)).toEqual({
      requests: [
        {
          model: 'models/text-embedding-004',
          content: { parts: [{ text: 'What is the meaning of life?' }] },
          outputDimensionality: 4,
        },
        {
          model: 'models/text-embedding-004',
          content: { parts: [{ text: 'How much wood?' }] },
          outputDimensionality: 4,
        },
      ],
    });
    expect(response.object).toBe('list');
    expect(response.model).toBe('text-embedding-004');
    expect(response.data.map((d) => [d.object, d.index])).toEqual([
      ['embedding', 0],
      ['embedding', 1],
    ]);
    expect(response.data[0]!.embedding).toEqual([0.013168523, -0.008711934, -0.046782676, 0.00069968984]);
    // Gemini reports no token counts for embeddings: estimated at 4 bytes a token (28 → 7, 14 → 4).
    expect(response.usage).toEqual({ prompt_tokens: 11, total_tokens: 11 });
  });

  it('encodes embeddings as little-endian float32 base64 when asked', async () => {
    fake.handle((_req, res) => replyJson(res, 200, fixture('batch-embed-contents.json')));
    const response = await adapter.embed(
      { model: 'embed', input: ['a', 'b'], encoding_format: 'base64' },
      call({ deployment: deployment('text-embedding-004') }),
    );
    const bytes = Buffer.from(response.data[1]!.embedding as string, 'base64');
    const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    expect(Array.from(floats)).toEqual(
      Array.from(new Float32Array([-0.021597385, 0.0013015577, -0.02766131, 0.0072911307])),
    );
  });

  it('rejects token-id input with a 400', async () => {
    expect(await rejection(adapter.embed({ model: 'embed', input: [1, 2, 3] }, call()))).toMatchObject({
      status: 400,
    });
  });
});
