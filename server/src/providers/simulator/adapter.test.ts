import type { ProviderSpec } from '@switchyard/engine';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatChunk, ChatRequest, ToolDefinition } from '../chat-types.ts';
import { collectChunks, rejectionOf, testDeployment } from '../openai-wire.contract.ts';
import type { ProviderCall } from '../provider.ts';
import { isRetryableUpstreamError } from '../upstream-error-map.ts';
import { SimulatorAdapter } from './adapter.ts';
import { cosineSimilarity } from './hashed-embedding.ts';

type Profile = NonNullable<ProviderSpec['profile']>;
const instant: Profile = {
  ttftMs: 0,
  tpotMs: 0,
  jitter: 0,
  errorRate: 0,
  errorStatus: 503,
  seed: 1,
};

function simulator(profile: Partial<Profile> = {}) {
  const spec: ProviderSpec = { type: 'simulator', maxConnections: 1, profile: { ...instant, ...profile } };
  const adapter = new SimulatorAdapter(spec);
  const call = (model = 'sim-medium', signal = new AbortController().signal): ProviderCall => ({
    deployment: testDeployment(spec, model, 'sim'),
    signal,
    requestId: 'req-1',
  });
  return { adapter, call };
}

const ask = (content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'auto',
  messages: [{ role: 'user', content }],
  ...extra,
});
const weatherTool: ToolDefinition = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['location'],
    },
  },
};
const contentOf = (chunks: ChatChunk[]) =>
  chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');

afterEach(() => {
  vi.useRealTimers();
});

describe('simulator: deterministic answers', () => {
  it('answers the same request to the same model with the same text, whatever the instance', async () => {
    const first = simulator();
    const second = simulator();
    const request = ask('Explain how vector databases index embeddings');
    const a = await first.adapter.chat(request, first.call());
    const b = await second.adapter.chat(request, second.call());
    expect(a.choices).toEqual(b.choices);
    expect(a.usage).toEqual(b.usage);
    expect(a.choices[0]?.message.content).toMatch(/vector/i);
  });

  it('answers differently for a different model', async () => {
    const { adapter, call } = simulator({ seed: 3 });
    const request = ask('Explain how vector databases index embeddings');
    const texts = new Set<string | null>();
    for (const model of ['sim-a', 'sim-b', 'sim-c', 'sim-d'])
      texts.add((await adapter.chat(request, call(model))).choices[0]!.message.content);
    expect(texts.size).toBeGreaterThan(1);
  });

  it('counts usage as about four characters per token', async () => {
    const { adapter, call } = simulator();
    const completion = await adapter.chat(ask('Explain how vector databases index embeddings'), call());
    const content = completion.choices[0]!.message.content!;
    expect(completion.usage).toEqual({
      prompt_tokens: Math.ceil('Explain how vector databases index embeddings'.length / 4),
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens:
        Math.ceil('Explain how vector databases index embeddings'.length / 4) + Math.ceil(content.length / 4),
    });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const { adapter, call } = simulator();
    const completion = await adapter.chat(
      ask('Tell me a long story about dragons, castles and knights', { max_tokens: 5 }),
      call(),
    );
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBeLessThanOrEqual(5);
  });
});

