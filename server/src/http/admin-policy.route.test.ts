import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

const policy = (upstreamModel: string, description: string) => `
apiVersion: switchyard/v1
name: reloadable
description: ${description}
providers:
  sim: { type: simulator, profile: { ttftMs: 5, tpotMs: 1 } }
models:
  chat: { deployments: [{ id: served, provider: sim, model: ${upstreamModel} }] }
tenants:
  default: {}
`;

let gw: TestGateway;
let client: OpenAI;
const admin = { authorization: 'Bearer test-admin-token-0123456789' };

beforeAll(async () => {
  gw = await startTestGateway({ policyText: policy('sim-small', 'first') });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
});

async function activePolicy(): Promise<{ id: string; version: string }> {
  const res = await fetch(`${gw.url}/admin/v1/policy`, { headers: admin });
  return (await res.json()) as { id: string; version: string };
}

async function reload(): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}/admin/v1/policy/reload`, { method: 'POST', headers: admin });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('policy reload through the admin API', () => {
  it('swaps in a valid policy and says so', async () => {
    const before = await activePolicy();
    expect(before.id).toMatch(/^reloadable@[0-9a-f]{12}$/);
    gw.writePolicy(policy('sim-large', 'second'));
    const { status, body } = await reload();
    expect(status).toBe(200);
    expect(body).toMatchObject({ previous: before.id, changed: true });
    expect((await activePolicy()).id).toBe(body.policy);
    const { data } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.model).toBe('sim-large');
  });

  it('reports an unchanged policy as unchanged', async () => {
    const { status, body } = await reload();
    expect([status, body.changed]).toEqual([200, false]);
  });

  it('refuses an invalid policy with 422 and file:line:col errors, and keeps serving the old one', async () => {
    const before = await activePolicy();
    gw.writePolicy(
      `${policy('sim-small', 'broken')}routes:\n  - { id: r, match: { model: x }, target: missing-model }\n`,
    );
    const { status, body } = await reload();
    expect(status).toBe(422);
    expect(body.error).toMatchObject({ code: 'policy_invalid', type: 'invalid_request_error' });
    const errors = body.errors as { code: string; line: number; col: number; text: string }[];
    expect(errors[0]).toMatchObject({ code: 'SY_POLICY_UNKNOWN_MODEL' });
    expect(errors[0]!.text).toMatch(/policy\.yaml:\d+:\d+ error SY_POLICY_UNKNOWN_MODEL/);
    expect(body.policy).toBe(before.id);
    expect((await activePolicy()).id).toBe(before.id);
    const res = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(res.response.headers.get('x-switchyard-policy')).toBe(before.id);
  });

  it('lets a request in flight during a swap finish on the policy it started with', async () => {
    gw.writePolicy(policy('sim-small', 'third'));
    await reload();
    const started = await activePolicy();
    const inFlight = client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hi #sim:slow=400' }] })
      .withResponse();
    await new Promise((r) => setTimeout(r, 100));
    gw.writePolicy(policy('sim-large', 'fourth'));
    const swapped = await reload();
    expect(swapped.body.changed).toBe(true);
    const { data, response } = await inFlight;
    expect(response.headers.get('x-switchyard-policy')).toBe(started.id);
    expect(data.model).toBe('sim-small');
    const after = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(after.response.headers.get('x-switchyard-policy')).toBe(swapped.body.policy);
    expect(after.data.model).toBe('sim-large');
  });
});
