import type { ProviderSpec } from '@switchyard/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../chat-types.ts';
import { type FakeUpstream, readFixture, replyJson, startFakeUpstream } from '../fake-upstream.ts';
import { describeOpenAiWireContract, rejectionOf, testDeployment } from '../openai-wire.contract.ts';
import type { ProviderCall } from '../provider.ts';
import { OpenAiAdapter } from './adapter.ts';

const openAiSpec = (overrides: Partial<ProviderSpec> = {}): ProviderSpec => ({
  type: 'openai',
  apiKey: '${env:OPENAI_API_KEY}',
  maxConnections: 4,
  ...overrides,
});

describeOpenAiWireContract({
  name: 'openai',
  moduleUrl: import.meta.url,
  spec: () => openAiSpec(),
  createAdapter: (spec) => new OpenAiAdapter(spec),
  apiKey: 'sk-test-0123456789abcdef',
  model: 'gpt-4o-mini',
});

describe('openai adapter', () => {
  let upstream: FakeUpstream;
  let adapter: OpenAiAdapter;
  const spec = openAiSpec({ organization: 'org-switchyard' });
  const request: ChatRequest = { model: 'fast', messages: [{ role: 'user', content: 'Hi' }] };
  const callWith = (overrides: Partial<ProviderCall> = {}): ProviderCall => ({
    deployment: testDeployment(spec, 'gpt-4o-mini'),
    apiKey: 'sk-test-0123456789abcdef',
    baseUrl: `${upstream.baseUrl}/v1`,
    signal: new AbortController().signal,
    requestId: 'req-1',
    ...overrides,
  });

  beforeAll(async () => {
    upstream = await startFakeUpstream((_, res) =>
      replyJson(res, 200, readFixture(import.meta.url, 'chat-completion.json')),
    );
    adapter = new OpenAiAdapter(spec);
  });
  afterAll(async () => {
    await adapter.close();
    await upstream.close();
  });

  it('refuses a provider declared without an api key', () => {
    expect(() => new OpenAiAdapter(openAiSpec({ apiKey: undefined }))).toThrow(
      /`openai` provider needs `apiKey`/,
    );
  });

  it('fails without calling the upstream when the key resolved to nothing', async () => {
    const before = upstream.requests.length;
    const err = await rejectionOf(adapter.chat(request, callWith({ apiKey: undefined })));
    expect(err).toMatchObject({ status: 502, code: 'upstream_auth_failed' });
    expect(err.message).toContain('has no api key');
    expect(upstream.requests.length).toBe(before);
  });

  it('sends the organization header', async () => {
    await adapter.chat(request, callWith());
    expect(upstream.requests.at(-1)?.headers['openai-organization']).toBe('org-switchyard');
  });

  it('passes max_tokens and max_completion_tokens through as given', async () => {
    await adapter.chat({ ...request, max_tokens: 50 }, callWith());
    expect(upstream.requests.at(-1)?.json).toMatchObject({ max_tokens: 50 });
    expect(upstream.requests.at(-1)?.json).not.toHaveProperty('max_completion_tokens');
    await adapter.chat({ ...request, max_completion_tokens: 70 }, callWith());
    expect(upstream.requests.at(-1)?.json).toMatchObject({ max_completion_tokens: 70 });
    expect(upstream.requests.at(-1)?.json).not.toHaveProperty('max_tokens');
  });

  it('never shows the gateway key an upstream echoes in an error', async () => {
    upstream.handle((_, res) =>
      replyJson(
        res,
        400,
        '{"error":{"message":"bad key sk-test-0123456789abcdef for model","type":"invalid_request_error","param":null,"code":null}}',
      ),
    );
    const err = await rejectionOf(adapter.chat(request, callWith()));
    expect(err.message).not.toContain('0123456789abcdef');
  });
});