describe('simulator: streaming', () => {
  it('streams a role chunk, the same text word by word, a finish chunk and a usage chunk, like OpenAI', async () => {
    const { adapter, call } = simulator();
    const request = ask('Explain how vector databases index embeddings');
    const whole = await adapter.chat(request, call());
    const stream = await adapter.chatStream(request, call());
    const chunks = await collectChunks(stream);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '', refusal: null });
    expect(contentOf(chunks)).toBe(whole.choices[0]?.message.content);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content).length).toBeGreaterThan(5);
    expect(chunks.at(-2)?.choices[0]).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: whole.usage });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);
    expect(stream.usage).toEqual(whole.usage);
  });

  it('waits the time to first token, then the time per token, on timers', async () => {
    vi.useFakeTimers();
    const { adapter, call } = simulator({ ttftMs: 1000, tpotMs: 100 });
    let first: ChatChunk | undefined;
    const opened = adapter.chatStream(ask('Say hello'), call()).then(async (stream) => {
      const iterator = stream[Symbol.asyncIterator]();
      first = (await iterator.next()).value as ChatChunk;
      return iterator;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(first).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    const iterator = await opened;
    expect(first?.choices[0]?.delta.role).toBe('assistant');
    let second: unknown;
    const pending = iterator.next().then((next) => {
      second = next.value;
    });
    await vi.advanceTimersByTimeAsync(99);
    expect(second).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(second).toBeDefined();
  });

  it('keeps jittered latency within the profile’s bounds', async () => {
    vi.useFakeTimers();
    const { adapter, call } = simulator({ ttftMs: 1000, tpotMs: 0, jitter: 0.5, seed: 11 });
    for (let i = 0; i < 5; i++) {
      let done = false;
      const pending = adapter.chat(ask('Hi'), call()).then(() => {
        done = true;
      });
      await vi.advanceTimersByTimeAsync(499);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1001);
      await pending;
      expect(done).toBe(true);
    }
  });

  it('streams tool calls as OpenAI does: id and name first, then the arguments in pieces', async () => {
    const { adapter, call } = simulator();
    const request = ask('What is the weather in Paris?', { tools: [weatherTool], tool_choice: 'required' });
    const whole = await adapter.chat(request, call());
    const chunks = await collectChunks(await adapter.chatStream(request, call()));
    const pieces = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(pieces[0]).toEqual({
      index: 0,
      id: whole.choices[0]?.message.tool_calls?.[0]?.id,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    expect(pieces.length).toBeGreaterThan(3);
    expect(
      pieces.slice(1).every((piece) => piece.id === undefined && piece.function?.name === undefined),
    ).toBe(true);
    expect(pieces.map((piece) => piece.function?.arguments).join('')).toBe(
      whole.choices[0]?.message.tool_calls?.[0]?.function.arguments,
    );
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('tool_calls');
  });
});

describe('simulator: aborts', () => {
  it('rejects a pending call with kind aborted as soon as the signal aborts', async () => {
    const { adapter, call } = simulator({ ttftMs: 60_000 });
    const controller = new AbortController();
    const pending = rejectionOf(adapter.chat(ask('Hi'), call('sim-medium', controller.signal)));
    controller.abort();
    expect(await pending).toMatchObject({ kind: 'aborted' });
  });

  it('passes on the abort reason when it is an UpstreamError (a timeout)', async () => {
    const { adapter, call } = simulator({ ttftMs: 60_000 });
    const controller = new AbortController();
    const pending = rejectionOf(adapter.chatStream(ask('Hi'), call('sim-medium', controller.signal)));
    controller.abort(new DOMException('first token timeout', 'TimeoutError'));
    expect(await pending).toMatchObject({ kind: 'timeout', status: 504 });
  });
});

describe('simulator: markers', () => {
  it('#sim:error=<status> fails with that status, mapped like an upstream', async () => {
    const { adapter, call } = simulator();
    expect(await rejectionOf(adapter.chat(ask('Hi #sim:error=429'), call()))).toMatchObject({
      status: 429,
      upstreamStatus: 429,
      retryAfterMs: 1000,
    });
    const serverError = await rejectionOf(adapter.chatStream(ask('Hi #sim:error=500'), call()));
    expect(serverError).toMatchObject({ kind: 'status', status: 502, upstreamStatus: 500 });
    expect(isRetryableUpstreamError(serverError)).toBe(true);
  });

  it('#sim:refuse answers with a refusal, in the text and in `refusal`', async () => {
    const { adapter, call } = simulator();
    const completion = await adapter.chat(ask('How do I pick a lock? #sim:refuse'), call());
    expect(completion.choices[0]?.message).toMatchObject({
      content: "I can't help with that.",
      refusal: "I can't help with that.",
    });
    const chunks = await collectChunks(
      await adapter.chatStream(ask('How do I pick a lock? #sim:refuse'), call()),
    );
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.refusal ?? '').join('')).toBe(
      "I can't help with that.",
    );
  });

  it('#sim:slow=<ms> delays the first token', async () => {
    vi.useFakeTimers();
    const { adapter, call } = simulator({ ttftMs: 10 });
    let opened = false;
    const pending = adapter.chatStream(ask('Hi #sim:slow=5000'), call()).then(() => {
      opened = true;
    });
    await vi.advanceTimersByTimeAsync(5009);
    expect(opened).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(opened).toBe(true);
  });

  it('#sim:stall=<n> sends n chunks, then hangs until aborted', async () => {
    const { adapter, call } = simulator();
    const controller = new AbortController();
    const stream = await adapter.chatStream(
      ask('Explain vector databases #sim:stall=3'),
      call('sim-medium', controller.signal),
    );
    const iterator = stream[Symbol.asyncIterator]();
    for (let i = 0; i < 3; i++) expect((await iterator.next()).done).toBe(false);
    let settled = false;
    const fourth = rejectionOf(
      iterator.next().finally(() => {
        settled = true;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    controller.abort();
    expect(await fourth).toMatchObject({ kind: 'aborted' });
  });

  it('#sim:midstream-error=<n> sends n chunks, then fails', async () => {
    const { adapter, call } = simulator();
    const stream = await adapter.chatStream(ask('Explain vector databases #sim:midstream-error=2'), call());
    const seen: ChatChunk[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of stream) seen.push(chunk);
      })(),
    );
    expect(seen).toHaveLength(2);
    expect(err).toMatchObject({ kind: 'body', status: 502 });
    expect(await rejectionOf(adapter.chat(ask('Explain #sim:midstream-error=2'), call()))).toMatchObject({
      kind: 'body',
    });
  });

  it('#sim:body-error answers a 200 whose body is an error: kind body, retryable', async () => {
    const { adapter, call } = simulator();
    const err = await rejectionOf(adapter.chat(ask('Hi #sim:body-error'), call()));
    expect(err).toMatchObject({ kind: 'body' });
    expect(isRetryableUpstreamError(err)).toBe(true);
    expect(await rejectionOf(adapter.chatStream(ask('Hi #sim:body-error'), call()))).toMatchObject({
      kind: 'body',
    });
  });

  it('rejects an unknown marker with a 400 naming the known ones', async () => {
    const { adapter, call } = simulator();
    const err = await rejectionOf(adapter.chat(ask('Hi #sim:explode'), call()));
    expect(err).toMatchObject({ status: 400, code: 'invalid_simulator_marker' });
    expect(err.message).toContain('`#sim:explode`');
  });

  it('never echoes markers in the answer', async () => {
    const { adapter, call } = simulator();
    const completion = await adapter.chat(ask('Explain vector databases #sim:slow=1'), call());
    expect(completion.choices[0]?.message.content).not.toContain('#sim');
  });
});

