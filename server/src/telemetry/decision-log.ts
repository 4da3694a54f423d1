import type { Logger } from 'pino';
import type { CacheStatus } from '../cache/cacheability.ts';
import type { DecisionRing } from './decision-ring.ts';
import { scrubSecrets, scrubSecretsInPlace } from './secret-scrubber.ts';

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
  /** Retries inside attempts (the same deployment tried again). */
  retries?: number | undefined;
  cache?:
    | {
        ruleId: string;
        status: CacheStatus;
        similarity?: number | undefined;
        /** On a hit: the upstream cost of the answer replayed. */
        savedCostUsd?: number | undefined;
      }
    | undefined;
  /** `<experiment>/<arm>` when the plan came from an experiment. */
  experimentArm?: string | undefined;
  /** HTTP method and route of the request. */
  method?: string | undefined;
  path?: string | undefined;
  /** HTTP status sent. */
  status: number;
  outcome: 'ok' | 'error' | 'cancelled';
  errorCode?: string | undefined;
  /** The error message the client got (upstream errors may echo a key: it is scrubbed). */
  errorMessage?: string | undefined;
  usage?: { inputTokens: number; outputTokens: number; cachedInputTokens?: number | undefined } | undefined;
  costUsd?: number | undefined;
  /** Whether tokens and cost were counted by the gateway because the upstream reported no usage. */
  estimated?: boolean | undefined;
  latencyMs: number;
  ttftMs?: number | undefined;
  stream?: boolean | undefined;
  /** Limits and quotas were served by the local fallback because the shared store failed. */
  storeFallback?: boolean | undefined;
  /** An escalation hop a quota refused (`<model>: <quota id>`). */
  hopRefused?: string | undefined;
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
  method?: string;
  path?: string;
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
  experimentArm?: string;
  escalations?: number;
  retries?: number;
  cache?: { rule: string; status: CacheStatus; similarity?: number; savedCostUsd?: number };
  status: number;
  outcome: 'ok' | 'error' | 'cancelled';
  errorCode?: string;
  error?: string;
  tokens?: { input: number; output: number; cachedInput?: number };
  costUsd?: number;
  estimated?: boolean;
  latencyMs: number;
  ttftMs?: number;
  stream?: boolean;
  storeFallback?: boolean;
  hopRefused?: string;
  headers?: Record<string, unknown>;
  content?: { messages?: unknown; completion?: unknown };
}

/** Options of `DecisionLog`. */
export interface DecisionLogOptions {
  /** The gateway's pino logger; the decision lines go to a child of it (`component: decision`). */
  logger: Logger;
  /** Where the last decisions are kept for the admin API, if anywhere. */
  ring?: DecisionRing | undefined;
  /** Longest string of logged content, in characters (default 8192): log lines stay bounded. */
  maxContentChars?: number | undefined;
  /**
   * The line's `msg` (default `decision`). The gateway writes its one line per request here and
   * names it `request`.
   */
  message?: string | undefined;
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
  // Set one by one (no intermediate object): this runs once per request.
  if (input.traceId !== undefined) record.traceId = input.traceId;
  if (input.method !== undefined) record.method = input.method;
  if (input.path !== undefined) record.path = input.path;
  if (input.endpoint !== undefined) record.endpoint = input.endpoint;
  if (input.tenant !== undefined) record.tenant = input.tenant;
  if (input.keyId !== undefined) record.keyId = input.keyId;
  if (input.policy !== undefined) record.policy = input.policy;
  if (input.route !== undefined) record.route = input.route;
  if (input.requestedModel !== undefined) record.requestedModel = input.requestedModel;
  if (input.logicalModel !== undefined) record.model = input.logicalModel;
  if (input.deploymentId !== undefined) record.deployment = input.deploymentId;
  if (input.experimentArm !== undefined) record.experimentArm = input.experimentArm;
  if (input.escalations) record.escalations = input.escalations;
  if (input.retries) record.retries = input.retries;
  const cache = input.cache;
  if (cache) {
    record.cache = { rule: cache.ruleId, status: cache.status };
    if (cache.similarity !== undefined) record.cache.similarity = cache.similarity;
    if (cache.savedCostUsd) record.cache.savedCostUsd = cache.savedCostUsd;
  }
  if (input.errorCode !== undefined) record.errorCode = input.errorCode;
  if (input.errorMessage !== undefined) record.error = input.errorMessage;
  const usage = input.usage;
  if (usage) {
    record.tokens = { input: usage.inputTokens, output: usage.outputTokens };
    if (usage.cachedInputTokens) record.tokens.cachedInput = usage.cachedInputTokens;
  }
  if (input.costUsd !== undefined) record.costUsd = input.costUsd;
  if (input.estimated) record.estimated = true;
  if (input.ttftMs !== undefined) record.ttftMs = input.ttftMs;
  if (input.stream) record.stream = true;
  if (input.storeFallback) record.storeFallback = true;
  if (input.hopRefused !== undefined) record.hopRefused = input.hopRefused;
  if (input.headers) {
    const headers: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(input.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? [...value] : value;
    record.headers = headers;
  }
  if (input.logContent === true && input.content !== undefined) record.content = input.content;
  return record;
}

/**
 * Writes one structured JSON line per request: who (tenant, key id, never the key), which policy
 * version and rules decided, every deployment tried and why it was left, cache status, tokens,
 * cost and latency. Message content appears only when the tenant opted in (`plan.logContent`).
 * Secrets never appear: the record is scrubbed before it is written (credential-shaped values
 * anywhere, fields named like secrets such as `authorization` or `x-api-key` whatever their value).
 * The same scrubbed record goes to the ring for `GET /admin/v1/decisions`.
 */
export class DecisionLog {
  readonly #logger: Logger;
  readonly #ring: DecisionRing | undefined;
  readonly #maxContentChars: number;
  readonly #message: string;

  constructor(options: DecisionLogOptions) {
    this.#logger = options.logger.child({ component: 'decision' });
    this.#ring = options.ring;
    this.#maxContentChars = options.maxContentChars ?? 8_192;
    this.#message = options.message ?? 'decision';
  }

  /** Logs the request's decision (and keeps it in the ring); returns the record as written. */
  write(input: DecisionInput, nowMs: number): DecisionRecord {
    const record = buildDecisionRecord(input, nowMs);
    const content = record.content;
    delete record.content;
    // The record is built fresh above, so it is scrubbed where it is; the content (the caller's
    // request and answer objects) is scrubbed into a copy.
    scrubSecretsInPlace(record, { maxStringChars: 2_048 });
    if (content !== undefined)
      record.content = scrubSecrets(content, {
        maxStringChars: this.#maxContentChars,
      }) as DecisionRecord['content'];
    this.#logger.info(record, this.#message);
    this.#ring?.add(record);
    return record;
  }
}
