import type { Diagnostic } from '../errors.ts';
import type { PolicySpec } from '../pipeline/policy.schema.ts';
import type { RequestFacts } from './facts.ts';
import type { Deployment } from './decision.ts';
import type { TenantSpec } from '../catalog/tenants.schema.ts';
import type { ModelSpec } from '../catalog/models.schema.ts';
import type { ResilienceSettings } from '../concerns/resilience/resilience.schema.ts';
import type { EscalationTrigger } from '../concerns/escalate/escalate.schema.ts';

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
}

/** A logical model with its deployments resolved. */
export interface CompiledModel {
  name: string;
  spec: ModelSpec;
  deployments: readonly Deployment[];
  totalWeight: number;
}

/** A tenant with defaults applied and ids resolved on quotas and limits. */
export interface CompiledTenant {
  name: string;
  spec: TenantSpec;
  allows: (model: string) => boolean;
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
  models: ReadonlyMap<string, CompiledModel>;
  tenants: ReadonlyMap<string, CompiledTenant>;
  cacheRules: readonly { id: string; condition: CompiledCondition; spec: PolicySpec['cache'][number] }[];
  experiments: ReadonlyMap<string, PolicySpec['experiments'][number]>;
  /** Resilience settings per logical model (global merged with the model's override). */
  resilience: ReadonlyMap<string, ResilienceSettings>;
  warnings: readonly Diagnostic[];
}

/** The result of compiling: a policy, or every error found (up to the limit). Warnings either way. */
export type CompileResult =
  | { ok: true; policy: CompiledPolicy; warnings: Diagnostic[] }
  | { ok: false; errors: Diagnostic[]; warnings: Diagnostic[] };
