import type { LogicProblem } from '../../logic/compile-json-logic.ts';
import type { CompiledRoute, IndexedRule, RouteIndex } from '../../model/compiled-policy.ts';
import type { RequestFacts } from '../../model/facts.ts';
import { type CompileContext, isDeclaredModel } from '../../pipeline/compile-context.ts';
import { compileEscalation } from '../escalate/escalate.compile.ts';
import { compileCondition, matchSubsumes } from './condition.compile.ts';

function push<K, T>(map: Map<K, T[]>, key: K, route: T): void {
  const list = map.get(key);
  if (list) list.push(route);
  else map.set(key, [route]);
}

/** Builds the index of a list of rules (see `RouteIndex`): routes of one model bucket, or cache rules. */
export function indexRules<T extends IndexedRule>(routes: readonly T[]): RouteIndex<T> {
  const rest: T[] = [];
  const byTag = new Map<string, T[]>();
  const byTenant = new Map<string, T[]>();
  const byMetadata = new Map<string, Map<string, T[]>>();
  for (const r of routes) {
    const c = r.condition;
    const whenMeta = c.whenEqualities?.find((e) => e.fact.startsWith('metadata.'));
    const whenTenant = c.whenEqualities?.find((e) => e.fact === 'tenant');
    const meta: [string, string] | undefined = c.metadata
      ? Object.entries(c.metadata)[0]
      : whenMeta
        ? [whenMeta.fact.slice('metadata.'.length), whenMeta.value]
        : undefined;
    const tenants = c.tenants ?? (whenTenant ? [whenTenant.value] : undefined);
    if (c.tags?.length) push(byTag, c.tags[0]!, r);
    else if (meta) {
      let byValue = byMetadata.get(meta[0]);
      if (!byValue) {
        byValue = new Map();
        byMetadata.set(meta[0], byValue);
      }
      push(byValue, meta[1], r);
    } else if (tenants?.length) for (const t of tenants) push(byTenant, t, r);
    else rest.push(r);
  }
  return { rest, byTag, byTenant, byMetadata };
}

/**
 * Indexes routes by the requested model they can match (routes naming it and routes naming no
 * model), then within that by tag, tenant or metadata, so `decide()` tests only routes that can match.
 */
export function indexRoutesByModel(routes: readonly CompiledRoute[]): {
  byModel: Map<string, RouteIndex>;
  any: RouteIndex;
} {
  const byModel = new Map<string, RouteIndex>();
  for (const model of new Set(routes.flatMap((r) => r.condition.models ?? []))) {
    byModel.set(
      model,
      indexRules(
        routes.filter((r) => r.condition.models === undefined || r.condition.models.includes(model)),
      ),
    );
  }
  return { byModel, any: indexRules(routes.filter((r) => r.condition.models === undefined)) };
}

/** The first rule in policy order whose condition holds, among those the index says can match. */
export function firstMatchingRule<T extends IndexedRule>(
  index: RouteIndex<T>,
  facts: RequestFacts,
): T | undefined {
  // Selective lists first: a match there bounds how far the unindexed (often `when`) rules are scanned.
  let best: T | undefined;
  if (index.byTag.size > 0) for (const tag of facts.tags) best = firstIn(index.byTag.get(tag), facts, best);
  if (index.byTenant.size > 0) best = firstIn(index.byTenant.get(facts.tenant), facts, best);
  if (index.byMetadata.size > 0) {
    for (const key in facts.metadata) {
      const byValue = index.byMetadata.get(key);
      if (byValue !== undefined) best = firstIn(byValue.get(facts.metadata[key]!), facts, best);
    }
  }
  return firstIn(index.rest, facts, best);
}

function firstIn<T extends IndexedRule>(
  list: readonly T[] | undefined,
  facts: RequestFacts,
  best: T | undefined,
): T | undefined {
  if (list === undefined) return best;
  for (let i = 0; i < list.length; i++) {
    const r = list[i]!;
    if (best !== undefined && r.index >= best.index) return best;
    if (r.condition.test(facts)) return r;
  }
  return best;
}

/**
 * Compiles routes in order: unique ids, a declared target or experiment (not both), JSON Logic
 * conditions, escalation chains, and routes made unreachable by an earlier, broader route.
 */
export function compileRoutes(ctx: CompileContext): CompiledRoute[] {
  const seen = new Map<string, number>();
  const out: CompiledRoute[] = [];
  ctx.spec.routes.forEach((r, i) => {
    const at = ['routes', i];
    if (seen.has(r.id))
      ctx.error(
        'SY_POLICY_DUPLICATE_ID',
        [...at, 'id'],
        `route id \`${r.id}\` is already used by routes[${seen.get(r.id)}]`,
      );
    seen.set(r.id, i);
    if (r.target === undefined && r.experiment === undefined)
      ctx.error('SY_POLICY_MISSING_FIELD', at, `route \`${r.id}\` needs a \`target\` or an \`experiment\``);
    if (r.target !== undefined && r.experiment !== undefined)
      ctx.error(
        'SY_POLICY_INVALID_VALUE',
        [...at, 'experiment'],
        `route \`${r.id}\` sets both \`target\` and \`experiment\`; keep one`,
      );
    if (r.target !== undefined && !isDeclaredModel(ctx, r.target))
      ctx.error(
        'SY_POLICY_UNKNOWN_MODEL',
        [...at, 'target'],
        `route \`${r.id}\` targets unknown model \`${r.target}\``,
      );
    let armTargets: string[] = [];
    if (r.experiment !== undefined) {
      if (!ctx.declared.experiments.has(r.experiment))
        ctx.error(
          'SY_POLICY_UNKNOWN_EXPERIMENT',
          [...at, 'experiment'],
          `route \`${r.id}\` names unknown experiment \`${r.experiment}\``,
        );
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
        reason: Object.freeze({ rule: `route:${r.id}`, detail: `first matching route (routes[${i}])` }),
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
        const why =
          earlier.match === undefined ? 'matches every request' : 'matches every request this one would';
        ctx.error(
          'SY_POLICY_UNREACHABLE_ROUTE',
          ['routes', j, 'id'],
          `route \`${later.id}\` is unreachable: route \`${earlier.id}\` (routes[${i}]) ${why}; move it below or narrow the earlier one`,
        );
        break;
      }
    }
  }
  return out;
}
