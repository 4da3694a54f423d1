import type { Logger } from 'pino';
import type { CacheStatus } from '../cache/cacheability.ts';
import type { DecisionRing } from './decision-ring.ts';
import { redactedText, scrubSecrets } from './secret-scrubber.ts';

/** One upstream attempt as the decision log shows it (an `AttemptRecord` satisfies it). */
export interface DecisionAttempt {
  deploymentId: string;
  /** `ok` served; `escalated` answered but a trigger moved on; `failed`; `cancelled` by the client. */
  outcome: 'ok' | 'escalated' | 'failed' | 'cancelled';
  /** Status the client would have seen for a failure. */
  status?: number | undefined;
  code?: string | undefined;
  ms: number;
  /** The escalation trigger an `escalated` answer showed. */
  trigger?: string | undefined;
}

/** Everything the request path knows about a request when it ends, for its decision line. */
export interface DecisionInput {
  requestId: string;
  traceId?: string | undefined;
  /** `chat`, `messages`, `embeddings`. */
  endpoint?: string | undefined;
  tenant?: string | undefined;
  /** The API key's id (never the key). */
  keyId?: string | undefined;
  /** `name@version` of the policy that decided. */
  policy?: string | undefined;
  route?: string | undefined;
  /** The model the client asked for. */
  requestedModel?: string | undefined;
  /** The logical model the plan chose (`plan.target`). */
  logicalModel?: string | undefined;
  /** `plan.reasons` (or a denial's): the rule ids that decided. */
  reasons?: readonly { rule: string }[] | undefined;
  /** Every deployment tried, in order, and how each attempt ended. */
  attempts?: readonly DecisionAttempt[] | undefined;
  /** `Deployment.id` that answered. */
  deploymentId?: string | undefined;
  escalations?: number | undefined;
  cache?: { ruleId: string; status: CacheStatus; similarity?: number | undefined } | undefined;
  /** HTTP status sent. */
  status: number;
  outcome: 'ok' | 'error' | 'cancelled';
  errorCode?: string | undefined;
  /** The error message the client got (upstream errors may echo a key: it is scrubbed). */
  errorMessage?: string | undefined;
  usage?: { inputTokens: number; outputTokens: number; cachedInputTokens?: number | undefined } | undefined;
  costUsd?: number | undefined;
  latencyMs: number;
  ttftMs?: number | undefined;
  stream?: boolean | undefined;
  /** Request headers worth keeping (user agent, client ids); credentials are removed whatever their name. */
  headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
  /** `plan.logContent`: whether the tenant opted in to content in logs. */
  logContent?: boolean | undefined;
  /** The conversation and the answer: logged only when `logContent` is true. */
  content?: { messages?: unknown; completion?: unknown } | undefined;
}

/** One request's decision as logged and kept in the ring: scrubbed, content only when opted in. */
export interface DecisionRecord {
  requestId: string;
  /** When the request ended, ISO 8601. */
  at: string;
  traceId?: string;
  endpoint?: string;
  tenant?: string;
  keyId?: string;
  policy?: string;
  route?: string;
  requestedModel?: string;
  model?: string;
  reasons: string[];
  attempts: DecisionAttempt[];
  deployment?: string;
  escalations?: number;
  cache?: { rule: string; status: CacheStatus; similarity?: number };
  status: number;
  outcome: 'ok' | 'error' | 'cancelled';
  errorCode?: string;
  error?: string;
  tokens?: { input: number; output: number; cachedInput?: number };
  costUsd?: number;
  latencyMs: number;
  ttftMs?: number;
  stream?: boolean;
  headers?: Record<string, unknown>;
  content?: { messages?: unknown; completion?: unknown };
}

/**
 * pino `redact` paths of the decision line: a second guard behind the scrubber, for fields that
 * are secrets whatever their value looks like.
 */
export const decisionRedactPaths: readonly string[] = [
  'headers.authorization',
  'headers["proxy-authorization"]',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  'headers.cookie',
  'apiKey',
  'key',
  '*.apiKey',
];

