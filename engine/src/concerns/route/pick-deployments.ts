import { capabilityNames } from '../../catalog/capability-bits.ts';
import type { CompiledModel } from '../../model/compiled-policy.ts';
import type { Deployment, TraceStep } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';

/** Why no deployment of a model could take a request. */
export type NoDeploymentReason =
  | 'unsupported_capability'
  | 'context_length_exceeded'
  | 'no_healthy_deployment';

/** Ordered candidates and the index of the one picked first, or why there are none. */
export type DeploymentPick =
  | { ok: true; candidates: readonly Deployment[]; pickedIndex: number }
  | { ok: false; reason: NoDeploymentReason; detail: string };

function weightedIndex(model: CompiledModel, eligible: readonly number[] | undefined, env: Env): number {
  const ds = model.deployments;
  if (eligible === undefined) {
    if (ds.length === 1 || model.totalWeight <= 0) return 0;
    let r = env.random() * model.totalWeight;
    for (let i = 0; i < ds.length; i++) {
      r -= ds[i]!.weight;
      if (r < 0) return i;
    }
    return ds.length - 1;
  }
  let total = 0;
  for (const i of eligible) total += ds[i]!.weight;
  if (eligible.length === 1 || total <= 0) return eligible[0]!;
  let r = env.random() * total;
  for (const i of eligible) {
    r -= ds[i]!.weight;
    if (r < 0) return i;
  }
  return eligible[eligible.length - 1]!;
}

/**
 * Orders a model's deployments for one request: those lacking a needed capability (`needs` is a
 * capability bit mask), too small a context window, or an open breaker are skipped; among the rest
 * one is picked by weight with `env.random` and goes first, the others follow by descending weight
 * as fallbacks. When nothing is skipped (the usual case) the order is a precomputed array.
 */
export function pickDeployments(
  model: CompiledModel,
  needs: number,
  tokensNeeded: number,
  snapshot: StateSnapshot,
  env: Env,
  trace: TraceStep[] | undefined,
): DeploymentPick {
  const ds = model.deployments;
  const breakers = snapshot.breakers;
  let eligible: number[] | undefined;
  let capable = 0;
  let fits = 0;
  let skipped = false;
  for (let i = 0; i < ds.length; i++) {
    const d = ds[i]!;
    let why: string | undefined;
    if ((model.capabilityMasks[i]! & needs) !== needs) {
      why = trace
        ? `lacks capability ${capabilityNames(needs & ~model.capabilityMasks[i]!)
            .map((c) => `\`${c}\``)
            .join(', ')}`
        : '';
    } else {
      capable++;
      if (tokensNeeded > d.contextWindow)
        why = trace ? `needs ${tokensNeeded} tokens, context window is ${d.contextWindow}` : '';
      else {
        fits++;
        if (breakers !== undefined && breakers[d.id] === 'open') why = 'breaker open';
      }
    }
    if (why !== undefined) {
      trace?.push({ rule: `deployment:${d.id}`, outcome: 'skipped', detail: why });
      if (!skipped) {
        skipped = true;
        eligible = [];
        for (let j = 0; j < i; j++) eligible.push(j);
      }
    } else if (skipped) eligible!.push(i);
  }
  if (skipped && eligible!.length === 0) {
    if (capable === 0)
      return {
        ok: false,
        reason: 'unsupported_capability',
        detail: `no deployment of \`${model.name}\` supports ${capabilityNames(needs)
          .map((n) => `\`${n}\``)
          .join(', ')}`,
      };
    if (fits === 0)
      return {
        ok: false,
        reason: 'context_length_exceeded',
        detail: `the request needs ${tokensNeeded} tokens, more than any deployment of \`${model.name}\` allows`,
      };
    return {
      ok: false,
      reason: 'no_healthy_deployment',
      detail: `every deployment of \`${model.name}\` has an open breaker`,
    };
  }
  const picked = weightedIndex(model, eligible, env);
  const order = model.orders[picked]!;
  const candidates = skipped ? order.filter((d) => eligible!.includes(ds.indexOf(d))) : order;
  trace?.push({
    rule: `deployment:${ds[picked]!.id}`,
    outcome: 'applied',
    detail:
      candidates.length > 1
        ? `picked by weight (${ds[picked]!.weight} of ${candidates.reduce((s, d) => s + d.weight, 0)})`
        : 'only eligible deployment',
  });
  return { ok: true, candidates, pickedIndex: picked };
}
