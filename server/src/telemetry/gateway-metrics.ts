import type { BreakerState } from '@switchyard/engine';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CacheStatus } from '../cache/cacheability.ts';
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from './metrics-registry.ts';

/** Buckets of `gen_ai.client.operation.duration` recommended by the OpenTelemetry GenAI conventions. */
const durationBuckets = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
/** Buckets of `gen_ai.client.token.usage` recommended by the conventions. */
const tokenBuckets = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** Buckets of `gen_ai.server.time_to_first_token` recommended by the conventions. */
const ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** Buckets of `gen_ai.server.time_per_output_token` recommended by the conventions. */
const tpotBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** Buckets of the time spent waiting in a deployment's queue. */
const queueWaitBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `switchyard_breaker_state` values. */
const breakerValues: Readonly<Record<BreakerState, number>> = { closed: 0, half_open: 1, open: 2 };

/** Labels of the GenAI semantic-convention metrics. */
type GenAiLabel =
  | 'gen_ai_operation_name'
  | 'gen_ai_request_model'
  | 'gen_ai_response_model'
  | 'gen_ai_provider_name';

/** Everything the metrics need about one request, gathered by the request path and given once at its end. */
export interface RequestSummary {
  /** `gen_ai.operation.name`: `chat` (chat completions and messages) or `embeddings`. */
  operation: 'chat' | 'embeddings';
  /** The tenant, once authenticated. */
  tenant?: string | undefined;
  /** `plan.routeId` (the policy route that matched), once decided. */
  route?: string | undefined;
  /** The logical model: `plan.target`, or the requested model when refused before a plan. */
  logicalModel?: string | undefined;
  /** `Deployment.id` that answered (the cached one's on a hit). */
  deploymentId?: string | undefined;
  /** Provider type of that deployment (`openai`, `anthropic`, `gemini`, `openai-compatible`, `simulator`). */
  providerType?: string | undefined;
  /** HTTP status sent to the client (200 for a stream that failed midway: the outcome says so). */
  status: number;
  /** How the request ended. */
  outcome: 'ok' | 'error' | 'cancelled';
  /** From the request's arrival to its last byte. */
  durationMs: number;
  /** Streams: from arrival to the first content chunk written to the client. */
  ttftMs?: number | undefined;
  /** Tokens the upstream reported. */
  usage?: { inputTokens: number; outputTokens: number } | undefined;
  /** What the request cost upstream (0 or absent on a cache hit). */
  costUsd?: number | undefined;
  /** The cache rule that applied and how it answered; absent when no rule applied. */
  cache?: { ruleId: string; status: CacheStatus; savedCostUsd?: number | undefined } | undefined;
  /** One entry per retry: the `Deployment.id` tried again. */
  retries?: readonly string[] | undefined;
  /** The logical models escalated to, in order. */
  escalatedTo?: readonly string[] | undefined;
}

/** Sources read at each scrape. */
export interface GatewayMetricSources {
  /** Per deployment: calls running and waiting (`DeploymentLimiter.stats()`). */
  queues?: (() => ReadonlyMap<string, { active: number; queued: number }>) | undefined;
  /** Breaker state of the deployments to show (e.g. `BreakerStore.state(ids, now)`). */
  breakers?: (() => Promise<Readonly<Record<string, BreakerState>>>) | undefined;
  /** The usage ledger's writer (`LedgerWriter`): rows queued and dropped so far. */
  ledger?: { readonly queued: number; readonly dropped: number } | undefined;
  /**
   * The policies serving traffic, read at each scrape, so `switchyard_policy_info` follows every
   * reload, promotion and rollback without being told (`setPolicyInfo` still works between scrapes).
   */
  policies?: (() => readonly { name: string; version: string }[]) | undefined;
}

