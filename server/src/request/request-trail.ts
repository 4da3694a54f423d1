import type { Usage } from '../providers/chat-types.ts';
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
}

/** Starts the trail of a request. */
export function startTrail(requestId: string, traceparent: string, nowMs: number): RequestTrail {
  return { requestId, traceparent, startedAtMs: nowMs, attempts: [], escalations: 0, stream: false };
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
    promptTokens: trail.usage?.prompt_tokens,
    completionTokens: trail.usage?.completion_tokens,
    costUsd: trail.costUsd,
  };
}
