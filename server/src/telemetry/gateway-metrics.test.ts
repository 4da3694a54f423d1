import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GatewayMetrics, metricsRoute, type RequestSummary } from './gateway-metrics.ts';

const served: RequestSummary = {
  operation: 'chat',
  tenant: 'search',
  route: 'auto',
  logicalModel: 'fast',
  deploymentId: 'fast/openai-mini',
  providerType: 'openai',
  status: 200,
  outcome: 'ok',
  durationMs: 1_200,
  ttftMs: 200,
  usage: { inputTokens: 30, outputTokens: 101 },
  costUsd: 0.25,
  cache: { ruleId: 'faq', status: 'miss' },
  retries: ['fast/openai-mini'],
  escalatedTo: ['strong'],
};
const genAi =
  'gen_ai_operation_name="chat",gen_ai_request_model="fast",gen_ai_response_model="fast/openai-mini",gen_ai_provider_name="openai"';

describe('gateway metrics: one summary per request', () => {
  it('records duration, tokens, time to first token, time per token, cost, cache, retries and escalations', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordRequest(served);
    const text = await metrics.registry.expose();
    expect(text).toContain(
      `gen_ai_client_operation_duration_seconds_bucket{${genAi},route="auto",status="200",le="1.28"} 1`,
    );
    expect(text).toContain(
      `gen_ai_client_operation_duration_seconds_bucket{${genAi},route="auto",status="200",le="0.64"} 0`,
    );
    expect(text).toContain(
      `gen_ai_client_operation_duration_seconds_sum{${genAi},route="auto",status="200"} 1.2`,
    );
    expect(text).toContain(`gen_ai_client_token_usage_sum{${genAi},gen_ai_token_type="input"} 30`);
    expect(text).toContain(`gen_ai_client_token_usage_sum{${genAi},gen_ai_token_type="output"} 101`);
    expect(text).toContain(`gen_ai_server_time_to_first_token_seconds_sum{${genAi}} 0.2`);
    // (1.2 s − 0.2 s) over the 100 tokens after the first.
    expect(text).toContain(`gen_ai_server_time_per_output_token_seconds_sum{${genAi}} 0.01`);
    expect(text).toContain(
      'switchyard_requests_total{route="auto",model="fast",deployment="fast/openai-mini",status="200"} 1',
    );
    expect(text).toContain('switchyard_cost_usd_total{tenant="search",model="fast"} 0.25');
    expect(text).toContain('switchyard_cache_requests_total{rule="faq",result="miss"} 1');
    expect(text).toContain('switchyard_retries_total{deployment="fast/openai-mini"} 1');
    expect(text).toContain('switchyard_escalations_total{route="auto",to="strong"} 1');
  });

  it('counts a cache hit and what it saved, without tokens, cost or time per token', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordRequest({
      ...served,
      costUsd: 0,
      cache: { ruleId: 'faq', status: 'hit', savedCostUsd: 0.25 },
      retries: [],
      escalatedTo: [],
    });
    const text = await metrics.registry.expose();
    expect(text).toContain('switchyard_cache_requests_total{rule="faq",result="hit"} 1');
    expect(text).toContain('switchyard_cache_saved_usd_total{tenant="search",model="fast"} 0.25');
    expect(text).not.toContain('gen_ai_client_token_usage');
    expect(text).not.toContain('switchyard_cost_usd_total');
    expect(text).not.toContain('gen_ai_server_time_per_output_token_seconds');
  });

  it('records a request refused before a plan with empty labels for what was never known', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordRequest({ operation: 'embeddings', status: 401, outcome: 'error', durationMs: 3 });
    expect(await metrics.registry.expose()).toContain(
      'switchyard_requests_total{route="",model="",deployment="",status="401"} 1',
    );
  });
});

describe('gateway metrics: state read at scrape time', () => {
  it('reads queue depth, breaker states and the ledger from their sources at each scrape', async () => {
    let queued = 4;
    const ledger = { queued: 12, dropped: 3 };
    const metrics = new GatewayMetrics({
      queues: () => new Map([['fast/a', { active: 8, queued }]]),
      breakers: async () => ({ 'fast/a': 'open', 'fast/b': 'half_open', 'fast/c': 'closed' }),
      ledger,
    });
    let text = await metrics.registry.expose();
    expect(text).toContain('switchyard_queue_depth{deployment="fast/a"} 4');
    expect(text).toContain('switchyard_deployment_in_flight{deployment="fast/a"} 8');
    expect(text).toContain('switchyard_breaker_state{deployment="fast/a"} 2');
    expect(text).toContain('switchyard_breaker_state{deployment="fast/b"} 1');
    expect(text).toContain('switchyard_breaker_state{deployment="fast/c"} 0');
    expect(text).toContain('switchyard_ledger_queue_depth 12');
    expect(text).toContain('switchyard_ledger_dropped_rows_total 3');
    queued = 0;
    ledger.dropped = 5;
    text = await metrics.registry.expose();
    expect(text).toContain('switchyard_queue_depth{deployment="fast/a"} 0');
    expect(text).toContain('switchyard_ledger_dropped_rows_total 5');
  });

  it('records rejections, queue waits, fail-opens and the policies serving, replacing old versions', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordRateLimitRejection('search', 'rps');
    metrics.recordQuotaRejection('search', 'usd-day');
    metrics.recordQueueWait('fast/a', 250);
    metrics.recordStoreFailOpen('limit');
    metrics.recordBreakerState('fast/a', 'open');
    metrics.setPolicyInfo([{ name: 'default', version: 'v1' }]);
    metrics.setPolicyInfo([
      { name: 'default', version: 'v2' },
      { name: 'default', version: 'v3' },
    ]);
    const text = await metrics.registry.expose();
    expect(text).toContain('switchyard_rate_limit_rejections_total{tenant="search",limit="rps"} 1');
    expect(text).toContain('switchyard_quota_rejections_total{tenant="search",quota="usd-day"} 1');
    expect(text).toContain('switchyard_queue_wait_seconds_sum{deployment="fast/a"} 0.25');
    expect(text).toContain('switchyard_store_fail_open_total{store="limit"} 1');
    expect(text).toContain('switchyard_breaker_state{deployment="fast/a"} 2');
    expect(text).not.toContain('version="v1"');
    expect(text).toContain('switchyard_policy_info{name="default",version="v2"} 1');
    expect(text).toContain('switchyard_policy_info{name="default",version="v3"} 1');
  });
});

describe('GET /metrics', () => {
  it('answers the exposition with the Prometheus 0.0.4 content type', async () => {
    const metrics = new GatewayMetrics();
    metrics.recordRequest(served);
    const app = Fastify();
    await app.register(metricsRoute, { registry: metrics.registry });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.body).toContain('# TYPE switchyard_requests_total counter');
    await app.close();
  });

  it('runs the auth hook it is given before answering', async () => {
    const app = Fastify();
    await app.register(metricsRoute, {
      registry: new GatewayMetrics().registry,
      auth: async (_request, reply) => {
        await reply.code(401).send({ error: 'no' });
      },
    });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    await app.close();
  });
});
