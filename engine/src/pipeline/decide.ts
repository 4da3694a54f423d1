import { capabilityBits } from '../catalog/capability-bits.ts';
import { PlannedHop } from '../concerns/escalate/escalation-hop.ts';
import { memoLimit, planCharges, type QuotaOutcome } from '../concerns/quota/quota.decide.ts';
import { planLimits } from '../concerns/ratelimit/ratelimit.decide.ts';
import { pickDeployments } from '../concerns/route/pick-deployments.ts';
import { firstMatchingRule } from '../concerns/route/route.compile.ts';
import { stickyBucket } from '../hash/sticky-bucket.ts';
import type {
  CompiledCacheRule,
  CompiledPolicy,
  CompiledRoute,
  CompiledTenant,
} from '../model/compiled-policy.ts';
import type {
  CachePlan,
  Decision,
  Denial,
  DenialCode,
  EscalationHop,
  Reason,
  TraceStep,
} from '../model/decision.ts';
import type { Env } from '../model/env.ts';
import type { RequestFacts } from '../model/facts.ts';
import type { StateSnapshot } from '../model/snapshot.ts';

/** The tenant that stands for every tenant a policy does not name. */
const openTenant: CompiledTenant = {
  name: 'default',
  spec: { allowModels: '*', quotas: [], rateLimits: [], logContent: false, onStoreFailure: 'open' },
  allows: () => true,
  reason: { rule: 'tenant:default', detail: 'the policy names no tenants' },
  quotas: [],
  limits: [],
};
const defaultTenantReason: Reason = Object.freeze({
  rule: 'tenant:default',
  detail: 'tenant not named by the policy; the default tenant applies',
});

const needEmbedding = capabilityBits(['embedding']);
const needTools = capabilityBits(['tools']);
const needVision = capabilityBits(['vision']);
const needJson = capabilityBits(['json']);

/** The capabilities a request needs, as a bit mask. */
function needsOf(facts: RequestFacts): number {
  if (facts.endpoint === 'embeddings') return needEmbedding;
  return (
    (facts.hasTools ? needTools : 0) |
    (facts.hasImages ? needVision : 0) |
    (facts.responseFormat !== 'text' ? needJson : 0)
  );
}

function stickyValue(by: 'tenant' | 'key' | 'user', facts: RequestFacts): string {
  return by === 'tenant' ? facts.tenant : by === 'user' ? (facts.user ?? facts.keyId) : facts.keyId;
}

/**
 * Decides what to do with a request: which route and model, which deployments in which order,
 * how to escalate, which cache rule, what to reserve and which limits to take from, or why to
 * refuse. Pure and synchronous: the same inputs always give the same decision.
 */
export function decide(
  policy: CompiledPolicy,
  facts: RequestFacts,
  snapshot: StateSnapshot,
  env: Env,
): Decision {
  return decideTraced(policy, facts, snapshot, env, undefined);
}

/** `decide()` plus a trace of every rule considered and why it matched or not (for `policy explain`). */
export function explain(
  policy: CompiledPolicy,
  facts: RequestFacts,
  snapshot: StateSnapshot,
  env: Env,
): { decision: Decision; trace: TraceStep[] } {
  const trace: TraceStep[] = [];
  const decision = decideTraced(policy, facts, snapshot, env, trace);
  return { decision, trace };
}

/** Builds a denial (a module function, so the hot path allocates no closure per request). */
function denial(
  policy: CompiledPolicy,
  reasons: Reason[],
  trace: TraceStep[] | undefined,
  status: Denial['status'],
  code: DenialCode,
  message: string,
  extra?: Partial<Denial>,
): Denial {
  trace?.push({
    rule: reasons[reasons.length - 1]?.rule ?? 'policy',
    outcome: 'denied',
    detail: `${code}: ${message}`,
  });
  return { kind: 'deny', policy: policy.id, status, code, message, reasons, ...extra };
}