describe('simulator: injected errors', () => {
  const outcomes = async (seed: number) => {
    const { adapter, call } = simulator({ errorRate: 0.3, errorStatus: 503, seed });
    const results: string[] = [];
    for (let i = 0; i < 30; i++)
      results.push(
        await adapter.chat(ask('Hi'), call()).then(
          () => 'ok',
          (err: { status: number }) => String(err.status),
        ),
      );
    return results;
  };

  it('fails at errorRate with errorStatus, in the same sequence for the same seed', async () => {
    const first = await outcomes(7);
    expect(await outcomes(7)).toEqual(first);
    expect(first.filter((outcome) => outcome === '503').length).toBeGreaterThan(3);
    expect(first.filter((outcome) => outcome === 'ok').length).toBeGreaterThan(10);
    expect(await outcomes(8)).not.toEqual(first);
  });
});

describe('simulator: capability tiers', () => {
  it('gets big multiplications wrong on a small model and right on a large one', async () => {
    const { adapter, call } = simulator();
    const request = ask('What is 123456 * 654321?');
    expect((await adapter.chat(request, call('sim-small'))).choices[0]?.message.content).not.toContain(
      '80779853376',
    );
    expect((await adapter.chat(request, call('sim-large'))).choices[0]?.message.content).toContain(
      '80779853376',
    );
  });

  it('lets a profile tier override the model name', async () => {
    const { adapter, call } = simulator({ tier: 5 });
    expect(
      (await adapter.chat(ask('What is 123456 * 654321?'), call('sim-small'))).choices[0]?.message.content,
    ).toContain('80779853376');
  });

  it('gives low-confidence logprobs where the tier struggles and confident ones elsewhere', async () => {
    const { adapter, call } = simulator();
    const mean = (content: { logprob: number }[]) =>
      content.reduce((sum, token) => sum + token.logprob, 0) / content.length;
    const weak = await adapter.chat(
      ask('What is 123456 * 654321?', { logprobs: true, top_logprobs: 2 }),
      call('sim-small'),
    );
    const strong = await adapter.chat(ask('What is 123456 * 654321?', { logprobs: true }), call('sim-large'));
    const weakTokens = weak.choices[0]?.logprobs?.content ?? [];
    expect(weakTokens.map((token) => token.token).join('')).toBe(weak.choices[0]?.message.content);
    expect(weakTokens[0]?.top_logprobs).toHaveLength(2);
    expect(mean(weakTokens)).toBeLessThan(-1);
    expect(mean(strong.choices[0]?.logprobs?.content ?? [])).toBeGreaterThan(-0.2);
    const streamed = await collectChunks(
      await adapter.chatStream(ask('What is 123456 * 654321?', { logprobs: true }), call('sim-small')),
    );
    expect(streamed.flatMap((chunk) => chunk.choices[0]?.logprobs?.content ?? []).length).toBe(
      weakTokens.length,
    );
  });

  it('follows "exactly N words" and "uppercase" from tier 3 on, not below', async () => {
    const { adapter, call } = simulator();
    const request = ask('Describe the ocean in exactly 6 words, in uppercase');
    const strong = (await adapter.chat(request, call('sim-medium'))).choices[0]!.message.content!;
    const weak = (await adapter.chat(request, call('sim-small'))).choices[0]!.message.content!;
    expect(strong.split(/\s+/)).toHaveLength(6);
    expect(strong).toBe(strong.toUpperCase());
    expect(weak.split(/\s+/)).not.toHaveLength(6);
    expect(weak).not.toBe(weak.toUpperCase());
  });

  it('returns json that fits a json_schema, with values extracted from the text', async () => {
    const { adapter, call } = simulator();
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer' },
        member: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
      },
      required: ['name', 'age', 'member', 'tags'],
      additionalProperties: false,
    };
    const completion = await adapter.chat(
      ask('Extract the person from: Alice is 30', {
        response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
      }),
      call('sim-medium'),
    );
    const value = JSON.parse(completion.choices[0]!.message.content!);
    expect(Object.keys(value).sort()).toEqual(['age', 'member', 'name', 'tags']);
    expect(value).toMatchObject({ name: 'Alice', age: 30 });
    expect(typeof value.member).toBe('boolean');
    expect(Array.isArray(value.tags)).toBe(true);
  });
});

