import type { Capability } from '../catalog/models.schema.ts';
import type { ProviderSpec } from '../catalog/providers.schema.ts';
import type { CacheRuleSpec } from '../concerns/cache/cache.schema.ts';
import type { EscalationTrigger } from '../concerns/escalate/escalate.schema.ts';
import type { QuotaWindow } from '../concerns/quota/quota.schema.ts';
import type { ResilienceSettings } from '../concerns/resilience/resilience.schema.ts';

/** Why a decision came out as it did: the rule that decided one part of it. */
export interface Reason {
  /** Rule id, e.g. `route:code`, `tenant:search`, `deployment:fast/openai-mini`, `quota:search/usd-day`. */
  rule: string;
  /** One line: what the rule did. */
  detail: string;
}

/** A concrete upstream to call, resolved from the compiled policy. */
export interface Deployment {
  /** Stable id, `<logical model>/<deployment id>`: the key for breaker state and metrics. */
  id: string;
  /** The logical model it serves. */
  logicalModel: string;
  /** Name of the provider in the policy. */
  providerName: string;
  /** The provider declaration (type, base URL, key reference). */
  provider: ProviderSpec;
  /** Upstream model name. */
  model: string;
  weight: number;
  price: { inPerMTok: number; outPerMTok: number; cachedInPerMTok: number };
  contextWindow: number;
  capabilities: readonly Capability[];
  maxConcurrent?: number | undefined;
}

/** One hop of the plan's escalation chain with its own ordered candidates. */
export interface EscalationHop {
  to: string;
  on: readonly EscalationTrigger[];
  minLogprob: number;
  candidates: readonly Deployment[];
  /** Reservations for this hop (same quota keys as the plan's, amounts bounded by the hop's model). */
  readonly charges: readonly Charge[];
}

/** A quota reservation the server must make before the upstream call (reserve-then-settle). */
export interface Charge {
  /** Store key: `q|<tenant>|<quota id>|<tenant or key id>|<window start ms>`. */
  key: string;
  quotaId: string;
  per: 'tenant' | 'key';
  unit: 'tokens' | 'requests' | 'usd';
  window: QuotaWindow;
  windowStartMs: number;
  windowEndMs: number;
  /** The cap. */
  limit: number;
  /** Upper bound to reserve now; settled to actual usage afterwards. */
  amount: number;
}

/** A token bucket the server must take from before the upstream call. */
export interface LimitCheck {
  /** Store key: `rl|<tenant>|<limit id>|<scope value>`. */
  key: string;
  limitId: string;
  per: 'tenant' | 'key' | 'route' | 'model' | 'endpoint';
  unit: 'requests' | 'tokens';
  /** Bucket size. */
  capacity: number;
  /** Refill per second. */
  refillPerSec: number;
  /** What this request takes from the bucket. */
  cost: number;
  /** The limit as clients see it in `x-ratelimit-limit-*` (per minute for rpm/tpm, per second for rps). */
  headerLimit: number;
}

/** The cache rule that applies, with the scope value resolved for this request. */
export interface CachePlan {
  ruleId: string;
  mode: CacheRuleSpec['mode'];
  ttlMs: number;
  scope: 'tenant' | 'key';
  /** `tenant:<name>` or `key:<id>`: always part of the cache key. */
  scopeKey: string;
  similarity: number;
  embeddingModel?: string | undefined;
  promptCache: boolean;
  countTokensOnHit: boolean;
}

/** What the server should do with a request. */
export interface Plan {
  kind: 'plan';
  /** `name@version` of the policy that decided. */
  policy: string;
  routeId: string;
  /** Logical model chosen. */
  target: string;
  /** Deployments in the order to try: the weighted pick first, then the rest as fallbacks. */
  candidates: readonly Deployment[];
  escalation: readonly EscalationHop[];
  /** Hops allowed per request. */
  maxEscalations: number;
  cache?: CachePlan | undefined;
  charges: readonly Charge[];
  limits: readonly LimitCheck[];
  experiment?: { id: string; arm: string } | undefined;
  resilience: ResilienceSettings;
  /** Whether retries are allowed (the route's `idempotent`). */
  idempotent: boolean;
  /** Output tokens the reservations assumed (client's max_tokens or the model's maxOutputTokens). */
  maxOutputTokens: number;
  /** Whether the tenant opted in to content in decision logs. */
  logContent: boolean;
  /** The tenant's choice when the shared limit store is down. */
  onStoreFailure: 'open' | 'closed';
  reasons: Reason[];
}

/** Machine codes of denials, mapped by the server to OpenAI-shaped errors. */
export type DenialCode =
  | 'tenant_not_allowed'
  | 'model_not_allowed'
  | 'model_not_found'
  | 'unsupported_capability'
  | 'context_length_exceeded'
  | 'no_healthy_deployment'
  | 'quota_exceeded'
  | 'rate_limit_exceeded';

/** A refusal, with the HTTP status it maps to. */
export interface Denial {
  kind: 'deny';
  policy: string;
  status: 400 | 403 | 404 | 429 | 503;
  code: DenialCode;
  message: string;
  /** For 429/503: when trying again can succeed. */
  retryAfterMs?: number | undefined;
  /** For 429: the limit or quota that refused, for `x-ratelimit-*` headers. */
  limit?: LimitCheck | Charge | undefined;
  routeId?: string | undefined;
  reasons: Reason[];
}

/** The outcome of `decide()`. */
export type Decision = Plan | Denial;

/** One step of an explain trace: a rule that was considered and what came of it. */
export interface TraceStep {
  rule: string;
  outcome: 'matched' | 'skipped' | 'applied' | 'denied' | 'info';
  detail: string;
}