function decideTraced(
  policy: CompiledPolicy,
  facts: RequestFacts,
  snapshot: StateSnapshot,
  env: Env,
  trace: TraceStep[] | undefined,
): Decision {
  const reasons: Reason[] = [];

  // 1. Tenant.
  let tenant = policy.tenants.get(facts.tenant);
  if (tenant) {
    reasons.push(tenant.reason);
  } else {
    tenant = policy.tenants.get('default') ?? (policy.tenants.size === 0 ? openTenant : undefined);
    if (!tenant) {
      reasons.push({ rule: 'tenant:default', detail: 'policy has no `default` tenant' });
      return denial(
        policy,
        reasons,
        trace,
        403,
        'tenant_not_allowed',
        `tenant \`${facts.tenant}\` is not allowed by policy \`${policy.name}\``,
      );
    }
    reasons.push(tenant === openTenant ? openTenant.reason : defaultTenantReason);
  }
  trace?.push({ rule: reasons[0]!.rule, outcome: 'applied', detail: reasons[0]!.detail });

  // 2. Route: first match wins; a request naming a model directly needs no route.
  let route: CompiledRoute | undefined;
  if (trace) {
    // Explain walks every route, in order, to say why each did or did not match.
    for (const r of policy.routes) {
      if (r.condition.test(facts)) {
        route = r;
        trace.push({
          rule: `route:${r.id}`,
          outcome: 'matched',
          detail: r.condition.isCatchAll ? 'matches every request' : 'all conditions hold',
        });
        break;
      }
      trace.push({ rule: `route:${r.id}`, outcome: 'skipped', detail: r.condition.whyNot(facts) ?? '' });
    }
  } else {
    route = firstMatchingRule(policy.routesByModel.get(facts.model) ?? policy.routesForAnyModel, facts);
  }
  let routeId: string;
  let target: string;
  let experiment: { id: string; arm: string } | undefined;
  if (route) {
    routeId = route.id;
    reasons.push(route.reason);
    if (route.experiment !== undefined) {
      const exp = policy.experiments.get(route.experiment)!;
      let total = 0;
      for (const a of exp.arms) total += a.weight;
      let point = (stickyBucket(stickyValue(exp.stickyBy, facts), exp.id) / 10000) * total;
      let arm = exp.arms[exp.arms.length - 1]!;
      for (const a of exp.arms) {
        point -= a.weight;
        if (point < 0) {
          arm = a;
          break;
        }
      }
      experiment = { id: exp.id, arm: arm.id };
      target = arm.target;
      reasons.push({ rule: `experiment:${exp.id}/${arm.id}`, detail: `sticky by ${exp.stickyBy}` });
      trace?.push({
        rule: `experiment:${exp.id}/${arm.id}`,
        outcome: 'applied',
        detail: `arm \`${arm.id}\` → \`${arm.target}\` (sticky by ${exp.stickyBy})`,
      });
    } else {
      target = route.target!;
    }
  } else if (policy.models.has(facts.model)) {
    routeId = `model:${facts.model}`;
    target = facts.model;
    reasons.push({ rule: routeId, detail: 'no route matched; the request names a logical model' });
    trace?.push({
      rule: routeId,
      outcome: 'applied',
      detail: 'no route matched; served by the model it names',
    });
  } else {
    return denial(
      policy,
      reasons,
      trace,
      404,
      'model_not_found',
      `the model \`${facts.model}\` does not exist or no route serves it`,
      { reasons },
    );
  }

  // 3. Permission.
  if (!tenant.allows(target)) {
    reasons.push({
      rule: `tenant:${tenant.name}/allowModels`,
      detail: `\`${target}\` is not in allowModels`,
    });
    return denial(
      policy,
      reasons,
      trace,
      403,
      'model_not_allowed',
      `tenant \`${facts.tenant}\` may not use model \`${target}\``,
      { routeId },
    );
  }
  const model = policy.models.get(target)!;

  // 4. Deployments.
  const outputTokens = facts.endpoint === 'embeddings' ? 0 : (facts.maxTokens ?? model.spec.maxOutputTokens);
  const needs = needsOf(facts);
  const pick = pickDeployments(model, needs, facts.inputTokens + outputTokens, snapshot, env, trace);
  if (!pick.ok) {
    reasons.push({ rule: `model:${target}`, detail: pick.detail });
    const status = pick.reason === 'no_healthy_deployment' ? 503 : 400;
    return denial(policy, reasons, trace, status, pick.reason, pick.detail, { routeId });
  }
  reasons.push(model.pickReasons[pick.pickedIndex]!);

  // 5. Escalation chain, each hop with its own candidates and reservations (same keys, its own bounds).
  const escalation: EscalationHop[] = [];
  let q: QuotaOutcome | undefined;
  if (route && route.maxEscalations > 0) {
    for (const step of route.escalation) {
      if (!tenant.allows(step.to)) {
        trace?.push({
          rule: `escalate:${step.to}`,
          outcome: 'skipped',
          detail: `tenant may not use \`${step.to}\``,
        });
        continue;
      }
      const hopModel = policy.models.get(step.to)!;
      const hopOut = facts.maxTokens ?? hopModel.spec.maxOutputTokens;
      const hopPick = pickDeployments(hopModel, needs, facts.inputTokens + hopOut, snapshot, env, trace);
      if (!hopPick.ok) {
        trace?.push({ rule: `escalate:${step.to}`, outcome: 'skipped', detail: hopPick.detail });
        continue;
      }
      q ??= planCharges(tenant, facts, pick.candidates, outputTokens, snapshot, env);
      escalation.push(
        new PlannedHop(
          step.to,
          step.on,
          step.minLogprob,
          hopPick.candidates,
          q.charges,
          facts.inputTokens,
          hopOut,
        ),
      );
      trace?.push({ rule: `escalate:${step.to}`, outcome: 'applied', detail: `on ${step.on.join(', ')}` });
    }
  }

  // 6. Cache rule: first match wins (explain walks them all; decide asks the index).
  let cacheRule: CompiledCacheRule | undefined;
  if (trace) {
    for (const rule of policy.cacheRules) {
      if (rule.condition.test(facts)) {
        cacheRule = rule;
        break;
      }
      trace.push({
        rule: `cache:${rule.id}`,
        outcome: 'skipped',
        detail: rule.condition.whyNot(facts) ?? '',
      });
    }
  } else if (policy.cacheRules.length > 0) {
    cacheRule = firstMatchingRule(policy.cacheIndex, facts);
  }
  let cache: CachePlan | undefined;
  if (cacheRule !== undefined) {
    const spec = cacheRule.spec;
    const scope = spec.scope ?? 'key';
    const scopeValue = scope === 'tenant' ? facts.tenant : facts.keyId;
    cache = cacheRule.memo.get(scopeValue);
    if (cache === undefined) {
      if (cacheRule.memo.size >= memoLimit) cacheRule.memo.clear();
      cache = Object.freeze({
        ruleId: cacheRule.id,
        mode: spec.mode,
        ttlMs: spec.ttl,
        scope,
        scopeKey: `${scope}:${scopeValue}`,
        similarity: spec.similarity,
        embeddingModel: spec.embeddingModel,
        promptCache: spec.promptCache,
        countTokensOnHit: spec.countTokensOnHit,
      });
      cacheRule.memo.set(scopeValue, cache);
    }
    reasons.push(cacheRule.reason);
    trace?.push({
      rule: `cache:${cacheRule.id}`,
      outcome: 'applied',
      detail: `${spec.mode}, ttl ${spec.ttl} ms, scope ${scope}`,
    });
  }

  // 7. Rate limits, then quotas: both from the snapshot, refusing what would surely be refused.
  const rl = planLimits(tenant, facts, routeId, target, outputTokens, snapshot, env);
  if (rl.exceeded) {
    const l = rl.exceeded.limit;
    reasons.push({ rule: `ratelimit:${tenant.name}/${l.limitId}`, detail: `bucket short for ${l.per}` });
    return denial(
      policy,
      reasons,
      trace,
      429,
      'rate_limit_exceeded',
      `rate limit \`${l.limitId}\` of tenant \`${tenant.name}\` reached; retry after ${Math.ceil(rl.exceeded.retryAfterMs / 1000)} s`,
      {
        retryAfterMs: rl.exceeded.retryAfterMs,
        limit: l,
        routeId,
      },
    );
  }
  q ??= planCharges(tenant, facts, pick.candidates, outputTokens, snapshot, env);
  if (q.exceeded) {
    const c = q.exceeded;
    reasons.push({
      rule: `quota:${tenant.name}/${c.quotaId}`,
      detail: `${c.unit} per ${c.window} exhausted`,
    });
    return denial(
      policy,
      reasons,
      trace,
      429,
      'quota_exceeded',
      `quota \`${c.quotaId}\` of tenant \`${tenant.name}\` (${c.limit} ${c.unit} per ${c.window}) is used up until the window resets`,
      {
        retryAfterMs: c.windowEndMs - env.nowMs,
        limit: c,
        routeId,
      },
    );
  }

  return {
    kind: 'plan',
    policy: policy.id,
    routeId,
    target,
    candidates: pick.candidates,
    escalation,
    maxEscalations: Math.min(route?.maxEscalations ?? 0, escalation.length),
    cache,
    charges: q.charges,
    limits: rl.limits,
    experiment,
    resilience: policy.resilience.get(target)!,
    idempotent: route?.idempotent ?? true,
    maxOutputTokens: outputTokens,
    logContent: tenant.spec.logContent,
    onStoreFailure: tenant.spec.onStoreFailure,
    reasons,
  };
}
