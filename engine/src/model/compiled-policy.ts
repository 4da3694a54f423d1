import type { ModelSpec } from '../catalog/models.schema.ts';
import type { TenantSpec } from '../catalog/tenants.schema.ts';
import type { EscalationTrigger } from '../concerns/escalate/escalate.schema.ts';
import type { ResilienceSettings } from '../concerns/resilience/resilience.schema.ts';
import type { Diagnostic } from '../errors.ts';
import type { PolicySpec } from '../pipeline/policy.schema.ts';
import type { Deployment, Reason } from './decision.ts';
import type { RequestFacts } from './facts.ts';

/** One source file of a policy. A policy may be split over several files in its folder. */
export interface PolicyFile {
  /** Path as shown in diagnostics (relative to where the user ran the command). */
  path: string;
  text: string;
}

/** A predicate compiled from `match` and `when`, plus a line saying why it failed (for explain). */
export interface CompiledCondition {
  /** Whether the request matches. */
  test(facts: RequestFacts): boolean;
  /** Why the request does not match, or undefined when it does (explain only; allocates). */
  whyNot(facts: RequestFacts): string | undefined;
  /** Whether the condition holds for every request (no match, no when). */
  isCatchAll: boolean;
  /** The requested models the condition is limited to, if it is (for the route index). */
  models?: readonly string[] | undefined;
  /** Tenants, tags and metadata the condition requires (for the route index). */
  tenants?: readonly string[] | undefined;
  tags?: readonly string[] | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
  /** Equalities on `tenant` / `metadata.<key>` its `when` requires (for the route index). */
  whenEqualities?: readonly { fact: string; value: string }[] | undefined;
}

/** A route ready for `decide()`. */
export interface CompiledRoute {
  id: string;
  index: number;
  condition: CompiledCondition;
  target?: string | undefined;
  experiment?: string | undefined;
  escalation: readonly { to: string; on: readonly EscalationTrigger[]; minLogprob: number }[];
  maxEscalations: number;
  idempotent: boolean;
  /** The reason a plan carries when this route decides (built once). */
  reason: Reason;
}

/**
 * Routes split by their most selective declarative constraint (a required tag, tenant or metadata
 * value); each list keeps policy order. A request can only match routes in `rest` and in the lists
 * its own tags, tenant and metadata select.
 */
export interface RouteIndex<T extends IndexedRule = CompiledRoute> {
  rest: readonly T[];
  byTag: ReadonlyMap<string, readonly T[]>;
  byTenant: ReadonlyMap<string, readonly T[]>;
  byMetadata: ReadonlyMap<string, ReadonlyMap<string, readonly T[]>>;
}

/** What the rule index needs of a rule: its position in the policy and its condition. */
export interface IndexedRule {
  index: number;
  condition: CompiledCondition;
}

/** A cache rule ready for `decide()`. */
export interface CompiledCacheRule extends IndexedRule {
  id: string;
  spec: PolicySpec['cache'][number];
  reason: Reason;
  /** Cache plans already built per scope value (bounded memo). */
  memo: Map<string, import('./decision.ts').CachePlan>;
}

/** A logical model with its deployments resolved. */
export interface CompiledModel {
  name: string;
  spec: ModelSpec;
  deployments: readonly Deployment[];
  totalWeight: number;
  /** For each deployment: it first, then the others by descending weight (built once). */
  orders: readonly (readonly Deployment[])[];
  /** Capability bit mask per deployment (see `capabilityBits`). */
  capabilityMasks: readonly number[];
  /** The reason a plan carries for each deployment picked first (built once). */
  pickReasons: readonly Reason[];
}

/** A tenant with defaults applied and ids resolved on quotas and limits. */
export interface CompiledTenant {
  name: string;
  spec: TenantSpec;
  allows: (model: string) => boolean;
  /** The reason a plan carries when this tenant applies (built once). */
  reason: Reason;
  quotas: readonly CompiledQuota[];
  limits: readonly CompiledLimit[];
}

/**
 * A quota ready for `decide()`. `memo` keeps, per scope value (tenant or key id), the current
 * window and its store key, so the hot path builds no strings (bounded; cleared when full).
 */
export interface CompiledQuota {
  id: string;
  per: 'tenant' | 'key';
  window: import('../concerns/quota/quota.schema.ts').QuotaWindow;
  unit: 'tokens' | 'requests' | 'usd';
  limit: number;
  memo: Map<
    string,
    { start: number; end: number; key: string; fixed?: import('./decision.ts').Charge | undefined }
  >;
}

/** A rate limit ready for `decide()`, with a bounded memo of store keys (and fixed checks) per scope. */
export interface CompiledLimit {
  id: string;
  per: 'tenant' | 'key' | 'route' | 'model' | 'endpoint';
  unit: 'requests' | 'tokens';
  capacity: number;
  refillPerSec: number;
  headerLimit: number;
  memo: Map<string, { key: string; fixed?: import('./decision.ts').LimitCheck | undefined }>;
}

/**
 * A validated, compiled, immutable policy. Its `version` is a content hash of the canonical form:
 * reformatting, comments and key order leave it unchanged; any semantic change changes it.
 */
export interface CompiledPolicy {
  name: string;
  /** First 12 hex digits of `hash`. */
  version: string;
  /** SHA-256 of the canonical JSON of the validated policy. */
  hash: string;
  /** `name@version`. */
  id: string;
  spec: PolicySpec;
  sources: readonly PolicyFile[];
  routes: readonly CompiledRoute[];
  /** The routes that can match a requested model; other models use `routesForAnyModel`. */
  routesByModel: ReadonlyMap<string, RouteIndex>;
  /** The routes that do not constrain the requested model. */
  routesForAnyModel: RouteIndex;
  models: ReadonlyMap<string, CompiledModel>;
  tenants: ReadonlyMap<string, CompiledTenant>;
  cacheRules: readonly CompiledCacheRule[];
  /** Cache rules indexed like routes (first match in policy order). */
  cacheIndex: RouteIndex<CompiledCacheRule>;
  experiments: ReadonlyMap<string, PolicySpec['experiments'][number]>;
  /** Resilience settings per logical model (global merged with the model's override). */
  resilience: ReadonlyMap<string, ResilienceSettings>;
  warnings: readonly Diagnostic[];
}

/** The result of compiling: a policy, or every error found (up to the limit). Warnings either way. */
export type CompileResult =
  | { ok: true; policy: CompiledPolicy; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };
