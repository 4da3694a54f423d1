import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
let client: Anthropic;
beforeAll(async () => {
  gw = await startTestGateway();
  // The Anthropic SDK appends `/v1/messages` to its base URL itself.
  client = new Anthropic({ baseURL: gw.url, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
});

const weatherTool = {
  name: 'get_weather',
  description: 'weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('POST /v1/messages through the Anthropic SDK', () => {
  it('answers a message through the same policy path, with the gateway headers', async () => {
    const { data, response } = await client.messages
      .create({ model: 'fast', max_tokens: 200, messages: [{ role: 'user', content: 'Hello there' }] })
      .withResponse();
    expect(data.type).toBe('message');
    expect(data.content[0]?.type === 'text' && data.content[0].text).toMatch(/\w/);
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-model')).toMatch(/^fast\//);
    expect(response.headers.get('x-switchyard-policy')).toBe(gw.policies.active?.policy.id);
  });

  it('streams text the SDK assembles into a final message', async () => {
    const stream = client.messages.stream({
      model: 'auto',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Tell me about rivers' }],
    });
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    expect(text.length).toBeGreaterThan(10);
    expect(final.content[0]?.type === 'text' && final.content[0].text).toBe(text);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('round-trips a tool use: tool_use, then an answer from the tool_result', async () => {
    const first = await client.messages.create({
      model: 'fast',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Use get_weather for Paris' }],
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use?.type === 'tool_use' && use.name).toBe('get_weather');
    const second = await client.messages.create({
      model: 'fast',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Use get_weather for Paris' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use!.id, content: '{"temperature":21}' }],
        },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]?.type === 'text' && second.content[0].text).toMatch(/21/);
  });

  it('streams a tool use', async () => {
    const final = await client.messages
      .stream({
        model: 'fast',
        max_tokens: 200,
        tools: [weatherTool],
        messages: [{ role: 'user', content: 'Use get_weather for Rome' }],
      })
      .finalMessage();
    expect(final.content.find((b) => b.type === 'tool_use')).toMatchObject({ name: 'get_weather' });
  });

  it('answers errors in Anthropic’s shape, which the SDK maps to its error classes', async () => {
    const missing = await client.messages
      .create({ model: 'fast', messages: [{ role: 'user', content: 'x' }] } as never)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Anthropic.BadRequestError);
    expect((missing as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
    const unknown = await client.messages
      .create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    const noKey = await new Anthropic({
      baseURL: gw.url,
      apiKey: 'sk-sy-NotAKeyTheGatewayHasEverIssuedAtAll',
      maxRetries: 0,
    }).messages
      .create({ model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(noKey).toBeInstanceOf(Anthropic.AuthenticationError);
    const overloaded = await client.messages
      .create({ model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'x #sim:error=503' }] })
      .catch((e: unknown) => e);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(503);
  });

  it('makes the SDK throw when the upstream fails mid-stream', async () => {
    const stream = client.messages.stream({
      model: 'fast',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Tell me a story #sim:midstream-error=4' }],
    });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
  });
});
