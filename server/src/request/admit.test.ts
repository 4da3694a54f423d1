import type { ServerResponse } from 'node:http';
import { quotaWindowBounds } from '@switchyard/engine';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeUpstream,
  type RecordedRequest,
  replyJson,
  startFakeUpstream,
} from '../providers/fake-upstream.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

// Prices in USD per million tokens, large so that each token is a visible fraction of a cent.
const policy = `
apiVersion: switchyard/v1
name: admit
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
models:
  cheap:
    maxOutputTokens: 100
    deployments: [{ id: c, provider: up, model: cheap-model, price: { inPerMTok: 1000, outPerMTok: 2000 } }]
  strong:
    maxOutputTokens: 100
    deployments: [{ id: s, provider: up, model: strong-model, price: { inPerMTok: 10000, outPerMTok: 20000 } }]
tenants:
  default: {}
  limited:
    rateLimits: [{ per: key, rpm: 2 }, { per: key, tpm: 60, burst: 100000 }]
  tight:
    quotas: [{ per: tenant, window: day, usd: 0.25 }]
  hops:
    quotas: [{ per: tenant, window: day, usd: 10 }]
  hopcap:
    quotas: [{ per: tenant, window: day, usd: 1 }]
  budget:
    quotas: [{ per: tenant, window: day, usd: 1 }]
routes:
  - id: auto
    match: { model: auto }
    target: cheap
    escalate: [{ to: strong, on: [length] }]
resilience:
  retry: { attempts: 1, backoffMs: 1, budgetRatio: 1 }
`;

let upstream: FakeUpstream;
let gw: TestGateway;
/** Milliseconds the fake upstream waits before answering (the concurrency test holds requests open). */
let delayMs = 0;

function answer(req: RecordedRequest, res: ServerResponse): void {
  const body = req.json as { model: string; messages: { content: string }[] };
  const cutOff = body.model === 'cheap-model' && body.messages.at(-1)?.content.includes('hard');
  replyJson(res, 200, {
    id: 'c1',
    object: 'chat.completion',
    created: 1,
    model: body.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: cutOff ? 'half an ans' : 'a full answer' },
        finish_reason: cutOff ? 'length' : 'stop',
      },
    ],
    usage: { prompt_tokens: 5, completion_tokens: cutOff ? 100 : 5, total_tokens: cutOff ? 105 : 10 },
  });
}

beforeAll(async () => {
  upstream = await startFakeUpstream((req, res) => {
    if (delayMs === 0) return answer(req, res);
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        answer(req, res);
        resolve();
      }, delayMs),
    );
  });
  gw = await startTestGateway({ policyText: policy, env: { FAKE_URL: `${upstream.baseUrl}/v1` } });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
});
beforeEach(() => {
  delayMs = 0;
});

async function clientFor(tenant: string, extra: Parameters<TestGateway['issueKey']>[0] = { tenant }) {
  const { key, id } = await gw.issueKey({ ...extra, tenant });
  return { client: new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 }), id, key };
}

