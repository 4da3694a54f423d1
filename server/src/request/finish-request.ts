import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { LedgerWriter } from '../stores/ledger-writer.ts';
import type { DecisionInput, DecisionLog } from '../telemetry/decision-log.ts';
import type { GatewayMetrics, RequestSummary } from '../telemetry/gateway-metrics.ts';
import { ledgerRowOf } from './account.ts';
import { type RequestOutcome, type RequestTrail, trailLogFields } from './request-trail.ts';
import { traceIdOf } from './trace-context.ts';

/** What the last step writes to. */
export interface FinishContext {
  logger: Logger;
  ledgerWriter: LedgerWriter;
  metrics: GatewayMetrics;
  decisions: DecisionLog;
}

/**
 * The last step of every request, once its response has closed and its accounting is done. A
 * proxied model call gets its usage ledger row (queued, off the request path), its metrics, its one
 * structured log line (the decision log's: who, which policy rules, every attempt, cache, tokens,
 * cost, latency; scrubbed, content only when the tenant opted in) and the end of its trace. Any
 * other request (admin, health, models) gets a short log line.
 */
export function finishRequest(
  ctx: FinishContext,
  request: FastifyRequest,
  status: number,
  endedAtMs: number,
): void {
  const trail = request.trail;
  const path = request.routeOptions.url ?? request.url.split('?')[0];
  if (trail.endpoint === undefined) {
    ctx.logger.info({ ...trailLogFields(trail, status, endedAtMs), method: request.method, path }, 'request');
    return;
  }
  const row = ledgerRowOf(trail, status, endedAtMs);
  if (row) ctx.ledgerWriter.append(row);
  const outcome: RequestOutcome = trail.outcome ?? (status < 400 ? 'ok' : 'error');
  const latencyMs = Math.max(0, endedAtMs - trail.startedAtMs);
  const ttftMs = trail.firstTokenAtMs === undefined ? undefined : trail.firstTokenAtMs - trail.startedAtMs;
  const usage = trail.usage && {
    inputTokens: trail.usage.prompt_tokens,
    outputTokens: trail.usage.completion_tokens,
  };
  const cache = trail.cacheRule
    ? {
        ruleId: trail.cacheRule,
        status: trail.cacheStatus ?? 'bypass',
        similarity: trail.cacheSimilarity,
        savedCostUsd: trail.cacheStatus === 'hit' ? trail.savedCostUsd : undefined,
      }
    : undefined;
  recordMetrics(ctx.metrics, trail, {
    operation: trail.endpoint === 'embeddings' ? 'embeddings' : 'chat',
    tenant: trail.tenant,
    route: trail.routeId,
    logicalModel: trail.target ?? trail.requestedModel,
    deploymentId: trail.deploymentId,
    providerType: trail.providerType,
    status,
    outcome,
    durationMs: latencyMs,
    ttftMs,
    usage,
    costUsd: trail.costUsd,
    cache,
    retries: trail.retriedDeployments,
    escalatedTo: trail.escalatedTo,
  });
  const trace = request.trace;
  const input: DecisionInput = {
    requestId: trail.requestId,
    traceId: trace?.traceId ?? (trail.traceparent ? traceIdOf(trail.traceparent) : undefined),
    method: request.method,
    path,
    endpoint: trail.endpoint,
    tenant: trail.tenant,
    keyId: trail.keyId,
    policy: trail.policy,
    route: trail.routeId,
    requestedModel: trail.requestedModel,
    logicalModel: trail.target,
    reasons: trail.reasons,
    attempts: trail.attempts,
    deploymentId: trail.deploymentId,
    experimentArm: trail.experimentArm,
    escalations: trail.escalations,
    retries: trail.retries,
    cache,
    status,
    outcome,
    errorCode: trail.errorCode,
    errorMessage: trail.errorMessage,
    usage: usage && {
      ...usage,
      cachedInputTokens: trail.usage?.prompt_tokens_details?.cached_tokens,
    },
    costUsd: trail.costUsd,
    estimated: trail.estimated,
    latencyMs,
    ttftMs,
    stream: trail.stream,
    storeFallback: trail.storeFallback,
    hopRefused: trail.hopRefused,
    headers: userAgentOf(request),
    logContent: request.loggedContent !== undefined,
    content: request.loggedContent,
  };
  ctx.decisions.write(input, endedAtMs);
  trace?.finish({
    status,
    outcome,
    deploymentId: trail.deploymentId,
    responseModel: trail.response?.model,
    responseId: trail.response?.id,
    finishReasons: trail.response?.finishReasons,
    usage,
    errorCode: trail.errorCode,
  });
}

function recordMetrics(metrics: GatewayMetrics, trail: RequestTrail, summary: RequestSummary): void {
  metrics.recordRequest(summary);
  const rejection = trail.rejection;
  if (rejection && trail.tenant) {
    if (rejection.kind === 'rateLimit') metrics.recordRateLimitRejection(trail.tenant, rejection.id);
    else metrics.recordQuotaRejection(trail.tenant, rejection.id);
  }
  if (trail.storeFallback) metrics.recordStoreFailOpen('limits');
}

function userAgentOf(request: FastifyRequest): Record<string, string> | undefined {
  const agent = request.headers['user-agent'];
  return agent ? { 'user-agent': agent } : undefined;
}
