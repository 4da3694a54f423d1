import { compilePolicy, type Plan } from '@switchyard/engine';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { httpErrorFromDenial, sendHttpError } from '../errors.ts';
import type { ApiKeyRecord } from '../stores/key-store.ts';
import { collectChatFacts } from './collect-facts.ts';
import { decideRequest } from './decide.ts';

const policy = (() => {
  const result = compilePolicy([
    {
      path: 'policy.yaml',
      text: `
apiVersion: switchyard/v1
name: quota
providers: { sim: { type: simulator } }
models: { fast: { deployments: [{ provider: sim, model: sim-small }] } }
tenants:
  default:
    quotas: [{ id: daily, per: key, window: day, requests: 10 }]
`,
    },
  ]);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
})();

const key: ApiKeyRecord = {
  id: 'key_1',
  name: '',
  tenant: 'default',
  prefix: 'sk-sy-x',
  disabled: false,
  createdAt: 0,
};
const clock = { now: () => Date.UTC(2026, 0, 1, 12) };
const facts = collectChatFacts({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] }, {}, key);

describe('decideRequest', () => {
  it('plans with the server’s clock and an empty snapshot', () => {
    const plan = decideRequest(policy, facts, clock) as Plan;
    expect(plan.kind).toBe('plan');
    expect(plan.charges[0]?.windowStartMs).toBe(Date.UTC(2026, 0, 1));
  });

  it('turns a quota denial into a 429 with Retry-After in the OpenAI shape', async () => {
    const plan = decideRequest(policy, facts, clock) as Plan;
    const charge = plan.charges[0]!;
    const denial = decideRequest(policy, facts, clock, { quotaUsed: { [charge.key]: charge.limit } });
    expect(denial.kind).toBe('deny');
    if (denial.kind !== 'deny') return;
    const app = Fastify();
    app.get('/', (_req, reply) => sendHttpError(reply, httpErrorFromDenial(denial)));
    const res = await app.inject('/');
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBe(12 * 3600);
    expect(res.json()).toEqual({
      error: { message: denial.message, type: 'insufficient_quota', param: null, code: 'quota_exceeded' },
    });
    await app.close();
  });
});

describe('collectChatFacts', () => {
  it('reads tags, user and metadata, and estimates input tokens cheaply', () => {
    const f = collectChatFacts(
      {
        model: 'auto',
        messages: [
          { role: 'system', content: 'x'.repeat(400) },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'y'.repeat(400) },
              { type: 'image_url', image_url: { url: 'data:,' } },
            ],
          },
        ],
        metadata: { tags: 'code, urgent', team: 'search' },
        max_completion_tokens: 50,
        temperature: 0,
        response_format: { type: 'json_object' },
        tools: [{ type: 'function', function: { name: 'f' } }],
        stream: true,
      },
      { 'x-switchyard-tags': 'code,beta', 'x-switchyard-user': 'u-7' },
      key,
    );
    expect(f).toMatchObject({
      endpoint: 'chat',
      model: 'auto',
      tenant: 'default',
      keyId: 'key_1',
      user: 'u-7',
      tags: ['code', 'beta', 'urgent'],
      stream: true,
      hasTools: true,
      hasImages: true,
      maxTokens: 50,
      temperature: 0,
      messageCount: 2,
      responseFormat: 'json_object',
      metadata: { tags: 'code, urgent', team: 'search' },
    });
    expect(f.inputTokens).toBeGreaterThan(200);
    expect(f.inputTokens).toBeLessThan(1200);
  });
});