describe('simulator: tools', () => {
  it('calls a tool when tool_choice requires it, names it, or the prompt mentions it', async () => {
    const { adapter, call } = simulator();
    for (const extra of [
      { tool_choice: 'required' as const },
      { tool_choice: { type: 'function' as const, function: { name: 'get_weather' } } },
      {},
    ]) {
      const prompt = 'tool_choice' in extra ? 'What is the weather in Paris?' : 'Use get_weather for Paris';
      const completion = await adapter.chat(ask(prompt, { tools: [weatherTool], ...extra }), call());
      const choice = completion.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls?.[0]?.id).toMatch(/^call_[a-z0-9]+$/);
      expect(JSON.parse(choice.message.tool_calls![0]!.function.arguments)).toMatchObject({
        location: 'Paris',
      });
    }
  });

  it('answers in text when tools are offered but not asked for, or tool_choice is none', async () => {
    const { adapter, call } = simulator();
    for (const request of [
      ask('What is the capital of France?', { tools: [weatherTool] }),
      ask('Use get_weather for Paris', { tools: [weatherTool], tool_choice: 'none' }),
    ]) {
      const completion = await adapter.chat(request, call());
      expect(completion.choices[0]?.finish_reason).toBe('stop');
      expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    }
  });

  it('answers with the tool result after a tool message', async () => {
    const { adapter, call } = simulator();
    const first = await adapter.chat(
      ask('What is the weather in Paris?', { tools: [weatherTool], tool_choice: 'required' }),
      call(),
    );
    const toolCall = first.choices[0]!.message.tool_calls![0]!;
    const completion = await adapter.chat(
      {
        model: 'auto',
        tools: [weatherTool],
        messages: [
          { role: 'user', content: 'What is the weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [toolCall] },
          { role: 'tool', tool_call_id: toolCall.id, content: '{"temperature":18,"sky":"cloudy"}' },
        ],
      },
      call(),
    );
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.choices[0]?.message.content).toContain(
      'get_weather returned {"temperature":18,"sky":"cloudy"}',
    );
  });
});