/** Options of `DecisionLog`. */
export interface DecisionLogOptions {
  /** The gateway's pino logger; the decision lines go to a child of it (`component: decision`). */
  logger: Logger;
  /** Where the last decisions are kept for the admin API, if anywhere. */
  ring?: DecisionRing | undefined;
  /** Longest string of logged content, in characters (default 8192): log lines stay bounded. */
  maxContentChars?: number | undefined;
}

/** The decision record of a request (before scrubbing). `nowMs`: when it ended. */
export function buildDecisionRecord(input: DecisionInput, nowMs: number): DecisionRecord {
  const record: DecisionRecord = {
    requestId: input.requestId,
    at: new Date(nowMs).toISOString(),
    reasons: (input.reasons ?? []).map((r) => r.rule),
    attempts: (input.attempts ?? []).map((a) => ({
      deploymentId: a.deploymentId,
      outcome: a.outcome,
      ms: a.ms,
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.code !== undefined ? { code: a.code } : {}),
      ...(a.trigger !== undefined ? { trigger: a.trigger } : {}),
    })),
    status: input.status,
    outcome: input.outcome,
    latencyMs: input.latencyMs,
  };
  const optional: Partial<DecisionRecord> = {
    traceId: input.traceId,
    endpoint: input.endpoint,
    tenant: input.tenant,
    keyId: input.keyId,
    policy: input.policy,
    route: input.route,
    requestedModel: input.requestedModel,
    model: input.logicalModel,
    deployment: input.deploymentId,
    escalations: input.escalations || undefined,
    cache: input.cache && {
      rule: input.cache.ruleId,
      status: input.cache.status,
      ...(input.cache.similarity !== undefined ? { similarity: input.cache.similarity } : {}),
    },
    errorCode: input.errorCode,
    error: input.errorMessage,
    tokens: input.usage && {
      input: input.usage.inputTokens,
      output: input.usage.outputTokens,
      ...(input.usage.cachedInputTokens ? { cachedInput: input.usage.cachedInputTokens } : {}),
    },
    costUsd: input.costUsd,
    ttftMs: input.ttftMs,
    stream: input.stream || undefined,
    headers: input.headers && { ...input.headers },
    content: input.logContent === true ? input.content : undefined,
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) (record as unknown as Record<string, unknown>)[key] = value;
  return record;
}

/**
 * Writes one structured JSON line per request: who (tenant, key id, never the key), which policy
 * version and rules decided, every deployment tried and why it was left, cache status, tokens,
 * cost and latency. Message content appears only when the tenant opted in (`plan.logContent`).
 * Secrets never appear: the record is scrubbed (credential-shaped values anywhere, secret-named
 * fields) and pino's `redact` guards the known header paths behind it. The same scrubbed record goes
 * to the ring for `GET /admin/v1/decisions`.
 */
export class DecisionLog {
  readonly #logger: Logger;
  readonly #ring: DecisionRing | undefined;
  readonly #maxContentChars: number;

  constructor(options: DecisionLogOptions) {
    this.#logger = options.logger.child(
      { component: 'decision' },
      { redact: { paths: [...decisionRedactPaths], censor: redactedText } },
    );
    this.#ring = options.ring;
    this.#maxContentChars = options.maxContentChars ?? 8_192;
  }

  /** Logs the request's decision (and keeps it in the ring); returns the record as written. */
  write(input: DecisionInput, nowMs: number): DecisionRecord {
    const { content, ...rest } = buildDecisionRecord(input, nowMs);
    const record = scrubSecrets(rest, { maxStringChars: 2_048 }) as DecisionRecord;
    if (content !== undefined)
      record.content = scrubSecrets(content, {
        maxStringChars: this.#maxContentChars,
      }) as DecisionRecord['content'];
    this.#logger.info(record, 'decision');
    this.#ring?.add(record);
    return record;
  }
}
