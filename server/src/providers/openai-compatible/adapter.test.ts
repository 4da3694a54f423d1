import type { ProviderSpec } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.ts';
import { type FakeUpstream, readFixture, replyJson, replySse, startFakeUpstream } from '../fake-upstream.ts';
import {
  collectChunks,
  describeOpenAiWireContract,
  rejectionOf,
  testDeployment,
} from '../openai-wire.contract.ts';
import type { ProviderCall } from '../provider.ts';
import { OpenAiCompatibleAdapter } from './adapter.ts';

const fixture = (name: string) => readFixture(import.meta.url, name);

describeOpenAiWireContract({
  name: 'openai-compatible (vllm)',
  moduleUrl: import.meta.url,
  spec: (baseUrl) => ({
    type: 'openai-compatible',
    baseUrl,
    apiKey: '${env:VLLM_API_KEY}',
    maxConnections: 4,
  }),
  createAdapter: (spec) => new OpenAiCompatibleAdapter(spec),
  apiKey: 'vllm-token-abcdef',
  model: 'Qwen/Qwen2.5-7B-Instruct',
});

describe('openai-compatible adapter', () => {
  let upstream: FakeUpstream;
  let adapter: OpenAiCompatibleAdapter;
  let spec: ProviderSpec;
  const request: ChatRequest = { model: 'local', messages: [{ role: 'user', content: 'Hi' }] };
  const callWith = (overrides: Partial<ProviderCall> = {}): ProviderCall => ({
    deployment: testDeployment(spec, 'llama3.2', 'ollama'),
    signal: new AbortController().signal,
    requestId: 'req-1',
    ...overrides,
  });

  beforeAll(async () => {
    upstream = await startFakeUpstream((_, res) => replyJson(res, 200, fixture('chat-completion.json')));
    // The declared base URL is used as is when the call carries none (no key: a keyless Ollama).
    spec = { type: 'openai-compatible', baseUrl: `${upstream.baseUrl}/v1/`, maxConnections: 2 };
    adapter = new OpenAiCompatibleAdapter(spec);
  });
  afterAll(async () => {
    await adapter.close();
    await upstream.close();
  });

  it('refuses a provider declared without a base url', () => {
    expect(() => new OpenAiCompatibleAdapter({ type: 'openai-compatible', maxConnections: 1 })).toThrow(
      /needs `baseUrl`/,
    );
  });

  it('calls the declared base url without an authorization header when there is no key', async () => {
    await adapter.chat(request, callWith());
    const sent = upstream.requests.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toMatchObject({ model: 'llama3.2' });
  });

  it('sends max_completion_tokens as max_tokens, the field self-hosted servers read', async () => {
    await adapter.chat({ ...request, max_completion_tokens: 64 }, callWith());
    expect(upstream.requests.at(-1)?.json).toMatchObject({ max_tokens: 64 });
    expect(upstream.requests.at(-1)?.json).not.toHaveProperty('max_completion_tokens');
    await adapter.chat({ ...request, max_tokens: 32, max_completion_tokens: 64 }, callWith());
    expect(upstream.requests.at(-1)?.json).toMatchObject({ max_tokens: 32 });
  });

  it("reads Ollama's stream (role on every delta) and its usage chunk", async () => {
    upstream.handle((_, res) => replySse(res, fixture('ollama-chat-stream.sse')));
    const stream = await adapter.chatStream(request, callWith());
    const chunks = await collectChunks(stream);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Hi there');
    expect(stream.usage).toEqual({ prompt_tokens: 26, completion_tokens: 3, total_tokens: 29 });
  });

  it("fails with kind `body` on llama.cpp's error event after content began", async () => {
    upstream.handle((_, res) => replySse(res, fixture('llama-cpp-stream-error.sse')));
    const stream = await adapter.chatStream(request, callWith());
    const seen: string[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    );
    expect(seen.join('')).toBe('Once');
    expect(err).toMatchObject({ kind: 'body' });
    expect(err.message).toContain('KV cache is full');
  });

  it("reads vLLM's older top-level error object, in an error status and in a 200 body", async () => {
    upstream.handle((_, res) => replyJson(res, 404, fixture('vllm-error-object.json')));
    const notFound = await rejectionOf(adapter.chat(request, callWith()));
    expect(notFound).toMatchObject({ kind: 'status', status: 404 });
    expect(notFound.message).toContain('does not exist');
    upstream.handle((_, res) => replyJson(res, 200, fixture('vllm-error-object.json')));
    expect(await rejectionOf(adapter.chat(request, callWith()))).toMatchObject({ kind: 'body' });
  });

  it('uses the text of a non-json error body as the message', async () => {
    upstream.handle((_, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n<body>Bad Gateway</body>\n</html>');
    });
    const err = await rejectionOf(adapter.chat(request, callWith()));
    expect(err).toMatchObject({ status: 502, upstreamStatus: 502 });
    expect(err.message).toContain('<html> <body>Bad Gateway</body> </html>');
  });
});
