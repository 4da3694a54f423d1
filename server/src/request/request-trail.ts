import type { Endpoint } from '@switchyard/engine';
import type { Usage } from '../providers/chat-types.ts';
import type { LedgerCacheStatus } from '../stores/ledger-store.ts';
import type { AttemptRecord } from './execute-plan.ts';

/** How a request ended, as logged. */
export type RequestOutcome = 'ok' | 'error' | 'cancelled';

/**
 * What the gateway learns about one request as it goes through the steps, for the response headers
 * and the one log line written when it ends. Never holds the API key or message content.
 */
export interface RequestTrail {
  requestId: string;
  /** W3C `traceparent` sent upstream. */
  traceparent: string;
  startedAtMs: number;
  tenant?: string | undefined;
  keyId?: string | undefined;
  /** `name@version` of the policy the request captured. */
  policy?: string | undefined;
  routeId?: string | undefined;
  /** The logical model the plan chose. */
  target?: string | undefined;
  /** The deployment that served (`Deployment.id`). */
  deploymentId?: string | undefined;
  attempts: AttemptRecord[];
  escalations: number;
  usage?: Usage | undefined;
  costUsd?: number | undefined;
  stream: boolean;
  outcome?: RequestOutcome | undefined;
  errorCode?: string | undefined;
  /** The API the request came in on; set for proxied model calls, which get a ledger row. */
  endpoint?: Endpoint | undefined;
  /** Refused by the gateway itself (policy, key, rate limit, quota, limit store): ledger outcome `denied`. */
  denied?: boolean | undefined;
  /** Status of the error a stream ended with after its 200 went out (the ledger records it). */
  errorStatus?: number | undefined;
  /** Retries inside attempts (the retry wrapper's), on top of the attempts themselves. */
  retries: number;
  /** Whether the usage was counted by the gateway because the upstream reported none. */
  estimated?: boolean | undefined;
  /** Epoch ms when the first token went to the client (streams). */
  firstTokenAtMs?: number | undefined;
  /** `<experiment>/<arm>` when the plan came from an experiment. */
  experimentArm?: string | undefined;
  /** Set by the cache layer; `bypass` when it is absent. */
  cacheStatus?: LedgerCacheStatus | undefined;
  /** Limits and quotas were served by the local fallback because the shared store failed. */
  storeFallback?: boolean | undefined;
  /** An escalation hop whose reservation a quota refused (`<model>: <quota id>`). */
  hopRefused?: string | undefined;
  /**
   * Accounting still running when the response closed (a stream's settle): the log line and the
   * ledger row wait for it, so they carry the final usage.
   */
  pending?: Promise<void> | undefined;
}

/** Starts the trail of a request. */
export function startTrail(requestId: string, traceparent: string, nowMs: number): RequestTrail {
  return {
    requestId,
    traceparent,
    startedAtMs: nowMs,
    attempts: [],
    escalations: 0,
    retries: 0,
    stream: false,
  };
}

/** The `x-switchyard-*` headers every proxied response carries (those known so far). */
export function trailHeaders(trail: RequestTrail): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': trail.requestId };
  if (trail.policy) headers['x-switchyard-policy'] = trail.policy;
  if (trail.routeId) headers['x-switchyard-route'] = trail.routeId;
  if (trail.deploymentId) headers['x-switchyard-model'] = trail.deploymentId;
  if (trail.attempts.length > 1) {
    headers['x-switchyard-attempts'] = trail.attempts
      .map((a) => `${a.deploymentId};${a.outcome};${a.ms}ms`)
      .join(', ');
  }
  return headers;
}

/** The fields of the one log line written per request. */
export function trailLogFields(trail: RequestTrail, status: number, nowMs: number): Record<string, unknown> {
  return {
    reqId: trail.requestId,
    tenant: trail.tenant,
    keyId: trail.keyId,
    policy: trail.policy,
    route: trail.routeId,
    model: trail.deploymentId,
    status,
    outcome: trail.outcome ?? (status < 400 ? 'ok' : 'error'),
    errorCode: trail.errorCode,
    ms: nowMs - trail.startedAtMs,
    stream: trail.stream || undefined,
    attempts: trail.attempts.length > 1 ? trail.attempts : undefined,
    escalations: trail.escalations || undefined,
    retries: trail.retries || undefined,
    promptTokens: trail.usage?.prompt_tokens,
    completionTokens: trail.usage?.completion_tokens,
    estimated: trail.estimated,
    costUsd: trail.costUsd,
    storeFallback: trail.storeFallback,
    hopRefused: trail.hopRefused,
  };
}
