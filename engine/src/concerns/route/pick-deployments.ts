import type { Capability } from '../../catalog/models.schema.ts';
import type { CompiledModel } from '../../model/compiled-policy.ts';
import type { Deployment, TraceStep } from '../../model/decision.ts';
import type { Env } from '../../model/env.ts';
import type { StateSnapshot } from '../../model/snapshot.ts';

/** Why no deployment of a model could take a request. */
export type NoDeploymentReason = 'unsupported_capability' | 'context_length_exceeded' | 'no_healthy_deployment';

/** Ordered candidates, or why there are none. */
export type DeploymentPick = { ok: true; candidates: Deployment[]; picked: Deployment } | { ok: false; reason: NoDeploymentReason; detail: string };

/**
 * Orders a model's deployments for one request: those lacking a needed capability, too small a
 * context window, or an open breaker are skipped; among the rest one is picked by weight with
 * `env.random` and goes first, the others follow by descending weight as fallbacks.
 */
export function pickDeployments(
  model: CompiledModel,
  needs: readonly Capability[],
  tokensNeeded: number,
  snapshot: StateSnapshot,
  env: Env,
  trace: TraceStep[] | undefined,
): DeploymentPick {
  let eligible: Deployment[] | undefined;
  let capable = 0;
  let fits = 0;
  for (const d of model.deployments) {
    let missing: Capability | undefined;
    for (const n of needs) if (!d.capabilities.includes(n)) missing = n;
    if (missing !== undefined) {
      trace?.push({ rule: `deployment:${d.id}`, outcome: 'skipped', detail: `lacks capability \`${missing}\`` });
      continue;
    }
    capable++;
    if (tokensNeeded > d.contextWindow) {
      trace?.push({ rule: `deployment:${d.id}`, outcome: 'skipped', detail: `needs ${tokensNeeded} tokens, context window is ${d.contextWindow}` });
      continue;
    }
    fits++;
    if (snapshot.breakers?.[d.id] === 'open') {
      trace?.push({ rule: `deployment:${d.id}`, outcome: 'skipped', detail: 'breaker open' });
      continue;
    }
    (eligible ??= []).push(d);
  }
  if (!eligible) {
    if (capable === 0) return { ok: false, reason: 'unsupported_capability', detail: `no deployment of \`${model.name}\` supports ${needs.map((n) => `\`${n}\``).join(', ')}` };
    if (fits === 0) return { ok: false, reason: 'context_length_exceeded', detail: `the request needs ${tokensNeeded} tokens, more than any deployment of \`${model.name}\` allows` };
    return { ok: false, reason: 'no_healthy_deployment', detail: `every deployment of \`${model.name}\` has an open breaker` };
  }
  let picked = eligible[0]!;
  if (eligible.length > 1) {
    let total = 0;
    for (const d of eligible) total += d.weight;
    if (total > 0) {
      let r = env.random() * total;
      for (const d of eligible) {
        r -= d.weight;
        if (r < 0) {
          picked = d;
          break;
        }
      }
    }
    eligible.sort((a, b) => (a === picked ? -1 : b === picked ? 1 : b.weight - a.weight));
  }
  trace?.push({ rule: `deployment:${picked.id}`, outcome: 'applied', detail: eligible.length > 1 ? `picked by weight (${picked.weight} of ${eligible.reduce((s, d) => s + d.weight, 0)})` : 'only eligible deployment' });
  return { ok: true, candidates: eligible, picked };
}
