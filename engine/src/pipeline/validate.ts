import type { z } from 'zod';
import { modelSchema } from '../catalog/models.schema.ts';
import { providerSchema } from '../catalog/providers.schema.ts';
import { tenantSchema } from '../catalog/tenants.schema.ts';
import { cacheRuleSchema } from '../concerns/cache/cache.schema.ts';
import { experimentSchema } from '../concerns/experiment/experiment.schema.ts';
import { gateSchema } from '../concerns/gate/gate.schema.ts';
import { resilienceSchema } from '../concerns/resilience/resilience.schema.ts';
import { rolloutSchema } from '../concerns/rollout/rollout.schema.ts';
import { routeSchema } from '../concerns/route/route.schema.ts';
import type { Diagnostic, PolicyErrorCode } from '../errors.ts';
import { isPlainObject, type ParsedPolicy } from './parse.ts';
import { type PolicySpec, policySchema } from './policy.schema.ts';
import { locate, type SourceNode } from './source-map.ts';

/**
 * The validated parts of a policy. Entries that failed validation are left out of `spec` but their
 * names stay in `declared`, so later stages report no spurious "unknown model" for them.
 */
export interface ValidatedPolicy {
  spec: PolicySpec;
  declared: { providers: Set<string>; models: Set<string>; experiments: Set<string> };
  /** Whether every part validated (later stages may then assume completeness). */
  complete: boolean;
  errors: Diagnostic[];
}

const nameRe = /^[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `\`${v.length > 40 ? `${v.slice(0, 40)}…` : v}\``;
  return `\`${String(v)}\``;
}

function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)),
    '',
  );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** Turns one zod issue into a diagnostic pointing at its source. */
function issueToDiagnostics(
  issue: z.core.$ZodIssue,
  base: readonly PropertyKey[],
  raw: unknown,
  src: SourceNode,
): Diagnostic[] {
  const path = [...base, ...issue.path];
  const where = pathText(path);
  const got = valueAt(raw, issue.path);
  const out = (
    code: PolicyErrorCode,
    p: readonly PropertyKey[],
    message: string,
    preferValue = true,
  ): Diagnostic => ({
    code,
    severity: 'error',
    message,
    ...locate(src, p, preferValue),
  });
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) =>
        out(
          'SY_POLICY_UNKNOWN_FIELD',
          [...path, k],
          `unknown field \`${k}\` in \`${where || 'policy'}\``,
          false,
        ),
      );
    case 'invalid_type':
      if (got === undefined)
        return [
          out('SY_POLICY_MISSING_FIELD', path, `\`${where}\` is required (expected ${issue.expected})`),
        ];
      return [
        out(
          'SY_POLICY_INVALID_VALUE',
          path,
          `expected \`${where}\` to be ${issue.expected}, got ${describe(got)}`,
        ),
      ];
    case 'invalid_value':
      if (got === undefined)
        return [
          out(
            'SY_POLICY_MISSING_FIELD',
            path,
            `\`${where}\` is required (${issue.values.map((v) => `\`${String(v)}\``).join(' or ')})`,
          ),
        ];
      return [
        out(
          'SY_POLICY_INVALID_VALUE',
          path,
          `expected \`${where}\` to be one of ${issue.values.map((v) => `\`${String(v)}\``).join(', ')}, got ${describe(got)}`,
        ),
      ];
    case 'invalid_format':
      if (issue.message.includes('${env:'))
        return [out('SY_POLICY_INLINE_SECRET', path, `\`${where}\`: ${issue.message}`)];
      return [
        out(
          'SY_POLICY_INVALID_VALUE',
          path,
          `\`${where}\` has an invalid format, got ${describe(got)} (allowed: letters, digits, \`.\`, \`_\`, \`-\`)`,
        ),
      ];
    case 'invalid_union':
      return [
        out(
          'SY_POLICY_INVALID_VALUE',
          path,
          `\`${where}\` does not have any of the allowed forms, got ${describe(got)}`,
        ),
      ];
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? 'at least' : 'at most';
      const what =
        issue.origin === 'array'
          ? `${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)} item(s)`
          : `${bound} ${String(issue.code === 'too_small' ? issue.minimum : issue.maximum)}`;
      return [
        out('SY_POLICY_INVALID_VALUE', path, `expected \`${where}\` to be ${what}, got ${describe(got)}`),
      ];
    }
    default:
      return [
        out(
          'SY_POLICY_INVALID_VALUE',
          path,
          `\`${where || 'policy'}\`: ${issue.message.charAt(0).toLowerCase()}${issue.message.slice(1)}`,
        ),
      ];
  }
}