/**
 * The gateway's metric set, named after Prometheus conventions and, where they exist, the
 * OpenTelemetry GenAI semantic conventions (dots become underscores). Labels take only values the
 * policy bounds (tenants, routes, models, deployments); the registry's guard bounds the rest.
 */
export class GatewayMetrics {
  /** The registry to expose (`metricsRoute`). */
  readonly registry: MetricsRegistry;

  readonly #duration: Histogram<GenAiLabel | 'route' | 'status'>;
  readonly #tokens: Histogram<GenAiLabel | 'gen_ai_token_type'>;
  readonly #ttft: Histogram<GenAiLabel>;
  readonly #tpot: Histogram<GenAiLabel>;
  readonly #requests: Counter<'route' | 'model' | 'deployment' | 'status'>;
  readonly #cost: Counter<'tenant' | 'model'>;
  readonly #cache: Counter<'rule' | 'result'>;
  readonly #cacheSaved: Counter<'tenant' | 'model'>;
  readonly #queueDepth: Gauge<'deployment'>;
  readonly #inFlight: Gauge<'deployment'>;
  readonly #queueWait: Histogram<'deployment'>;
  readonly #rateLimited: Counter<'tenant' | 'limit'>;
  readonly #quotaRefused: Counter<'tenant' | 'quota'>;
  readonly #breaker: Gauge<'deployment'>;
  readonly #retries: Counter<'deployment'>;
  readonly #escalations: Counter<'route' | 'to'>;
  readonly #ledgerDepth: Gauge;
  readonly #ledgerDropped: Counter;
  readonly #failOpen: Counter<'store'>;
  readonly #policyInfo: Gauge<'name' | 'version'>;

