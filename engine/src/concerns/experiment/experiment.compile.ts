import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';

/** Checks experiments: unique experiment and arm ids, declared arm targets, weights above zero. */
export function checkExperiments(ctx: CompileContext): void {
  const ids = new Set<string>();
  ctx.spec.experiments.forEach((e, i) => {
    if (ids.has(e.id))
      ctx.error(
        'SY_POLICY_DUPLICATE_ID',
        ['experiments', i, 'id'],
        `experiment id \`${e.id}\` is used twice`,
      );
    ids.add(e.id);
    const arms = new Set<string>();
    e.arms.forEach((a, j) => {
      if (arms.has(a.id))
        ctx.error(
          'SY_POLICY_DUPLICATE_ID',
          ['experiments', i, 'arms', j, 'id'],
          `arm id \`${a.id}\` is used twice in experiment \`${e.id}\``,
        );
      arms.add(a.id);
      if (!isDeclaredModel(ctx, a.target))
        ctx.error(
          'SY_POLICY_UNKNOWN_MODEL',
          ['experiments', i, 'arms', j, 'target'],
          `arm \`${a.id}\` of experiment \`${e.id}\` targets unknown model \`${a.target}\``,
        );
    });
    if (e.arms.reduce((s, a) => s + a.weight, 0) <= 0)
      ctx.error(
        'SY_POLICY_ZERO_WEIGHTS',
        ['experiments', i, 'arms'],
        `the arm weights of experiment \`${e.id}\` sum to zero`,
      );
  });
}