describe('simulator: embeddings', () => {
  const embed = async (
    input: string | string[],
    extra: { dimensions?: number; encoding_format?: 'float' | 'base64' } = {},
  ) => {
    const { adapter, call } = simulator();
    return adapter.embed({ model: 'embed', input, ...extra }, call('sim-embed'));
  };
  const vectorOf = (response: Awaited<ReturnType<typeof embed>>, index = 0) =>
    response.data[index]!.embedding as number[];

  it('places near-duplicates close (> 0.9) and unrelated texts far (< 0.5)', async () => {
    const response = await embed([
      'The quick brown fox jumps over the lazy dog',
      'The quick brown fox jumped over the lazy dog',
      'Quarterly revenue grew by twelve percent',
    ]);
    expect(response.data.map((item) => item.index)).toEqual([0, 1, 2]);
    expect(cosineSimilarity(vectorOf(response, 0), vectorOf(response, 1))).toBeGreaterThan(0.9);
    expect(cosineSimilarity(vectorOf(response, 0), vectorOf(response, 2))).toBeLessThan(0.5);
  });

  it('returns unit vectors of 256 dimensions by default, or of `dimensions`, the same every time', async () => {
    const vector = vectorOf(await embed('How do I reset my password?'));
    expect(vector).toHaveLength(256);
    expect(Math.hypot(...vector)).toBeCloseTo(1, 6);
    expect(vectorOf(await embed('How do I reset my password?'))).toEqual(vector);
    expect(vectorOf(await embed('How do I reset my password?', { dimensions: 64 }))).toHaveLength(64);
  });

  it('encodes base64 as little-endian float32, like OpenAI', async () => {
    const floats = vectorOf(await embed('How do I reset my password?'));
    const encoded = (await embed('How do I reset my password?', { encoding_format: 'base64' })).data[0]!
      .embedding as string;
    const bytes = Buffer.from(encoded, 'base64');
    const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    expect(decoded).toHaveLength(floats.length);
    for (const [i, value] of decoded.entries()) expect(value).toBeCloseTo(floats[i]!, 6);
  });

  it('reports usage and rejects an empty input list', async () => {
    expect((await embed(['abcdefgh', 'abcd'])).usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(await rejectionOf(embed([]))).toMatchObject({ status: 400 });
  });
});
