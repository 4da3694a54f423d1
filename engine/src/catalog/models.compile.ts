import type { CompiledModel } from '../model/compiled-policy.ts';
import type { Deployment } from '../model/decision.ts';
import type { CompileContext } from '../pipeline/compile-context.ts';
import { capabilityBits } from './capability-bits.ts';

/** Resolves every logical model's deployments against the declared providers. */
export function compileModels(ctx: CompileContext): Map<string, CompiledModel> {
  const out = new Map<string, CompiledModel>();
  for (const [name, m] of Object.entries(ctx.spec.models)) {
    const seen = new Set<string>();
    const deployments: Deployment[] = [];
    m.deployments.forEach((d, i) => {
      const provider = ctx.spec.providers[d.provider];
      if (!provider) {
        if (!ctx.declared.providers.has(d.provider)) {
          const known = Object.keys(ctx.spec.providers)
            .map((p) => `\`${p}\``)
            .join(', ');
          ctx.error(
            'SY_POLICY_UNKNOWN_PROVIDER',
            ['models', name, 'deployments', i, 'provider'],
            `unknown provider \`${d.provider}\` (declared: ${known || 'none'})`,
          );
        }
        return;
      }
      const localId = d.id ?? `${d.provider}-${d.model}`.replace(/[^a-zA-Z0-9._-]/g, '_');
      if (seen.has(localId)) {
        ctx.error(
          'SY_POLICY_DUPLICATE_ID',
          ['models', name, 'deployments', i],
          `deployment id \`${localId}\` appears twice in model \`${name}\`; give one an \`id\``,
        );
        return;
      }
      seen.add(localId);
      deployments.push(
        Object.freeze({
          id: `${name}/${localId}`,
          logicalModel: name,
          providerName: d.provider,
          provider,
          model: d.model,
          weight: d.weight,
          price: {
            inPerMTok: d.price.inPerMTok,
            outPerMTok: d.price.outPerMTok,
            cachedInPerMTok: d.price.cachedInPerMTok ?? d.price.inPerMTok,
          },
          contextWindow: d.contextWindow ?? m.contextWindow,
          capabilities: d.capabilities ?? m.capabilities,
          maxConcurrent: d.maxConcurrent,
        }),
      );
    });
    const totalWeight = deployments.reduce((s, d) => s + d.weight, 0);
    if (deployments.length > 0 && totalWeight <= 0) {
      ctx.error(
        'SY_POLICY_ZERO_WEIGHTS',
        ['models', name, 'deployments'],
        `the deployment weights of model \`${name}\` sum to zero; give at least one a positive \`weight\``,
      );
    }
    // Fallback order after a pick: by descending weight, ties in declaration order.
    const byWeight = [...deployments].sort((a, b) => b.weight - a.weight);
    const orders = deployments.map((d) => Object.freeze([d, ...byWeight.filter((x) => x !== d)]));
    out.set(
      name,
      Object.freeze({
        name,
        spec: m,
        deployments: Object.freeze(deployments),
        totalWeight,
        orders: Object.freeze(orders),
        capabilityMasks: Object.freeze(deployments.map((d) => capabilityBits(d.capabilities))),
        pickReasons: Object.freeze(
          deployments.map((d) =>
            Object.freeze({
              rule: `deployment:${d.id}`,
              detail:
                deployments.length > 1
                  ? `weighted pick; ${deployments.length - 1} fallback(s)`
                  : 'only deployment',
            }),
          ),
        ),
      }),
    );
  }
  return out;
}
