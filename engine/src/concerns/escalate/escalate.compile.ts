import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';
import type { RouteSpec } from '../route/route.schema.ts';
import type { EscalationTrigger } from './escalate.schema.ts';

/** A route's escalation chain, normalised. */
export interface CompiledEscalation {
  steps: { to: string; on: readonly EscalationTrigger[]; minLogprob: number }[];
  maxHops: number;
}

/**
 * Normalises a route's escalation chain and checks it: every hop names a declared model, and no
 * model appears twice in `target → to → to …` (a cycle would escalate forever).
 */
export function compileEscalation(
  ctx: CompileContext,
  route: RouteSpec,
  index: number,
  targets: readonly string[],
): CompiledEscalation {
  const spec = route.escalate;
  if (!spec) return { steps: [], maxHops: 0 };
  const steps = Array.isArray(spec) ? spec : spec.steps;
  const base: PropertyKey[] = Array.isArray(spec)
    ? ['routes', index, 'escalate']
    : ['routes', index, 'escalate', 'steps'];
  const chain = [...targets];
  steps.forEach((s, i) => {
    if (!isDeclaredModel(ctx, s.to)) {
      ctx.error(
        'SY_POLICY_UNKNOWN_MODEL',
        [...base, i, 'to'],
        `route \`${route.id}\` escalates to unknown model \`${s.to}\``,
      );
    } else if (chain.includes(s.to)) {
      ctx.error(
        'SY_POLICY_ESCALATION_CYCLE',
        [...base, i, 'to'],
        `route \`${route.id}\` escalation loops: ${[...chain, s.to].map((m) => `\`${m}\``).join(' → ')}`,
      );
    }
    chain.push(s.to);
  });
  const maxHops = Array.isArray(spec) ? steps.length : Math.min(spec.maxHops ?? steps.length, steps.length);
  return { steps: steps.map((s) => ({ to: s.to, on: s.on, minLogprob: s.minLogprob ?? -1 })), maxHops };
}
