import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, replyJson, startFakeUpstream } from '../providers/fake-upstream.ts';
import { type OtlpTestReceiver, startOtlpTestReceiver } from '../telemetry/otlp-test-receiver.ts';
import { startTestGateway, type TestGateway } from '../testing/start-test-gateway.ts';

const policy = `
apiVersion: switchyard/v1
name: observed
providers:
  up: { type: openai-compatible, baseUrl: '\${env:FAKE_URL}' }
models:
  remote: { deployments: [{ id: r, provider: up, model: fake-model, price: { inPerMTok: 1000, outPerMTok: 2000 } }] }
  broken: { deployments: [{ id: b, provider: up, model: broken-model }] }
tenants:
  default:
    rateLimits: [{ id: per-key, per: key, rpm: 1000 }]
  quiet: {}
  chatty: { logContent: true }
  tight:
    rateLimits: [{ id: one-per-minute, per: key, rpm: 1, burst: 1 }]
cache:
  - { id: deterministic, when: { "==": [{ var: temperature }, 0] }, mode: exact, ttl: 1h, scope: key }
resilience:
  retry: { attempts: 1, backoffMs: 1, budgetRatio: 1 }
`;

/** What the fake upstream's credentials look like; an upstream error echoes it back. */
const upstreamSecret = 'sk-proj-9f8e7d6c5b4a39281706f5e4d3c2b1a0';

let upstream: FakeUpstream;
let receiver: OtlpTestReceiver;
let gw: TestGateway;
let client: OpenAI;
let flaky = 0;

