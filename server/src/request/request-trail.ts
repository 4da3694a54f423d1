import type { Endpoint, Plan, Reason } from '@switchyard/engine';
import type { ChatCompletion, EmbeddingsResponse, Usage } from '../providers/chat-types.ts';
import type { LedgerCacheStatus } from '../stores/ledger-store.ts';
import type { AttemptRecord, Execution } from './execute-plan.ts';

/** How a request ended, as logged. */
export type RequestOutcome = 'ok' | 'error' | 'cancelled';

/**
 * What the gateway learns about one request as it goes through the steps, for the response headers
 * and the one log line written when it ends. Never holds the API key or message content.
 */
export interface RequestTrail {
  requestId: string;
  /**
   * The ledger row's own key when `requestId` is the client's `x-request-id` (which may repeat);
   * undefined when the gateway made the request id (unique already).
   */
  rowId?: string | undefined;
  /**
   * W3C `traceparent` sent upstream (each attempt sends its own span's when traces are exported);
   * set once the request is known to be a proxied model call, empty before.
   */
  traceparent: string;
  startedAtMs: number;
  tenant?: string | undefined;
  keyId?: string | undefined;
  /** `name@version` of the policy the request captured. */
  policy?: string | undefined;
  /** The model the client asked for. */
  requestedModel?: string | undefined;
  /** The rule ids that decided (the plan's or the denial's reasons). */
  reasons?: readonly Reason[] | undefined;
  routeId?: string | undefined;
  /** The logical model the plan chose. */
  target?: string | undefined;
  /** The deployment that served (`Deployment.id`); on a cache hit, the one that produced the answer. */
  deploymentId?: string | undefined;
  /** Provider type of the deployment that served (`openai`, `simulator`…). */
  providerType?: string | undefined;
  /** The answer's `id`, `model` and finish reasons, for the trace. */
  response?: { id?: string | undefined; model?: string | undefined; finishReasons?: string[] } | undefined;
  attempts: AttemptRecord[];
  escalations: number;
  usage?: Usage | undefined;
  costUsd?: number | undefined;
  stream: boolean;
  outcome?: RequestOutcome | undefined;
  errorCode?: string | undefined;
  /** The message of the error the client got (the decision log scrubs it). */
  errorMessage?: string | undefined;
  /** The rate limit or quota that refused the request with a 429. */
  rejection?: { kind: 'rateLimit' | 'quota'; id: string } | undefined;
  /** The API the request came in on; set for proxied model calls, which get a ledger row. */
  endpoint?: Endpoint | undefined;
  /** Refused by the gateway itself (policy, key, rate limit, quota, limit store): ledger outcome `denied`. */
  denied?: boolean | undefined;
  /** Status of the error a stream ended with after its 200 went out (the ledger records it). */
  errorStatus?: number | undefined;
  /** Retries inside attempts (the retry wrapper's), on top of the attempts themselves. */
  retries: number;
  /** The deployment of each retry, in order (for metrics). */
  retriedDeployments?: string[] | undefined;
  /** The logical models escalated to, in order. */
  escalatedTo?: string[] | undefined;
  /** Whether the usage was counted by the gateway because the upstream reported none. */
  estimated?: boolean | undefined;
  /** Epoch ms when the first token went to the client (streams). */
  firstTokenAtMs?: number | undefined;
  /** `<experiment>/<arm>` when the plan came from an experiment. */
  experimentArm?: string | undefined;
  /** Set by the cache layer; `bypass` when it is absent. */
  cacheStatus?: LedgerCacheStatus | undefined;
  /** The cache rule that applied, if any. */
  cacheRule?: string | undefined;
  /** A semantic hit's similarity (1 for an exact hit). */
  cacheSimilarity?: number | undefined;
  /** On a cache hit: the upstream cost of the answer replayed. */
  savedCostUsd?: number | undefined;
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
export function startTrail(requestId: string, nowMs: number): RequestTrail {
  return {
    requestId,
    traceparent: '',
    startedAtMs: nowMs,
    attempts: [],
    escalations: 0,
    retries: 0,
    stream: false,
  };
}

/**
 * The `x-switchyard-*` headers every proxied response carries (those known so far), including
 * `x-switchyard-cache` (`hit`, `miss`, or `bypass` when no cache rule applied or the client's
 * `Cache-Control` skipped the lookup).
 */
export function trailHeaders(trail: RequestTrail): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': trail.requestId };
  if (trail.policy) headers['x-switchyard-policy'] = trail.policy;
  if (trail.routeId) headers['x-switchyard-route'] = trail.routeId;
  if (trail.deploymentId) headers['x-switchyard-model'] = trail.deploymentId;
  if (trail.endpoint) headers['x-switchyard-cache'] = trail.cacheStatus ?? 'bypass';
  if (trail.attempts.length > 1) {
    headers['x-switchyard-attempts'] = trail.attempts
      .map((a) => `${a.deploymentId};${a.outcome};${a.ms}ms`)
      .join(', ');
  }
  return headers;
}

/** The fields of the log line of a request that is not a proxied model call (admin, health, models). */
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

/** Records how the plan's execution went: every attempt, the escalations and the models escalated to. */
export function recordExecution(trail: RequestTrail, plan: Plan, execution: Execution<unknown>): void {
  trail.attempts = execution.attempts;
  trail.escalations = execution.escalations;
  if (execution.escalations > 0)
    trail.escalatedTo = plan.escalation.slice(0, execution.escalations).map((hop) => hop.to);
}

/** Records the answer's id, model and finish reasons (for the trace; never its content). */
export function recordResponse(trail: RequestTrail, answer: ChatCompletion | EmbeddingsResponse): void {
  trail.response =
    answer.object === 'chat.completion'
      ? {
          id: answer.id,
          model: answer.model,
          finishReasons: answer.choices.map((c) => c.finish_reason ?? 'none'),
        }
      : { model: answer.model };
}
