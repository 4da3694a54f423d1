import { compileModels } from '../catalog/models.compile.ts';
import { checkSecrets } from '../catalog/providers.compile.ts';
import { compileTenants } from '../catalog/tenants.compile.ts';
import { compileCacheRules } from '../concerns/cache/cache.compile.ts';
import { checkExperiments } from '../concerns/experiment/experiment.compile.ts';
import { checkResilience, resolveResilience } from '../concerns/resilience/resilience.compile.ts';
import { checkRollout } from '../concerns/rollout/rollout.compile.ts';
import { compileRoutes, indexRoutesByModel, indexRules } from '../concerns/route/route.compile.ts';
import type { Diagnostic } from '../errors.ts';
import { canonicalJson } from '../hash/canonical-json.ts';
import { sha256Hex } from '../hash/sha256.ts';
import type { CompiledPolicy, CompileResult, PolicyFile } from '../model/compiled-policy.ts';
import { createCompileContext } from './compile-context.ts';
import { parsePolicyFiles } from './parse.ts';
import { validatePolicy } from './validate.ts';

/** Options of `compilePolicy`. */
export interface CompileOptions {
  /** Environment variable names set where the policy is checked; enables `SY_POLICY_ENV_UNSET` warnings. */
  definedEnv?: ReadonlySet<string>;
  /** Stop reporting after this many errors (default 100). */
  maxErrors?: number;
}

function byLocation(a: Diagnostic, b: Diagnostic): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Compiles a policy from its files: parse (YAML with positions, files merged) → validate (schema,
 * entry by entry) → named stages (secrets, models, tenants, experiments, routes, cache, resilience,
 * rollout), reporting every error found up to the limit, each with `file:line:col` and a code.
 */
export function compilePolicy(files: readonly PolicyFile[], options: CompileOptions = {}): CompileResult {
  const maxErrors = options.maxErrors ?? 100;
  const parsed = parsePolicyFiles(files);
  // With a file unreadable, every schema error after it would be noise about content we cannot see.
  if (parsed.errors.some((e) => e.code === 'SY_POLICY_YAML_SYNTAX' || e.code === 'SY_POLICY_NO_FILES')) {
    return { ok: false, errors: parsed.errors.sort(byLocation).slice(0, maxErrors), warnings: [] };
  }
  const validated = validatePolicy(parsed);
  const ctx = createCompileContext(validated, parsed.source, options.definedEnv);

  checkSecrets(ctx);
  const models = compileModels(ctx);
  const tenants = compileTenants(ctx);
  checkExperiments(ctx);
  const routes = compileRoutes(ctx);
  const cacheRules = compileCacheRules(ctx);
  checkResilience(ctx);
  const resilience = resolveResilience(ctx);
  checkRollout(ctx);

  const all = [...parsed.errors, ...validated.errors, ...ctx.diagnostics].sort(byLocation);
  let errors = all.filter((d) => d.severity === 'error');
  const warnings = all.filter((d) => d.severity === 'warning');
  if (errors.length > maxErrors) {
    const last = errors[maxErrors - 1]!;
    errors = [
      ...errors.slice(0, maxErrors),
      {
        code: 'SY_POLICY_TOO_MANY_ERRORS',
        severity: 'error',
        message: `${errors.length - maxErrors} more error(s) not shown; fix these and run again`,
        file: last.file,
        line: last.line,
        col: last.col,
      },
    ];
  }
  if (errors.length > 0) return { ok: false, errors, warnings };

  const spec = deepFreeze(validated.spec);
  const routeIndex = indexRoutesByModel(routes);
  const hash = sha256Hex(canonicalJson(spec));
  const version = hash.slice(0, 12);
  const policy: CompiledPolicy = Object.freeze({
    name: spec.name,
    version,
    hash,
    id: `${spec.name}@${version}`,
    spec,
    sources: Object.freeze(files.map((f) => Object.freeze({ ...f }))),
    routes: Object.freeze(routes),
    routesByModel: routeIndex.byModel,
    routesForAnyModel: Object.freeze(routeIndex.any),
    models,
    tenants,
    cacheRules: Object.freeze(cacheRules),
    cacheIndex: indexRules(cacheRules),
    experiments: new Map(spec.experiments.map((e) => [e.id, e])),
    resilience,
    warnings: Object.freeze(warnings),
  });
  return { ok: true, policy, warnings };
}
