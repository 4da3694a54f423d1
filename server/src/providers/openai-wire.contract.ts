import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Deployment, ProviderSpec } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatChunk, ChatRequest } from './chat-types.ts';
import {
  type FakeUpstream,
  readFixture,
  replyJson,
  replySse,
  sseFrames,
  startFakeUpstream,
} from './fake-upstream.ts';
import { type ProviderAdapter, type ProviderCall, UpstreamError } from './provider.ts';
import { isRetryableUpstreamError } from './upstream-error-map.ts';

/** What the OpenAI-wire contract needs to know about one adapter. */
export interface OpenAiWireContractOptions {
  /** Suite title. */
  name: string;
  /** `import.meta.url` of the provider's test; its `fixtures/` holds chat-completion.json, chat-stream.sse, error-*.json… */
  moduleUrl: string;
  /** The provider declaration, pointed at the fake upstream. */
  spec(baseUrl: string): ProviderSpec;
  createAdapter(spec: ProviderSpec): ProviderAdapter;
  /** The key the call carries (undefined: none). */
  apiKey: string | undefined;
  /** The deployment's upstream model name. */
  model: string;
}

/** A deployment for adapter tests. */
export function testDeployment(
  spec: ProviderSpec,
  model: string,
  providerName: string = spec.type,
): Deployment {
  return {
    id: `chat/${providerName}`,
    logicalModel: 'chat',
    providerName,
    provider: spec,
    model,
    weight: 1,
    price: { inPerMTok: 0, outPerMTok: 0, cachedInPerMTok: 0 },
    contextWindow: 128_000,
    capabilities: ['chat', 'streaming', 'tools', 'json', 'embedding'],
  };
}