async function apiError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(err)}`);
  return err;
}

/** Settled and reserved amounts of a tenant's daily USD quota (`tenant-day-usd`). */
async function dailyUsd(tenant: string): Promise<{ used: number; reserved: number }> {
  const [start] = quotaWindowBounds('day', Date.now());
  const key = `q|${tenant}|tenant-day-usd|${tenant}|${start}`;
  return (await gw.state.protection.local.quotas.usage([key], Date.now()))[key] ?? { used: 0, reserved: 0 };
}

const ask = (content: string) => [{ role: 'user' as const, content }];

describe('rate limits in the request path', () => {
  it('answers with OpenAI-style x-ratelimit headers, then 429 with Retry-After once the bucket is empty', async () => {
    const { client } = await clientFor('limited');
    const first = await client.chat.completions
      .create({ model: 'cheap', messages: ask('hi') })
      .withResponse();
    expect(first.response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.response.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(29|30)(\.\d+)?s$/);
    expect(first.response.headers.get('x-ratelimit-limit-tokens')).toBe('60');
    // The tpm bucket took the upper bound (5 prompt + 100 output), then got back what was not used.
    expect(Number(first.response.headers.get('x-ratelimit-remaining-tokens'))).toBe(100_000 - 105);
    const second = await client.chat.completions
      .create({ model: 'cheap', messages: ask('hi') })
      .withResponse();
    expect(second.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // The first request's correction (105 taken, 10 used) is in before the second takes its 105.
    expect(Number(second.response.headers.get('x-ratelimit-remaining-tokens'))).toBe(100_000 - 10 - 105);

    const refused = await apiError(client.chat.completions.create({ model: 'cheap', messages: ask('hi') }));
    expect([refused.status, refused.code, refused.type]).toEqual([
      429,
      'rate_limit_exceeded',
      'rate_limit_error',
    ]);
    const retryAfter = Number(refused.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(28);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers?.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers?.get('x-ratelimit-limit-requests')).toBe('2');
    const row = await gw.ledgerRow(refused.headers!.get('x-request-id')!);
    expect(row).toMatchObject({ outcome: 'denied', status: 429, tenant: 'limited', costUsd: 0 });
    expect(upstream.requests.filter((r) => r.headers['x-request-id'] === row.requestId)).toEqual([]);
    expect(
      upstream.requests.filter(
        (r) => r.headers['x-request-id'] === first.response.headers.get('x-request-id'),
      ),
    ).toHaveLength(1);
  });
});

describe('quotas in the request path', () => {
  it('settles each reservation to the actual cost and refuses with 429 until the window resets', async () => {
    const { client } = await clientFor('tight');
    // Each request reserves (5 in + 100 out) at cheap prices = $0.205 and costs (5 + 5) = $0.015.
    const first = await client.chat.completions
      .create({ model: 'cheap', messages: ask('hi') })
      .withResponse();
    const row = await gw.ledgerRow(first.response.headers.get('x-request-id')!);
    expect(row).toMatchObject({ outcome: 'ok', inputTokens: 5, outputTokens: 5, estimated: false });
    expect(row.costUsd).toBeCloseTo(0.015, 9);
    expect(await dailyUsd('tight')).toEqual({ used: expect.closeTo(0.015, 9), reserved: 0 });

    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    const refused = await apiError(client.chat.completions.create({ model: 'cheap', messages: ask('hi') }));
    expect([refused.status, refused.code, refused.type]).toEqual([
      429,
      'quota_exceeded',
      'insufficient_quota',
    ]);
    expect(refused.message).toContain('quota `tenant-day-usd` of tenant `tight` (0.25 usd per day)');
    const untilReset = Math.ceil((quotaWindowBounds('day', Date.now())[1] - Date.now()) / 1000);
    expect(Math.abs(Number(refused.headers?.get('retry-after')) - untilReset)).toBeLessThanOrEqual(2);
    expect(await dailyUsd('tight')).toEqual({ used: expect.closeTo(0.06, 9), reserved: 0 });
    expect(await gw.ledgerRow(refused.headers!.get('x-request-id')!)).toMatchObject({
      outcome: 'denied',
      status: 429,
    });
  });

  it('reserves an escalation hop’s own charges and settles both levels of an escalated answer', async () => {
    const { client } = await clientFor('hops');
    const { data, response } = await client.chat.completions
      .create({ model: 'auto', messages: ask('a hard one') })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe('a full answer');
    expect(response.headers.get('x-switchyard-model')).toBe('strong/s');
    const row = await gw.ledgerRow(response.headers.get('x-request-id')!);
    // cheap: 5 in + 100 out = $0.205; strong: 5 in + 5 out = $0.15; both were produced, both are paid.
    expect(row).toMatchObject({ escalations: 1, deployment: 'strong/s', inputTokens: 10, outputTokens: 105 });
    expect(row.costUsd).toBeCloseTo(0.355, 9);
    expect(await dailyUsd('hops')).toEqual({ used: expect.closeTo(0.355, 9), reserved: 0 });
  });

  it('does not take a hop whose reservation the quota refuses, and serves the answer it has', async () => {
    const { client } = await clientFor('hopcap');
    // The strong hop would reserve (5 + 100 tokens) at strong prices = $2.05, over the $1 cap.
    const { data, response } = await client.chat.completions
      .create({ model: 'auto', messages: ask('a hard one') })
      .withResponse();
    expect(data.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'half an ans' } });
    expect(response.headers.get('x-switchyard-model')).toBe('cheap/c');
    const sent = upstream.requests.filter(
      (r) => r.headers['x-request-id'] === response.headers.get('x-request-id'),
    );
    expect(sent.map((r) => (r.json as { model: string }).model)).toEqual(['cheap-model']);
    const log = await gw.requestLog(response.headers.get('x-request-id')!);
    expect(log.hopRefused).toBe('strong: tenant-day-usd');
    expect(await dailyUsd('hopcap')).toEqual({ used: expect.closeTo(0.205, 9), reserved: 0 });
  });

  it('never lets concurrent reservations pass the cap, and releases every one of them at the end', async () => {
    const { client } = await clientFor('budget');
    delayMs = 40;
    let maxCommitted = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const u = await dailyUsd('budget');
        maxCommitted = Math.max(maxCommitted, u.used + u.reserved);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 60 }, () =>
        client.chat.completions.create({ model: 'cheap', messages: ask('hi') }).then(
          () => 'ok' as const,
          (e: unknown) => (e as InstanceType<typeof OpenAI.APIError>).code,
        ),
      ),
    );
    sampling = false;
    await sampler;
    const ok = results.filter((r) => r === 'ok').length;
    expect(ok).toBeGreaterThan(0);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'quota_exceeded')).toBe(true);
    // Reservations alone never pass the $1 cap; settled spend is what the answers cost.
    expect(maxCommitted).toBeLessThanOrEqual(1 + 1e-9);
    const rows = (await gw.ledgerRows()).filter((r) => r.tenant === 'budget');
    expect(rows).toHaveLength(60);
    const settled = await dailyUsd('budget');
    expect(settled.reserved).toBe(0);
    expect(settled.used).toBeCloseTo(ok * 0.015, 9);
    expect(settled.used).toBeCloseTo(
      rows.reduce((sum, r) => sum + r.costUsd, 0),
      9,
    );
  });
});

describe('per-key caps', () => {
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: { authorization: 'Bearer test-admin-token-0123456789', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('refuses a key past its own cap with 429, and applies a cap changed through the admin API at once', async () => {
    const created = await admin('POST', '/admin/v1/keys', {
      tenant: 'default',
      caps: [{ window: 'day', requests: 2 }],
    });
    expect(created.status).toBe(201);
    expect(created.body.caps).toEqual([{ window: 'day', requests: 2 }]);
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: created.body.key as string, maxRetries: 0 });
    await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    const refused = await apiError(client.chat.completions.create({ model: 'cheap', messages: ask('hi') }));
    expect([refused.status, refused.code]).toEqual([429, 'quota_exceeded']);
    expect(refused.message).toContain("the api key's cap of 2 requests per day");

    const raised = await admin('PATCH', `/admin/v1/keys/${created.body.id}`, {
      caps: [{ window: 'day', requests: 3 }],
    });
    expect(raised.body.caps).toEqual([{ window: 'day', requests: 3 }]);
    await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    expect(
      (await apiError(client.chat.completions.create({ model: 'cheap', messages: ask('hi') }))).code,
    ).toBe('quota_exceeded');
    const bad = await admin('PATCH', `/admin/v1/keys/${created.body.id}`, {
      caps: [{ window: 'week', usd: 1 }],
    });
    expect([bad.status, (bad.body.error as { param: string }).param]).toEqual([400, 'caps.0.window']);
    expect((await admin('PATCH', '/admin/v1/keys/key_nope', { name: 'x' })).status).toBe(404);
  });

  it('caps a key’s spend in USD at the serving deployment’s prices', async () => {
    // $0.30 a day: the first request reserves $0.205 and costs $0.015, the second reserves again…
    const { client } = await clientFor('default', { tenant: 'default', caps: [{ window: 'day', usd: 0.3 }] });
    await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    await client.chat.completions.create({ model: 'cheap', messages: ask('hi') });
    // …and the third cannot: $0.03 settled + $0.205 reserved fits, but the strong model's $2.05 does not.
    const refused = await apiError(client.chat.completions.create({ model: 'strong', messages: ask('hi') }));
    expect(refused.code).toBe('quota_exceeded');
    expect(refused.message).toContain("the api key's cap of 0.3 usd per day");
  });
});