beforeAll(async () => {
  receiver = await startOtlpTestReceiver();
  upstream = await startFakeUpstream((req, res) => {
    const body = req.json as { model: string; messages: { content: string }[] };
    if (body.model === 'broken-model') {
      replyJson(res, 401, {
        error: { message: `Incorrect API key provided: ${upstreamSecret}`, type: 'invalid_request_error' },
      });
      return;
    }
    if (body.messages.at(-1)?.content === 'flaky' && flaky++ === 0) {
      replyJson(res, 503, { error: { message: 'overloaded', type: 'server_error' } });
      return;
    }
    replyJson(res, 200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      created: 1,
      model: 'fake-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: `echo: ${body.messages.at(-1)?.content}` },
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
    });
  });
  gw = await startTestGateway({
    policyText: policy,
    env: { FAKE_URL: `${upstream.baseUrl}/v1`, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
  });
  client = new OpenAI({ baseURL: gw.baseURL, apiKey: gw.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await receiver?.close();
});

const admin = { authorization: 'Bearer test-admin-token-0123456789' };

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** Every span the receiver got so far. */
function exportedSpans(): ExportedSpan[] {
  return receiver.received.flatMap((r) =>
    (r.body as { resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[] }).resourceSpans.flatMap((rs) =>
      rs.scopeSpans.flatMap((ss) => ss.spans),
    ),
  );
}

const attribute = (span: ExportedSpan | undefined, key: string) =>
  span?.attributes.find((a) => a.key === key)?.value;

async function clientOf(tenant: string): Promise<{ client: OpenAI; key: string }> {
  const { key } = await gw.issueKey({ tenant });
  return { client: new OpenAI({ baseURL: gw.baseURL, apiKey: key, maxRetries: 0 }), key };
}

describe('traces', () => {
  it('exports request → decide, cache lookup and attempt spans that continue the client’s trace, and propagates the attempt upstream', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    await client.chat.completions.create(
      { model: 'remote', temperature: 0, messages: [{ role: 'user', content: 'trace me' }] },
      { headers: { traceparent: `00-${traceId}-${clientSpan}-01` } },
    );
    await expect
      .poll(() => exportedSpans().filter((s) => s.traceId === traceId).length, { timeout: 5000 })
      .toBeGreaterThanOrEqual(4);
    const spans = exportedSpans().filter((s) => s.traceId === traceId);
    const root = spans.find((s) => s.parentSpanId === clientSpan);
    expect(root).toMatchObject({ name: 'chat remote', kind: 2 });
    expect(attribute(root, 'switchyard.tenant')).toEqual({ stringValue: 'default' });
    expect(attribute(root, 'switchyard.cache.status')).toEqual({ stringValue: 'miss' });
    const children = spans.filter((s) => s.parentSpanId === root?.spanId);
    expect(children.map((s) => s.name).sort()).toEqual(['cache.lookup', 'chat fake-model', 'decide']);
    const attempt = children.find((s) => s.name === 'chat fake-model');
    expect(attempt?.kind).toBe(3);
    expect(upstream.requests.at(-1)?.headers.traceparent).toBe(`00-${traceId}-${attempt?.spanId}-01`);
  });

  it('gives every retry its own attempt span and traceparent', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await client.chat.completions.create(
      { model: 'remote', messages: [{ role: 'user', content: 'flaky' }] },
      { headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` } },
    );
    await expect
      .poll(() => exportedSpans().filter((s) => s.traceId === traceId && s.kind === 3).length, {
        timeout: 5000,
      })
      .toBe(2);
    const sent = upstream.requests
      .filter((r) => String(r.headers.traceparent).includes(traceId))
      .map((r) => String(r.headers.traceparent).split('-')[2]);
    const attempts = exportedSpans().filter((s) => s.traceId === traceId && s.kind === 3);
    expect(new Set(sent)).toEqual(new Set(attempts.map((s) => s.spanId)));
  });
});

describe('the decision log line', () => {
  it('never holds the api key or an `sk-` value, even when an upstream error echoes one', async () => {
    const { client: quiet, key } = await clientOf('quiet');
    const { response } = await quiet.chat.completions
      .create({ model: 'broken', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse()
      .catch((err: InstanceType<typeof OpenAI.APIError>) => ({ response: { headers: err.headers } }));
    const requestId = response.headers?.get('x-request-id') as string;
    const line = await gw.requestLog(requestId);
    expect(line).toMatchObject({ status: 502, outcome: 'error', errorCode: 'upstream_auth_failed' });
    expect(String(line.error)).toContain('Incorrect API key provided');
    const everything = JSON.stringify(gw.logs);
    expect(everything).not.toContain(key);
    expect(everything).not.toContain(gw.apiKey);
    expect(everything).not.toContain(upstreamSecret);
    expect(everything).not.toMatch(/sk-[A-Za-z0-9_-]{8,}/);
  });

  it('holds message content only for a tenant that opted in, and scrubs secrets from it', async () => {
    const { client: quiet } = await clientOf('quiet');
    const { client: chatty, key } = await clientOf('chatty');
    const said = async (c: OpenAI, content: string) => {
      const { response } = await c.chat.completions
        .create({ model: 'remote', messages: [{ role: 'user', content }] })
        .withResponse();
      return gw.requestLog(response.headers.get('x-request-id')!);
    };
    const hidden = await said(quiet, 'my private plan');
    expect(hidden.content).toBeUndefined();
    expect(JSON.stringify(hidden)).not.toContain('my private plan');
    const shown = await said(chatty, `my public plan, and my key ${key}`);
    const content = shown.content as { messages: { content: string }[]; completion: { choices: unknown[] } };
    expect(content.messages[0]?.content).toContain('my public plan');
    expect(content.completion.choices).toHaveLength(1);
    expect(JSON.stringify(shown)).not.toContain(key);
  });
});

describe('metrics and admin views', () => {
  it('exposes request, latency, token, cost, cache, rejection, breaker and policy metrics after traffic', async () => {
    const ask = () =>
      client.chat.completions.create({
        model: 'remote',
        temperature: 0,
        messages: [{ role: 'user', content: 'count me' }],
      });
    await ask();
    await ask();
    const { client: tight } = await clientOf('tight');
    const once = () =>
      tight.chat.completions.create({ model: 'remote', messages: [{ role: 'user', content: 'x' }] });
    await once();
    await expect(once()).rejects.toMatchObject({ status: 429 });
    await expect
      .poll(async () => (await fetch(`${gw.url}/metrics`).then((r) => r.text())).includes('tenant="tight"'))
      .toBe(true);
    const res = await fetch(`${gw.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(
      /switchyard_requests_total\{route="model:remote",model="remote",deployment="remote\/r",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /gen_ai_client_operation_duration_seconds_count\{[^}]*gen_ai_request_model="remote"[^}]*\} \d+/,
    );
    expect(text).toMatch(/gen_ai_client_token_usage_sum\{[^}]*gen_ai_token_type="output"\} \d+/);
    expect(text).toMatch(/switchyard_cost_usd_total\{tenant="default",model="remote"\} [\d.e-]+/);
    expect(text).toMatch(/switchyard_cache_requests_total\{rule="deterministic",result="hit"\} \d+/);
    expect(text).toMatch(/switchyard_cache_saved_usd_total\{tenant="default",model="remote"\} [\d.e-]+/);
    expect(text).toContain('switchyard_rate_limit_rejections_total{tenant="tight",limit="one-per-minute"} 1');
    expect(text).toContain('switchyard_breaker_state{deployment="remote/r"} 0');
    expect(text).toContain(
      `switchyard_policy_info{name="observed",version="${gw.policies.active?.policy.version}"} 1`,
    );
    expect(text).toMatch(/switchyard_retries_total\{deployment="remote\/r"\} \d+/);
  });

  it('shows per-deployment success ratio, latency, breaker state and last error at /admin/v1/health', async () => {
    await client.chat.completions.create({ model: 'remote', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions
      .create({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] })
      .catch(() => undefined);
    const res = await fetch(`${gw.url}/admin/v1/health`, { headers: admin });
    expect(res.status).toBe(200);
    const { deployments } = (await res.json()) as {
      deployments: {
        id: string;
        breaker: string;
        windows: Record<string, { successRatio: number; latencyMs: { p50: number } }>;
        lastError?: { status: number; message: string };
      }[];
    };
    const remote = deployments.find((d) => d.id === 'remote/r');
    const broken = deployments.find((d) => d.id === 'broken/b');
    expect(remote?.breaker).toBe('closed');
    expect(remote?.windows['1m']?.latencyMs.p50).toBeGreaterThan(0);
    expect(broken?.windows['1m']?.successRatio).toBe(0);
    expect(broken?.lastError?.status).toBe(502);
    expect(broken?.lastError?.message).not.toContain(upstreamSecret);
    expect((await fetch(`${gw.url}/admin/v1/health`)).status).toBe(401);
  });

  it('finds a request’s decision at /admin/v1/decisions?requestId=, and answers 404 for an unknown id', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'remote', messages: [{ role: 'user', content: 'find me' }] })
      .withResponse();
    const requestId = response.headers.get('x-request-id')!;
    await gw.requestLog(requestId);
    const found = await fetch(`${gw.url}/admin/v1/decisions?requestId=${requestId}`, { headers: admin });
    expect(await found.json()).toMatchObject({
      object: 'list',
      data: [
        {
          requestId,
          tenant: 'default',
          model: 'remote',
          deployment: 'remote/r',
          reasons: ['tenant:default', 'model:remote', 'deployment:remote/r'],
          attempts: [{ deploymentId: 'remote/r', outcome: 'ok' }],
        },
      ],
    });
    const missing = await fetch(`${gw.url}/admin/v1/decisions?requestId=req_unknown`, { headers: admin });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('decision_not_found');
  });
});