  constructor(sources: GatewayMetricSources = {}, registry = new MetricsRegistry()) {
    this.registry = registry;
    const genAi: GenAiLabel[] = [
      'gen_ai_operation_name',
      'gen_ai_request_model',
      'gen_ai_response_model',
      'gen_ai_provider_name',
    ];
    this.#duration = registry.histogram({
      name: 'gen_ai_client_operation_duration_seconds',
      help: 'Duration of GenAI operations through the gateway, from request arrival to the last byte.',
      labelNames: [...genAi, 'route', 'status'],
      buckets: durationBuckets,
    });
    this.#tokens = registry.histogram({
      name: 'gen_ai_client_token_usage',
      help: 'Tokens used per operation as the upstream reported them, by type (input or output).',
      labelNames: [...genAi, 'gen_ai_token_type'],
      buckets: tokenBuckets,
    });
    this.#ttft = registry.histogram({
      name: 'gen_ai_server_time_to_first_token_seconds',
      help: 'Time from request arrival to the first streamed content chunk sent to the client.',
      labelNames: genAi,
      buckets: ttftBuckets,
    });
    this.#tpot = registry.histogram({
      name: 'gen_ai_server_time_per_output_token_seconds',
      help: 'Time per output token after the first, of streamed answers.',
      labelNames: genAi,
      buckets: tpotBuckets,
    });
    this.#requests = registry.counter({
      name: 'switchyard_requests_total',
      help: 'Requests by policy route, logical model, deployment that answered and HTTP status.',
      labelNames: ['route', 'model', 'deployment', 'status'],
    });
    this.#cost = registry.counter({
      name: 'switchyard_cost_usd_total',
      help: 'Upstream cost in US dollars, by tenant and logical model.',
      labelNames: ['tenant', 'model'],
    });
    this.#cache = registry.counter({
      name: 'switchyard_cache_requests_total',
      help: 'Requests a cache rule applied to, by rule and result (hit, miss, bypass).',
      labelNames: ['rule', 'result'],
    });
    this.#cacheSaved = registry.counter({
      name: 'switchyard_cache_saved_usd_total',
      help: 'Upstream cost in US dollars that cache hits saved, by tenant and logical model.',
      labelNames: ['tenant', 'model'],
    });
    this.#queueDepth = registry.gauge({
      name: 'switchyard_queue_depth',
      help: 'Requests waiting for a slot of a deployment.',
      labelNames: ['deployment'],
      collect: sources.queues && (() => this.#collectQueues(sources.queues!)),
    });
    this.#inFlight = registry.gauge({
      name: 'switchyard_deployment_in_flight',
      help: 'Calls running against a deployment.',
      labelNames: ['deployment'],
    });
    this.#queueWait = registry.histogram({
      name: 'switchyard_queue_wait_seconds',
      help: 'Time requests waited for a slot of a deployment.',
      labelNames: ['deployment'],
      buckets: queueWaitBuckets,
    });
    this.#rateLimited = registry.counter({
      name: 'switchyard_rate_limit_rejections_total',
      help: 'Requests refused by a rate limit, by tenant and limit id.',
      labelNames: ['tenant', 'limit'],
    });
    this.#quotaRefused = registry.counter({
      name: 'switchyard_quota_rejections_total',
      help: 'Requests refused by a quota, by tenant and quota id.',
      labelNames: ['tenant', 'quota'],
    });
    this.#breaker = registry.gauge({
      name: 'switchyard_breaker_state',
      help: 'Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.',
      labelNames: ['deployment'],
      collect: sources.breakers && (() => this.#collectBreakers(sources.breakers!)),
    });
    this.#retries = registry.counter({
      name: 'switchyard_retries_total',
      help: 'Upstream calls tried again on the same deployment.',
      labelNames: ['deployment'],
    });
    this.#escalations = registry.counter({
      name: 'switchyard_escalations_total',
      help: 'Escalations to a stronger logical model, by policy route and target.',
      labelNames: ['route', 'to'],
    });
    this.#ledgerDepth = registry.gauge({
      name: 'switchyard_ledger_queue_depth',
      help: 'Usage ledger rows waiting to be written.',
      collect: sources.ledger && (() => this.#ledgerDepth.set(undefined, sources.ledger!.queued)),
    });
    this.#ledgerDropped = registry.counter({
      name: 'switchyard_ledger_dropped_rows_total',
      help: 'Usage ledger rows that could not be written.',
      collect: sources.ledger && (() => this.#ledgerDropped.setTotal(undefined, sources.ledger!.dropped)),
    });
    this.#failOpen = registry.counter({
      name: 'switchyard_store_fail_open_total',
      help: 'Requests let through (or served without cache) because a shared store failed, by store.',
      labelNames: ['store'],
    });
    this.#policyInfo = registry.gauge({
      name: 'switchyard_policy_info',
      help: 'The policies serving traffic (1 per name and version; stable and canary during a rollout).',
      labelNames: ['name', 'version'],
      collect: sources.policies && (() => this.setPolicyInfo(sources.policies!())),
    });
  }

  /** Records one request, once, when it has ended (answered, failed, refused or cancelled). */
  recordRequest(summary: RequestSummary): void {
    const genAi = {
      gen_ai_operation_name: summary.operation,
      gen_ai_request_model: summary.logicalModel,
      gen_ai_response_model: summary.deploymentId,
      gen_ai_provider_name: summary.providerType,
    };
    const status = String(summary.status);
    this.#duration.observe({ ...genAi, route: summary.route, status }, summary.durationMs / 1000);
    this.#requests.inc({
      route: summary.route,
      model: summary.logicalModel,
      deployment: summary.deploymentId,
      status,
    });
    const isHit = summary.cache?.status === 'hit';
    // A hit used no tokens upstream: its stored usage would double-count the original call.
    if (summary.usage && !isHit) {
      this.#tokens.observe({ ...genAi, gen_ai_token_type: 'input' }, summary.usage.inputTokens);
      this.#tokens.observe({ ...genAi, gen_ai_token_type: 'output' }, summary.usage.outputTokens);
    }
    if (summary.ttftMs !== undefined) {
      this.#ttft.observe(genAi, summary.ttftMs / 1000);
      const outputTokens = summary.usage?.outputTokens ?? 0;
      if (outputTokens > 1 && !isHit && summary.outcome === 'ok')
        this.#tpot.observe(genAi, (summary.durationMs - summary.ttftMs) / 1000 / (outputTokens - 1));
    }
    if (summary.costUsd && summary.costUsd > 0)
      this.#cost.inc({ tenant: summary.tenant, model: summary.logicalModel }, summary.costUsd);
    if (summary.cache) {
      this.#cache.inc({ rule: summary.cache.ruleId, result: summary.cache.status });
      if (isHit && summary.cache.savedCostUsd)
        this.#cacheSaved.inc(
          { tenant: summary.tenant, model: summary.logicalModel },
          summary.cache.savedCostUsd,
        );
    }
    for (const deployment of summary.retries ?? []) this.#retries.inc({ deployment });
    for (const to of summary.escalatedTo ?? []) this.#escalations.inc({ route: summary.route, to });
  }

  /** A request refused by a rate limit (`LimitCheck.limitId`). */
  recordRateLimitRejection(tenant: string, limitId: string): void {
    this.#rateLimited.inc({ tenant, limit: limitId });
  }

  /** A request refused by a quota (`Charge.quotaId`). */
  recordQuotaRejection(tenant: string, quotaId: string): void {
    this.#quotaRefused.inc({ tenant, quota: quotaId });
  }

  /** How long a call waited for a deployment slot. */
  recordQueueWait(deploymentId: string, waitMs: number): void {
    this.#queueWait.observe({ deployment: deploymentId }, waitMs / 1000);
  }

  /** A breaker state just learned (e.g. what `BreakerStore.record` resolved), between scrapes. */
  recordBreakerState(deploymentId: string, state: BreakerState): void {
    this.#breaker.set({ deployment: deploymentId }, breakerValues[state]);
  }

  /** A shared store failed and the request went on without it (`limit`, `quota`, `breaker`, `cache`…). */
  recordStoreFailOpen(store: string): void {
    this.#failOpen.inc({ store });
  }

  /** The policies serving traffic now; replaces the previous ones (call after every load, promote, rollback). */
  setPolicyInfo(policies: readonly { name: string; version: string }[]): void {
    this.#policyInfo.reset();
    for (const { name, version } of policies) this.#policyInfo.set({ name, version }, 1);
  }

  #collectQueues(queues: () => ReadonlyMap<string, { active: number; queued: number }>): void {
    this.#queueDepth.reset();
    this.#inFlight.reset();
    for (const [deployment, { active, queued }] of queues()) {
      this.#queueDepth.set({ deployment }, queued);
      this.#inFlight.set({ deployment }, active);
    }
  }

  async #collectBreakers(breakers: () => Promise<Readonly<Record<string, BreakerState>>>): Promise<void> {
    const states = await breakers();
    this.#breaker.reset();
    for (const [deployment, state] of Object.entries(states))
      this.#breaker.set({ deployment }, breakerValues[state]);
  }
}

/** Options of `metricsRoute`. */
export interface MetricsRouteOptions {
  registry: MetricsRegistry;
  /** An `onRequest` hook guarding the endpoint (e.g. `adminAuthHook(ctx)`); none: open, as scrapers expect on a private port. */
  auth?: ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined;
}

/** The content type of the Prometheus text exposition format 0.0.4. */
export const prometheusContentType = 'text/plain; version=0.0.4; charset=utf-8';

/** `GET /metrics`: the registry in the Prometheus text format. */
export const metricsRoute: FastifyPluginAsync<MetricsRouteOptions> = async (app, { registry, auth }) => {
  if (auth) app.addHook('onRequest', auth);
  app.get('/metrics', async (_request, reply) => {
    reply.type(prometheusContentType).header('cache-control', 'no-store');
    return registry.expose();
  });
};