/**
 * Validates the merged raw policy against the schema, entry by entry, collecting every error with
 * its location, and returns what validated.
 */
export function validatePolicy(parsed: ParsedPolicy): ValidatedPolicy {
  const { value: raw, source } = parsed;
  const errors: Diagnostic[] = [];
  let complete = true;
  const declared = {
    providers: new Set<string>(),
    models: new Set<string>(),
    experiments: new Set<string>(),
  };

  function check<S extends z.ZodType>(
    schema: S,
    input: unknown,
    path: readonly PropertyKey[],
  ): z.output<S> | undefined {
    const r = schema.safeParse(input);
    if (r.success) return r.data;
    complete = false;
    for (const issue of r.error.issues) errors.push(...issueToDiagnostics(issue, path, input, source));
    return undefined;
  }

  const known = new Set(Object.keys(policySchema.shape));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      complete = false;
      errors.push({
        code: 'SY_POLICY_UNKNOWN_FIELD',
        severity: 'error',
        message: `unknown section \`${key}\``,
        ...locate(source, [key]),
      });
    }
  }

  const top = check(
    policySchema.pick({ apiVersion: true, name: true, description: true }),
    { apiVersion: raw.apiVersion, name: raw.name, description: raw.description },
    [],
  );

  function record<S extends z.ZodType>(
    section: 'providers' | 'models' | 'tenants',
    schema: S,
    required: boolean,
  ): Record<string, z.output<S>> {
    const out: Record<string, z.output<S>> = {};
    const input = raw[section];
    if (input === undefined || input === null) {
      if (required) {
        complete = false;
        errors.push({
          code: 'SY_POLICY_MISSING_FIELD',
          severity: 'error',
          message: `section \`${section}\` is required`,
          ...source.loc,
        });
      }
      return out;
    }
    if (!isPlainObject(input)) {
      complete = false;
      errors.push({
        code: 'SY_POLICY_INVALID_VALUE',
        severity: 'error',
        message: `expected \`${section}\` to be a mapping of names, got ${describe(input)}`,
        ...locate(source, [section], true),
      });
      return out;
    }
    for (const [name, entry] of Object.entries(input)) {
      if (section !== 'tenants') declared[section].add(name);
      if (!nameRe.test(name)) {
        complete = false;
        errors.push({
          code: 'SY_POLICY_INVALID_VALUE',
          severity: 'error',
          message: `\`${section}.${name}\`: names use letters, digits, \`.\`, \`_\` and \`-\``,
          ...locate(source, [section, name]),
        });
        continue;
      }
      const v = check(schema, entry, [section, name]);
      if (v !== undefined) out[name] = v;
    }
    return out;
  }

  function list<S extends z.ZodType>(section: 'routes' | 'experiments' | 'cache', schema: S): z.output<S>[] {
    const input = raw[section];
    if (input === undefined || input === null) return [];
    if (!Array.isArray(input)) {
      complete = false;
      errors.push({
        code: 'SY_POLICY_INVALID_VALUE',
        severity: 'error',
        message: `expected \`${section}\` to be a list, got ${describe(input)}`,
        ...locate(source, [section], true),
      });
      return [];
    }
    const out: z.output<S>[] = [];
    input.forEach((item, i) => {
      if (section === 'experiments' && isPlainObject(item) && typeof item.id === 'string')
        declared.experiments.add(item.id);
      const v = check(schema, item, [section, i]);
      if (v !== undefined) out.push(v);
    });
    return out;
  }

  const providers = record('providers', providerSchema, true);
  const models = record('models', modelSchema, true);
  const tenants = record('tenants', tenantSchema, false);
  const routes = list('routes', routeSchema);
  const experiments = list('experiments', experimentSchema);
  const cache = list('cache', cacheRuleSchema);
  const resilience =
    check(resilienceSchema, raw.resilience ?? {}, ['resilience']) ?? resilienceSchema.parse({});
  const rollout = check(rolloutSchema, raw.rollout ?? {}, ['rollout']) ?? rolloutSchema.parse({});
  const gate = check(gateSchema, raw.gate ?? {}, ['gate']) ?? gateSchema.parse({});

  const spec: PolicySpec = {
    apiVersion: 'switchyard/v1',
    name: top?.name ?? 'invalid',
    ...(top?.description === undefined ? {} : { description: top.description }),
    providers,
    models,
    tenants,
    routes,
    experiments,
    cache,
    resilience,
    rollout,
    gate,
  };
  return { spec, declared, complete, errors };
}
