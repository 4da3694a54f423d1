import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';
import type { ResilienceSettings } from './resilience.schema.ts';

/** Checks that per-model resilience overrides name declared models. */
export function checkResilience(ctx: CompileContext): void {
  for (const model of Object.keys(ctx.spec.resilience.overrides)) {
    if (!isDeclaredModel(ctx, model))
      ctx.error(
        'SY_POLICY_UNKNOWN_MODEL',
        ['resilience', 'overrides', model],
        `resilience override for unknown model \`${model}\``,
      );
  }
}

/** The resilience settings for each logical model: the global ones with its override merged in. */
export function resolveResilience(ctx: CompileContext): Map<string, ResilienceSettings> {
  const { overrides, ...global } = ctx.spec.resilience;
  const out = new Map<string, ResilienceSettings>();
  for (const model of Object.keys(ctx.spec.models)) {
    const o = overrides[model];
    out.set(
      model,
      Object.freeze(
        o
          ? {
              timeouts: { ...global.timeouts, ...o.timeouts },
              retry: { ...global.retry, ...o.retry },
              breaker: { ...global.breaker, ...o.breaker },
              queue: { ...global.queue, ...o.queue },
            }
          : global,
      ),
    );
  }
  return out;
}
