import type { CompileContext } from '../../pipeline/compile-context.ts';

/** Checks the rollout plan: strictly increasing percentages that end at 100. */
export function checkRollout(ctx: CompileContext): void {
  const steps = ctx.spec.rollout.steps;
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) {
      ctx.error(
        'SY_POLICY_BAD_ROLLOUT',
        ['rollout', 'steps', i],
        `rollout steps must increase: ${steps[i - 1]} then ${steps[i]}`,
      );
      return;
    }
  }
  if (steps[steps.length - 1] !== 100)
    ctx.error(
      'SY_POLICY_BAD_ROLLOUT',
      ['rollout', 'steps'],
      `the last rollout step must be 100, got ${steps[steps.length - 1]}`,
    );
}
