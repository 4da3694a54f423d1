import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { openGatewayCache } from './cache/open-gateway-cache.ts';
import { type Clock, systemClock } from './clock.ts';
import type { GatewayConfig } from './config.ts';
import { type ErrorShape, httpError, sendHttpError, toHttpError } from './errors.ts';
import { adminAuthHook } from './http/admin-auth.ts';
import { adminKeysRoute } from './http/admin-keys.route.ts';
import { adminPolicyRoute } from './http/admin-policy.route.ts';
import { adminRolloutRoute } from './http/admin-rollout.route.ts';
import { adminTenantsRoute } from './http/admin-tenants.route.ts';
import { adminUsageRoute } from './http/admin-usage.route.ts';
import { adminVersionsRoute } from './http/admin-versions.route.ts';
import { chatRoute } from './http/chat.route.ts';
import { embeddingsRoute } from './http/embeddings.route.ts';
import type { GatewayContext } from './http/gateway-context.ts';
import { healthRoute } from './http/health.route.ts';
import { messagesRoute } from './http/messages.route.ts';
import { modelsRoute } from './http/models.route.ts';
import type { PolicyHolder } from './policy-runtime/policy-holder.ts';
import type { PolicyLifecycle } from './policy-runtime/policy-lifecycle.ts';
import { Authenticator, type AuthenticatorOptions } from './request/authenticate.ts';
import { loadTokenCounter } from './request/count-tokens.ts';
import { finishRequest } from './request/finish-request.ts';
import { IdempotencyKeys } from './request/idempotency-keys.ts';
import { type RequestTrail, startTrail, trailHeaders } from './request/request-trail.ts';
import { newRequestId, requestIdFrom } from './request/trace-context.ts';
import { BreakerMirror } from './resilience/breaker-mirror.ts';
import { DeploymentLimiter } from './resilience/deployment-limiter.ts';
import { assembleGatewayState, type GatewayState } from './state/open-gateway-state.ts';
import type { ApiKeyRecord, KeyStore } from './stores/key-store.ts';
import { adminDecisionsRoute } from './telemetry/admin-decisions.route.ts';
import { adminHealthRoute } from './telemetry/admin-health.route.ts';
import { DecisionLog } from './telemetry/decision-log.ts';
import { DecisionRing } from './telemetry/decision-ring.ts';
import { DeploymentHealth } from './telemetry/deployment-health.ts';
import { GatewayMetrics, metricsRoute } from './telemetry/gateway-metrics.ts';
import { otlpExporterFromEnv } from './telemetry/otlp-exporter.ts';
import type { RequestTrace } from './telemetry/request-trace.ts';
import { type SpanExporter, Tracer } from './telemetry/tracing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the gateway learned about the request so far (headers, log line). */
    trail: RequestTrail;
    /** The authenticated API key (proxied routes only). */
    apiKey: ApiKeyRecord | undefined;
    /** The request's spans (proxied routes, when traces are exported). */
    trace: RequestTrace | undefined;
    /** The conversation and answer, kept only when the tenant opted in to content in logs. */
    loggedContent: { messages?: unknown; completion?: unknown } | undefined;
  }
  interface FastifyContextConfig {
    /** The error body format of the route (`anthropic` on `/v1/messages`). */
    errorShape?: ErrorShape;
  }
}

/** What the gateway is built from; everything with state or I/O is passed in. */
export interface GatewayDeps {
  config: GatewayConfig;
  /** Holds the active policy and its provider adapters (already loaded, or loading). */
  policies: PolicyHolder;
  /** Published versions and rollouts (see `PolicyLifecycle`); without it the folder policy always serves. */
  lifecycle?: PolicyLifecycle | undefined;
  /**
   * Keys, ledger, limits, quotas and breakers (see `openGatewayState`); owned by the caller, who
   * closes it after the app. Default: everything in memory around `keys`, closed with the app.
   */
  state?: GatewayState | undefined;
  /** The key store, when no `state` is given. */
  keys?: KeyStore | undefined;
  logger: Logger;
  /** Default: the wall clock. */
  clock?: Clock;
  /** Key cache settings (default: 5 s TTL). */
  auth?: AuthenticatorOptions;
  /** Uniform [0, 1) for retry jitter (default `Math.random`). */
  random?: () => number;
  /**
   * Where spans go: default the OTLP exporter the standard `OTEL_*` variables of `process.env`
   * configure (none when unset); `null` exports nothing. Flushed when the app closes.
   */
  spanExporter?: SpanExporter | null | undefined;
  /** Decisions kept for `GET /admin/v1/decisions` (default 1000). */
  decisionRingSize?: number | undefined;
}

