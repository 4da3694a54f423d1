import type { LogicProblem } from '../../logic/compile-json-logic.ts';
import type { CompiledRoute } from '../../model/compiled-policy.ts';
import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';
import { compileEscalation } from '../escalate/escalate.compile.ts';
import { compileCondition, matchSubsumes } from './condition.compile.ts';

/**
 * Compiles routes in order: unique ids, a declared target or experiment (not both), JSON Logic
 * conditions, escalation chains, and routes made unreachable by an earlier, broader route.
 */
export function compileRoutes(ctx: CompileContext): CompiledRoute[] {
  const seen = new Map<string, number>();
  const out: CompiledRoute[] = [];
  ctx.spec.routes.forEach((r, i) => {
    const at = ['routes', i];
    if (seen.has(r.id)) ctx.error('SY_POLICY_DUPLICATE_ID', [...at, 'id'], `route id \`${r.id}\` is already used by routes[${seen.get(r.id)}]`);
    seen.set(r.id, i);
    if (r.target === undefined && r.experiment === undefined) ctx.error('SY_POLICY_MISSING_FIELD', at, `route \`${r.id}\` needs a \`target\` or an \`experiment\``);
    if (r.target !== undefined && r.experiment !== undefined) ctx.error('SY_POLICY_INVALID_VALUE', [...at, 'experiment'], `route \`${r.id}\` sets both \`target\` and \`experiment\`; keep one`);
    if (r.target !== undefined && !isDeclaredModel(ctx, r.target)) ctx.error('SY_POLICY_UNKNOWN_MODEL', [...at, 'target'], `route \`${r.id}\` targets unknown model \`${r.target}\``);
    let armTargets: string[] = [];
    if (r.experiment !== undefined) {
      if (!ctx.declared.experiments.has(r.experiment)) ctx.error('SY_POLICY_UNKNOWN_EXPERIMENT', [...at, 'experiment'], `route \`${r.id}\` names unknown experiment \`${r.experiment}\``);
      armTargets = ctx.spec.experiments.find((e) => e.id === r.experiment)?.arms.map((a) => a.target) ?? [];
    }
    const problems: LogicProblem[] = [];
    const condition = compileCondition(r.match, r.when, problems);
    ctx.logic(problems, [...at, 'when']);
    // An escalation hop must be stronger than every model the route may start on.
    const starts = r.target !== undefined ? [r.target] : armTargets;
    const escalation = compileEscalation(ctx, r, i, starts);
    out.push(
      Object.freeze({
        id: r.id,
        index: i,
        condition,
        target: r.target,
        experiment: r.experiment,
        escalation: escalation.steps,
        maxEscalations: escalation.maxHops,
        idempotent: r.idempotent,
      }),
    );
  });
  // Unreachable routes: after a catch-all, or after a broader declarative match.
  for (let j = 1; j < ctx.spec.routes.length; j++) {
    const later = ctx.spec.routes[j]!;
    for (let i = 0; i < j; i++) {
      const earlier = ctx.spec.routes[i]!;
      const earlierIsPure = earlier.when === undefined || earlier.when === true;
      if (earlierIsPure && matchSubsumes(earlier.match, later.match)) {
        const why = earlier.match === undefined ? 'matches every request' : 'matches every request this one would';
        ctx.error('SY_POLICY_UNREACHABLE_ROUTE', ['routes', j, 'id'], `route \`${later.id}\` is unreachable: route \`${earlier.id}\` (routes[${i}]) ${why}; move it below or narrow the earlier one`);
        break;
      }
    }
  }
  return out;
}
