import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.close();
});

async function modelIds(apiKey: string): Promise<string[]> {
  const client = new OpenAI({ baseURL: gw.baseURL, apiKey, maxRetries: 0 });
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  return ids;
}

describe('GET /v1/models', () => {
  it('lists the route aliases and logical models the tenant may use, in OpenAI’s list shape', async () => {
    expect(await modelIds(gw.apiKey)).toEqual(['auto', 'fast', 'strong', 'embed']);
    const trial = await gw.issueKey({ tenant: 'trial' });
    expect(await modelIds(trial.key)).toEqual(['auto', 'fast', 'embed']);
  });

  it('narrows the list to the key’s own models', async () => {
    const key = await gw.issueKey({ tenant: 'default', allowedModels: ['strong'] });
    expect(await modelIds(key.key)).toEqual(['strong']);
  });

  it('retrieves one model, and 404s one the key may not use', async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
    expect(await client.models.retrieve('fast')).toMatchObject({
      id: 'fast',
      object: 'model',
      owned_by: 'switchyard',
    });
    const err = await client.models.retrieve('gpt-17').catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(404);
  });
});