/** The gateway app plus the switch that starts draining it. */
export interface GatewayApp {
  app: FastifyInstance;
  ctx: GatewayContext;
  /** Marks the gateway as shutting down: `/readyz` fails and new requests get 503 `shutting_down`. */
  beginShutdown(): void;
  /** Resolves once every finished request's settle and ledger row are done (call after `app.close()`). */
  accountingDone(): Promise<void>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the gateway: Fastify with the OpenAI-shaped error handling, the request trail and log line,
 * and every route plugin. Does not listen; `startServer` does.
 */
export async function buildApp(deps: GatewayDeps): Promise<GatewayApp> {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  let shuttingDown = false;
  const ownsState = deps.state === undefined;
  const accounting = new Set<Promise<void>>();
  const accountingDone = async () => {
    while (accounting.size > 0) await Promise.all(accounting);
  };
  if (!deps.state && !deps.keys) throw new Error('buildApp needs `state` or `keys`');
  const state = deps.state ?? assembleGatewayState({ keys: deps.keys!, logger });
  const limiter = new DeploymentLimiter();
  const deploymentIds = () => deploymentIdsOf(deps.policies);
  const metrics = new GatewayMetrics({
    queues: () => limiter.stats(),
    breakers: () => state.protection.breakers.state(deploymentIds(), clock.now()),
    ledger: {
      get queued() {
        return state.ledgerWriter.queued;
      },
      get dropped() {
        return state.stats.ledgerDropped;
      },
    },
    policies: () => policyInfoOf(deps.policies),
  });
  metrics.setPolicyInfo(policyInfoOf(deps.policies));
  const warnCacheFailure = throttled(10_000, (err: unknown, operation: string) =>
    logger.warn({ err, operation }, 'response cache failed; serving without it'),
  );
  const caches = openGatewayCache({
    redis: state.redis,
    redisPrefix: state.redisPrefix,
    maxBytes: config.cacheMaxBytes,
    onError: (err, operation) => {
      metrics.recordStoreFailOpen('cache');
      warnCacheFailure(err, operation);
    },
  });
  const warnSpanDrop = throttled(10_000, (count: number, reason: string, err: unknown) =>
    logger.warn({ count, reason, err }, 'trace spans dropped'),
  );
  const tracer = new Tracer({
    exporter:
      deps.spanExporter === undefined
        ? otlpExporterFromEnv(process.env, { onDrop: warnSpanDrop })
        : (deps.spanExporter ?? undefined),
  });
  const decisionRing = new DecisionRing(deps.decisionRingSize);
  const health = new DeploymentHealth({
    breakers: (ids, nowMs) => state.protection.breakers.state(ids, nowMs),
    deployments: deploymentIds,
  });
  const ctx: GatewayContext = {
    config,
    policies: deps.policies,
    lifecycle: deps.lifecycle,
    keys: state.keys,
    authenticator: new Authenticator(state.keys, clock, deps.auth),
    logger,
    clock,
    state,
    protection: state.protection,
    ledgerWriter: state.ledgerWriter,
    stats: state.stats,
    limiter,
    retryBudgets: new Map(),
    breakers: state.protection.breakers,
    breakerMirror: new BreakerMirror(state.protection.breakers, {
      onRefreshError: (err) => logger.debug({ err }, 'breaker state refresh failed'),
    }),
    random: deps.random ?? Math.random,
    idempotencyKeys: new IdempotencyKeys(),
    tokenCounter: loadTokenCounter,
    isShuttingDown: () => shuttingDown,
    cache: caches.cache,
    metrics,
    tracer,
    decisions: new DecisionLog({ logger, ring: decisionRing, message: 'request' }),
    health,
  };

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One line per request is written when the response closes (below), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // Our own hook answers 503 in the OpenAI shape while draining.
    return503OnClosing: false,
    keepAliveTimeout: 72_000,
    requestTimeout: 0,
    forceCloseConnections: 'idle',
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    frameworkErrors: (_err, request, reply) => {
      reply.header('x-request-id', request.id);
      return sendHttpError(
        reply,
        httpError('invalid_request', { param: 'url', detail: 'the path is not valid percent-encoding' }),
      );
    },
  });

  app.decorateRequest('trail', null as unknown as RequestTrail);
  app.decorateRequest('apiKey', undefined);
  app.decorateRequest('trace', undefined);
  app.decorateRequest('loggedContent', undefined);

  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const m of [route.method].flat()) methods.add(m);
    methodsByPath.set(route.url, methods);
  });

  app.addHook('onRequest', async (request, reply) => {
    const trail = startTrail(request.id, clock.now());
    // A client's own x-request-id may repeat: its ledger row needs a key of its own.
    if (request.id === request.headers['x-request-id']) trail.rowId = newRequestId(trail.startedAtMs);
    request.trail = trail;
    reply.raw.once('close', () => {
      const endedAtMs = clock.now();
      const status = reply.raw.statusCode;
      if (!reply.raw.writableFinished) trail.outcome = 'cancelled';
      // One log line, ledger row (queued: the database is never on the request path), metrics and trace end.
      const finish = () => finishRequest(ctx, request, status, endedAtMs);
      // A stream's settle may still be running: the log line and the row carry its final usage.
      if (trail.pending) {
        const done: Promise<void> = trail.pending
          .then(finish, finish)
          .catch((err: unknown) => logger.error({ err, reqId: trail.requestId }, 'accounting failed'))
          .finally(() => accounting.delete(done));
        accounting.add(done);
      } else finish();
      // While draining, a connection whose last response just ended must not linger in keep-alive.
      if (shuttingDown) setImmediate(() => app.server.closeIdleConnections());
    });
    if (shuttingDown && !request.url.startsWith('/healthz') && !request.url.startsWith('/readyz')) {
      reply.header('connection', 'close');
      throw httpError('shutting_down', {}, { retryAfterMs: 1000 });
    }
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // An empty body is no body: routes that need one say so in their own words.
    if ((body as Buffer).length === 0) {
      done(null, undefined);
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(httpError('invalid_json', { detail: 'the body is not valid UTF-8' }), undefined);
      return;
    }
    parseJson(request, text, (err, value) => {
      // Whatever the parser rejects (syntax, prototype poisoning, nesting too deep) is the body's fault.
      if (err) done(httpError('invalid_json', { detail: lowerFirst(err.message) }), undefined);
      else done(null, value);
    });
  });

  app.setErrorHandler((err, request, reply) => {
    const error = toHttpError(err, {
      bodyLimit: config.bodyLimitBytes,
      requestId: request.id,
      contentType: request.headers['content-type'],
    });
    if (error.status >= 500 && error.code === 'internal_error')
      logger.error({ err, reqId: request.id }, 'unhandled error');
    const trail = request.trail;
    if (trail) {
      trail.outcome ??= 'error';
      trail.errorCode = error.code;
      trail.errorMessage = error.message;
      reply.headers(trailHeaders(trail));
    } else {
      reply.header('x-request-id', request.id);
    }
    return sendHttpError(reply, error, request.routeOptions.config?.errorShape ?? 'openai');
  });

  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').replace(/\/+$/, '') || '/';
    const allowed = methodsByPath.get(path);
    reply.header('x-request-id', request.id);
    if (allowed && !allowed.has(request.method)) {
      const list = [...allowed].filter((m) => m !== 'HEAD').sort();
      reply.header('allow', list.join(', '));
      return sendHttpError(
        reply,
        httpError('method_not_allowed', { method: request.method, path, allowed: list.join(', ') }),
      );
    }
    return sendHttpError(reply, httpError('not_found', { method: request.method, path: path.slice(0, 200) }));
  });

  await app.register(healthRoute, { ctx });
  await app.register(chatRoute, { ctx });
  await app.register(messagesRoute, { ctx });
  await app.register(embeddingsRoute, { ctx });
  await app.register(modelsRoute, { ctx });
  await app.register(adminKeysRoute, { ctx });
  await app.register(adminTenantsRoute, { ctx });
  await app.register(adminPolicyRoute, { ctx });
  await app.register(adminUsageRoute, { ctx });
  const adminAuth = adminAuthHook(ctx);
  await app.register(metricsRoute, { registry: metrics.registry });
  await app.register(adminHealthRoute, { health, clock, auth: adminAuth });
  await app.register(adminDecisionsRoute, { ring: decisionRing, auth: adminAuth });
  const lifecycle = deps.lifecycle;
  if (lifecycle) {
    await app.register(adminVersionsRoute, { versions: lifecycle.store, clock, authorize: adminAuth });
    await app.register(adminRolloutRoute, {
      versions: lifecycle.store,
      clock,
      authorize: adminAuth,
      controller: lifecycle.controller,
      ledger: state.ledger,
      policyName: lifecycle.router.name,
    });
  }
  app.addHook('onClose', async () => {
    // The last requests' lines and spans are written once their accounting is done.
    await accountingDone();
    await tracer.shutdown();
    await caches.close();
    if (ownsState) await state.close();
  });

  return {
    app,
    ctx,
    beginShutdown: () => {
      shuttingDown = true;
    },
    accountingDone,
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Every deployment id of the active policy (the ones health and breaker metrics show). */
function deploymentIdsOf(policies: PolicyHolder): string[] {
  const ids: string[] = [];
  for (const model of policies.active?.policy.models.values() ?? [])
    for (const deployment of model.deployments) ids.push(deployment.id);
  return ids;
}

/** The policy serving traffic, for `switchyard_policy_info`. */
function policyInfoOf(policies: PolicyHolder): { name: string; version: string }[] {
  const policy = policies.active?.policy;
  return policy ? [{ name: policy.name, version: policy.version }] : [];
}

/** `fn`, called at most once per `intervalMs` (a store outage must not flood the log). */
function throttled<A extends unknown[]>(intervalMs: number, fn: (...args: A) => void): (...args: A) => void {
  let lastMs = Number.NEGATIVE_INFINITY;
  return (...args) => {
    const now = Date.now();
    if (now - lastMs < intervalMs) return;
    lastMs = now;
    fn(...args);
  };
}
