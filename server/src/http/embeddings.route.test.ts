import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
let client: OpenAI;
beforeAll(async () => {
  gw = await startTestGateway();
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
});

describe('POST /v1/embeddings through the OpenAI SDK', () => {
  it('embeds one string', async () => {
    const { data, response } = await client.embeddings
      .create({ model: 'embed', input: 'the quick brown fox', encoding_format: 'float' })
      .withResponse();
    expect(data.data).toHaveLength(1);
    expect(data.data[0]?.embedding.length).toBeGreaterThan(8);
    expect(data.usage.prompt_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-switchyard-model')).toMatch(/^embed\//);
  });

  it('embeds an array of strings in order, with the SDK’s default base64 encoding', async () => {
    const result = await client.embeddings.create({
      model: 'embed',
      input: ['cats purr', 'dogs bark', 'cats meow'],
    });
    expect(result.data.map((d) => d.index)).toEqual([0, 1, 2]);
    const [a, b, c] = result.data.map((d) => d.embedding);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] ?? 0), 0);
    expect(dot(a!, c!)).toBeGreaterThan(dot(a!, b!));
  });

  it('refuses an empty input list with `param: input`', async () => {
    const err = await client.embeddings.create({ model: 'embed', input: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).param).toBe('input');
  });
});
