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

async function usage(query: string, token = 'test-admin-token-0123456789') {
  const res = await fetch(`${gw.url}/admin/v1/usage${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /admin/v1/usage', () => {
  it('aggregates the ledger by the dimensions asked for, denials included', async () => {
    const client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
    for (let i = 0; i < 3; i++)
      await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    const trial = await gw.issueKey({ tenant: 'trial' });
    await new OpenAI({ baseURL: gw.baseURL, apiKey: trial.key, maxRetries: 0 }).chat.completions
      .create({ model: 'strong', messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => undefined);

    const { status, body } = await usage('?groupBy=tenant,model&bucket=1h&from=1h');
    expect(status).toBe(200);
    const data = body.data as {
      bucketStart: string;
      group: Record<string, string | null>;
      requests: number;
      denied: number;
      inputTokens: number;
      costUsd: number;
    }[];
    const fast = data.filter((d) => d.group.tenant === 'default' && d.group.model === 'fast');
    expect(fast.reduce((n, d) => n + d.requests, 0)).toBe(3);
    expect(
      fast.every((d) => d.inputTokens > 0 && d.costUsd > 0 && d.bucketStart.endsWith(':00:00.000Z')),
    ).toBe(true);
    const denied = data.filter((d) => d.group.tenant === 'trial');
    expect(denied.reduce((n, d) => n + d.denied, 0)).toBe(1);
    expect(body.groupBy).toEqual(['tenant', 'model']);
    expect(body.bucketMs).toBe(3_600_000);

    const filtered = await usage('?groupBy=key&tenant=trial&from=1h');
    expect((filtered.body.data as { group: { key: string } }[]).map((d) => d.group.key)).toEqual([trial.id]);
  });

  it('answers a query it cannot run with an OpenAI-shaped 400 naming the parameter', async () => {
    const cases: [string, string, RegExp][] = [
      ['?groupBy=tenant,colour', 'groupBy', /expected dimensions among tenant, key, .*got `colour`/],
      ['?from=yesterday', 'from', /expected an ISO 8601 date or date-time/],
      ['?from=2030-01-02&to=2030-01-01', 'to', /expected `to` after `from`/],
      ['?bucket=soon', 'bucket', /expected a duration such as `1h`/],
      ['?bucket=1s&from=30d', 'bucket', /more than 10000 buckets/],
      ['?colour=red', 'colour', /expected a filter among/],
    ];
    for (const [query, param, message] of cases) {
      const { status, body } = await usage(query);
      const error = body.error as { code: string; param: string; message: string; type: string };
      expect([status, error.code, error.type, error.param], query).toEqual([
        400,
        'invalid_request',
        'invalid_request_error',
        param,
      ]);
      expect(error.message, query).toMatch(message);
    }
  });

  it('is part of the admin API: 401 without the admin token', async () => {
    const { status, body } = await usage('', 'not-the-admin-token-at-all');
    expect([status, (body.error as { code: string }).code]).toEqual([401, 'invalid_admin_token']);
  });
});