/** Collects a stream's chunks. */
export async function collectChunks(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

/** Catches what a promise rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected the call to fail');
}

/**
 * The behaviour every adapter speaking OpenAI's wire format shares, run against a fake upstream that
 * replays the provider's fixtures over real HTTP: request shape and headers, no buffering, usage,
 * tool calls, the error map, connection failures and aborts.
 */
export function describeOpenAiWireContract(options: OpenAiWireContractOptions): void {
  describe(`${options.name}: openai wire contract`, () => {
    let upstream: FakeUpstream;
    let spec: ProviderSpec;
    let adapter: ProviderAdapter;
    const fixture = (name: string) => readFixture(options.moduleUrl, name);
    const request: ChatRequest = {
      model: 'chat',
      messages: [{ role: 'user', content: 'Say hello' }],
      temperature: 0,
    };
    const callWith = (overrides: Partial<ProviderCall> = {}): ProviderCall => ({
      deployment: testDeployment(spec, options.model),
      apiKey: options.apiKey,
      baseUrl: `${upstream.baseUrl}/v1`,
      headers: { 'X-Team': 'search' },
      signal: new AbortController().signal,
      requestId: 'req-42',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      ...overrides,
    });

    beforeAll(async () => {
      upstream = await startFakeUpstream();
      spec = options.spec(`${upstream.baseUrl}/v1`);
      adapter = options.createAdapter(spec);
    });
    afterAll(async () => {
      await adapter.close();
      await upstream.close();
    });

    it('returns the completion and sends the deployment model, credentials and trace headers', async () => {
      upstream.handle((_, res) => replyJson(res, 200, fixture('chat-completion.json')));
      const completion = await adapter.chat(
        { ...request, stream_options: { include_usage: true } },
        callWith(),
      );
      expect(completion).toEqual(JSON.parse(fixture('chat-completion.json')));
      const sent = upstream.requests.at(-1)!;
      expect(sent.method).toBe('POST');
      expect(sent.url).toBe('/v1/chat/completions');
      expect(sent.json).toMatchObject({ model: options.model, messages: request.messages, temperature: 0 });
      expect(sent.json).not.toHaveProperty('stream_options');
      expect(sent.headers.authorization).toBe(options.apiKey ? `Bearer ${options.apiKey}` : undefined);
      expect(sent.headers['x-request-id']).toBe('req-42');
      expect(sent.headers.traceparent).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      expect(sent.headers['x-team']).toBe('search');
    });

    it('yields the first chunk before the upstream has sent the rest (never buffers)', {
      timeout: 5000,
    }, async () => {
      const sse = fixture('chat-stream.sse');
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let sentAll = false;
      upstream.handle(async (_, res) => {
        await replySse(res, sse, { before: (index) => (index === 1 ? held : undefined) });
        sentAll = true;
      });
      const stream = await adapter.chatStream(request, callWith());
      const iterator = stream[Symbol.asyncIterator]();
      const first = await iterator.next();
      expect(sentAll).toBe(false);
      release();
      const rest: ChatChunk[] = [];
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest.push(next.value);
      const expected = sseFrames(sse)
        .filter((frame) => !frame.includes('[DONE]'))
        .map((frame) => JSON.parse(frame.slice('data: '.length)) as ChatChunk);
      expect([first.value, ...rest]).toEqual(expected);
      expect(stream.usage).toEqual(expected.at(-1)?.usage);
      expect(upstream.requests.at(-1)!.json).toMatchObject({
        model: options.model,
        stream: true,
        stream_options: { include_usage: true },
      });
      expect(upstream.requests.at(-1)!.headers.accept).toBe('text/event-stream');
    });

    it('returns tool calls of a non-streamed completion', async () => {
      upstream.handle((_, res) => replyJson(res, 200, fixture('chat-completion-tool-calls.json')));
      const completion = await adapter.chat(request, callWith());
      expect(completion.choices[0]?.finish_reason).toBe('tool_calls');
      const call = completion.choices[0]?.message.tool_calls?.[0];
      expect(call?.function.name).toBe('get_current_weather');
      expect(JSON.parse(call?.function.arguments ?? '')).toEqual({ location: 'Boston, MA' });
    });

    it('streams tool calls: id and name first, then arguments in pieces', async () => {
      upstream.handle((_, res) => replySse(res, fixture('chat-stream-tool-calls.sse')));
      const stream = await adapter.chatStream(request, callWith());
      const chunks = await collectChunks(stream);
      const calls = chunks.flatMap((chunk) =>
        chunk.choices.flatMap((choice) => choice.delta.tool_calls ?? []),
      );
      expect(calls[0]).toMatchObject({
        index: 0,
        type: 'function',
        function: { name: 'get_current_weather' },
      });
      expect(calls[0]?.id).toBeTruthy();
      expect(JSON.parse(calls.map((call) => call.function?.arguments ?? '').join(''))).toEqual({
        location: 'Paris, France',
      });
      expect(chunks.some((chunk) => chunk.choices[0]?.finish_reason === 'tool_calls')).toBe(true);
      expect(stream.usage?.total_tokens).toBeGreaterThan(0);
    });

    it('maps 429 with Retry-After to a retryable 429 carrying retryAfterMs', async () => {
      upstream.handle((_, res) =>
        replyJson(res, 429, fixture('error-rate-limit.json'), { 'retry-after': '20' }),
      );
      const err = await rejectionOf(adapter.chat(request, callWith()));
      expect(err).toMatchObject({
        kind: 'status',
        status: 429,
        code: 'rate_limit_exceeded',
        upstreamStatus: 429,
        retryAfterMs: 20_000,
      });
      expect(err.message).toContain(JSON.parse(fixture('error-rate-limit.json')).error.message);
      expect(isRetryableUpstreamError(err)).toBe(true);
    });

    it('maps a 400 naming a `param` to a non-retryable 400 that keeps the param', async () => {
      upstream.handle((_, res) => replyJson(res, 400, fixture('error-invalid-request.json')));
      const err = await rejectionOf(adapter.chat(request, callWith()));
      const upstreamError = JSON.parse(fixture('error-invalid-request.json')).error;
      expect(err).toMatchObject({ status: 400, type: 'invalid_request_error', param: upstreamError.param });
      expect(err.message).toContain(upstreamError.message);
      expect(isRetryableUpstreamError(err)).toBe(false);
    });

    it('maps 500 to a retryable 502 and 503 to a retryable 503', async () => {
      upstream.handle((_, res) => replyJson(res, 500, fixture('error-server.json')));
      const serverError = await rejectionOf(adapter.chat(request, callWith()));
      expect(serverError).toMatchObject({
        kind: 'status',
        status: 502,
        code: 'upstream_server_error',
        upstreamStatus: 500,
      });
      expect(isRetryableUpstreamError(serverError)).toBe(true);
      upstream.handle((_, res) => replyJson(res, 503, fixture('error-server.json'), { 'retry-after': '2' }));
      const overloaded = await rejectionOf(adapter.chatStream(request, callWith()));
      expect(overloaded).toMatchObject({
        kind: 'status',
        status: 503,
        code: 'upstream_overloaded',
        retryAfterMs: 2000,
      });
      expect(isRetryableUpstreamError(overloaded)).toBe(true);
    });

    it('maps 401 to 502 upstream_auth_failed without echoing any key', async () => {
      upstream.handle((_, res) => replyJson(res, 401, fixture('error-auth.json')));
      const err = await rejectionOf(adapter.chat(request, callWith()));
      expect(err).toMatchObject({
        kind: 'status',
        status: 502,
        code: 'upstream_auth_failed',
        upstreamStatus: 401,
      });
      expect(err.message).not.toMatch(/sk-[\w*-]{4,}/);
    });

    it('fails with a retryable kind `body` when a 200 body is an error object', async () => {
      upstream.handle((_, res) =>
        replyJson(
          res,
          200,
          '{"error":{"message":"the model is overloaded","type":"server_error","param":null,"code":null}}',
        ),
      );
      const err = await rejectionOf(adapter.chat(request, callWith()));
      expect(err).toMatchObject({ kind: 'body', status: 502 });
      expect(err.message).toContain('the model is overloaded');
      expect(isRetryableUpstreamError(err)).toBe(true);
    });

    it('rejects the stream with kind `body` when its first event is an error object', async () => {
      upstream.handle((_, res) =>
        replySse(res, 'data: {"error":{"message":"queue is full","type":"server_error","code":503}}\n\n'),
      );
      const err = await rejectionOf(adapter.chatStream(request, callWith()));
      expect(err).toMatchObject({ kind: 'body' });
      expect(err.message).toContain('queue is full');
    });

    it('fails with kind `protocol` when the stream ends without `[DONE]` or a finish reason', async () => {
      const events = sseFrames(fixture('chat-stream.sse')).slice(0, 2).join('');
      upstream.handle((_, res) => replySse(res, events));
      const stream = await adapter.chatStream(request, callWith());
      expect(await rejectionOf(collectChunks(stream))).toMatchObject({ kind: 'protocol' });
    });

    it('fails with kind `connect` (502) when the connection is refused', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise((resolve) => closed.close(resolve));
      const err = await rejectionOf(
        adapter.chat(request, callWith({ baseUrl: `http://127.0.0.1:${port}/v1` })),
      );
      expect(err).toMatchObject({ kind: 'connect', status: 502 });
      expect(isRetryableUpstreamError(err)).toBe(true);
    });

    it('closes the upstream socket within 100 ms of an abort mid-stream', { timeout: 5000 }, async () => {
      upstream.handle((_, res) =>
        replySse(res, fixture('chat-stream.sse'), {
          before: (index) => (index === 2 ? new Promise(() => {}) : undefined),
        }),
      );
      const controller = new AbortController();
      const stream = await adapter.chatStream(request, callWith({ signal: controller.signal }));
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next();
      await iterator.next();
      const failure = rejectionOf(iterator.next());
      const abortedAt = performance.now();
      controller.abort();
      const closedAt = await upstream.requests.at(-1)!.socketClosed;
      expect(closedAt - abortedAt).toBeLessThan(100);
      expect(await failure).toMatchObject({ kind: 'aborted' });
    });

    it('aborts a call still waiting for the upstream with kind `aborted`', { timeout: 5000 }, async () => {
      upstream.handle(() => {});
      const controller = new AbortController();
      const pending = adapter.chat(request, callWith({ signal: controller.signal }));
      await waitUntil(
        () => upstream.requests.length > 0 && upstream.requests.at(-1)!.url === '/v1/chat/completions',
      );
      const recorded = upstream.requests.at(-1)!;
      controller.abort();
      expect(await rejectionOf(pending)).toMatchObject({ kind: 'aborted' });
      await recorded.socketClosed;
    });

    it('reuses keep-alive connections for calls in sequence', async () => {
      upstream.handle((_, res) => replyJson(res, 200, fixture('chat-completion.json')));
      for (let i = 0; i < 4; i++) await adapter.chat(request, callWith());
      const ports = upstream.requests.slice(-4).map((recorded) => recorded.remotePort);
      expect(new Set(ports).size).toBeLessThan(ports.length);
    });

    it('returns embeddings and sends the deployment model', async () => {
      upstream.handle((_, res) => replyJson(res, 200, fixture('embeddings.json')));
      const response = await adapter.embed({ model: 'embed', input: ['The food was delicious'] }, callWith());
      expect(response).toEqual(JSON.parse(fixture('embeddings.json')));
      expect(upstream.requests.at(-1)).toMatchObject({
        url: '/v1/embeddings',
        json: { model: options.model, input: ['The food was delicious'] },
      });
    });
  });
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}
