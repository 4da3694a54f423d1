import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, replyJson, startFakeUpstream } from '../providers/fake-upstream.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

// Chat answers come from a fake upstream (to count calls); embeddings from the simulator, whose
// hashed bag-of-words vectors put near-duplicate questions above 0.95 and other questions far below.
const policy = `
apiVersion: switchyard/v1
name: semantic
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
  sim: { type: simulator, profile: { ttftMs: 0, tpotMs: 0 } }
models:
  support: { deployments: [{ provider: up, model: support-model, price: { inPerMTok: 1000, outPerMTok: 2000 } }] }
  embed: { capabilities: [embedding], deployments: [{ provider: sim, model: sim-embed }] }
tenants:
  default: {}
  acme: {}
  globex: {}
cache:
  - id: faq
    match: { model: support }
    mode: semantic
    similarity: 0.95
    embeddingModel: embed
    ttl: 1h
    scope: tenant
`;

let upstream: FakeUpstream;
let gw: TestGateway;
let answered = 0;

beforeAll(async () => {
  upstream = await startFakeUpstream((req, res) => {
    answered++;
    const question = (req.json as { messages: { content: string }[] }).messages.at(-1)?.content;
    replyJson(res, 200, {
      id: `c${answered}`,
      object: 'chat.completion',
      created: 1,
      model: 'support-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: `answer #${answered} to ${question}` },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
    });
  });
  gw = await startTestGateway({ policyText: policy, env: { FAKE_URL: `${upstream.baseUrl}/v1` } });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});

async function clientOf(tenant: string): Promise<OpenAI> {
  const { key } = await gw.issueKey({ tenant });
  return new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 });
}

async function ask(client: OpenAI, question: string) {
  const { data, response } = await client.chat.completions
    .create({ model: 'support', messages: [{ role: 'user', content: question }] })
    .withResponse();
  return {
    content: data.choices[0]?.message.content,
    cache: response.headers.get('x-switchyard-cache'),
    requestId: response.headers.get('x-request-id')!,
  };
}

describe('semantic caching through the gateway', () => {
  it('answers a near-duplicate question from cache, a different question upstream, and never across tenants', async () => {
    const acme = await clientOf('acme');
    const acmeToo = await clientOf('acme');
    const globex = await clientOf('globex');
    const original = await ask(acme, 'What is the refund policy for annual plans?');
    expect(original.cache).toBe('miss');

    const nearDuplicate = await ask(acmeToo, 'What is the refund policy for the annual plans?');
    expect(nearDuplicate).toMatchObject({ cache: 'hit', content: original.content });
    const line = await gw.requestLog(nearDuplicate.requestId);
    expect(line.cache).toMatchObject({ rule: 'faq', status: 'hit' });
    expect((line.cache as { similarity: number }).similarity).toBeGreaterThan(0.95);
    expect((line.cache as { similarity: number }).similarity).toBeLessThan(1);

    expect((await ask(acme, 'What is the refund policy for monthly plans?')).cache).toBe('miss');
    expect((await ask(acme, 'How do I reset my password?')).cache).toBe('miss');
    expect((await ask(globex, 'What is the refund policy for annual plans?')).cache).toBe('miss');
    expect(answered).toBe(4);
  });
});
