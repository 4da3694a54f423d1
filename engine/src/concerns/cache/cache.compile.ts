import type { LogicProblem } from '../../logic/compile-json-logic.ts';
import type { CompiledPolicy } from '../../model/compiled-policy.ts';
import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';
import { compileCondition } from '../route/condition.compile.ts';

/**
 * Compiles cache rules: a scope is mandatory (an unscoped cache leaks answers across tenants), ids
 * are unique, semantic rules name an embedding-capable model, and conditions compile.
 */
export function compileCacheRules(ctx: CompileContext): CompiledPolicy['cacheRules'] {
  const ids = new Set<string>();
  return ctx.spec.cache.map((rule, i) => {
    const at = ['cache', i];
    if (ids.has(rule.id))
      ctx.error('SY_POLICY_DUPLICATE_ID', [...at, 'id'], `cache rule id \`${rule.id}\` is used twice`);
    ids.add(rule.id);
    if (rule.scope === undefined) {
      ctx.error(
        'SY_POLICY_CACHE_SCOPE_REQUIRED',
        at,
        `cache rule \`${rule.id}\` has no \`scope\`; add \`scope: key\` or \`scope: tenant\` so answers never cross tenants`,
      );
    }
    if (rule.mode === 'semantic') {
      if (rule.embeddingModel === undefined) {
        ctx.error(
          'SY_POLICY_MISSING_FIELD',
          at,
          `semantic cache rule \`${rule.id}\` needs an \`embeddingModel\``,
        );
      } else if (!isDeclaredModel(ctx, rule.embeddingModel)) {
        ctx.error(
          'SY_POLICY_UNKNOWN_MODEL',
          [...at, 'embeddingModel'],
          `cache rule \`${rule.id}\` names unknown model \`${rule.embeddingModel}\``,
        );
      } else {
        const caps = ctx.spec.models[rule.embeddingModel]?.capabilities;
        if (caps && !caps.includes('embedding'))
          ctx.error(
            'SY_POLICY_CAPABILITY_MISMATCH',
            [...at, 'embeddingModel'],
            `model \`${rule.embeddingModel}\` cannot embed; add \`embedding\` to its capabilities or pick another`,
          );
      }
    }
    const problems: LogicProblem[] = [];
    const condition = compileCondition(rule.match, rule.when, problems);
    ctx.logic(problems, [...at, 'when']);
    return Object.freeze({
      id: rule.id,
      index: i,
      condition,
      spec: rule,
      reason: Object.freeze({
        rule: `cache:${rule.id}`,
        detail: `${rule.mode} cache, scope ${rule.scope ?? 'key'}`,
      }),
      memo: new Map(),
    });
  });
}
