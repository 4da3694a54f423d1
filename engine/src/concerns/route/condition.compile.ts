import type { z } from 'zod';
import { compileJsonLogic, type LogicFn, type LogicProblem, truthy } from '../../logic/compile-json-logic.ts';
import type { CompiledCondition } from '../../model/compiled-policy.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { matchSchema } from './route.schema.ts';

type MatchSpec = z.output<typeof matchSchema>;

const oneOf = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

/** A condition as plain data, matched by one monomorphic function (no closure per check). */
interface ConditionData {
  models: readonly string[] | undefined;
  endpoints: readonly string[] | undefined;
  tenants: readonly string[] | undefined;
  stream: boolean | undefined;
  hasTools: boolean | undefined;
  tags: readonly string[] | undefined;
  metaKeys: readonly string[] | undefined;
  metaValues: readonly string[] | undefined;
  when: LogicFn | undefined;
}

function has(list: readonly string[], v: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === v) return true;
  return false;
}

function matches(c: ConditionData, f: RequestFacts): boolean {
  if (c.models !== undefined && !has(c.models, f.model)) return false;
  if (c.endpoints !== undefined && !has(c.endpoints, f.endpoint)) return false;
  if (c.tenants !== undefined && !has(c.tenants, f.tenant)) return false;
  if (c.stream !== undefined && f.stream !== c.stream) return false;
  if (c.hasTools !== undefined && f.hasTools !== c.hasTools) return false;
  if (c.tags !== undefined)
    for (let i = 0; i < c.tags.length; i++) if (!has(f.tags, c.tags[i]!)) return false;
  if (c.metaKeys !== undefined)
    for (let i = 0; i < c.metaKeys.length; i++)
      if (f.metadata[c.metaKeys[i]!] !== c.metaValues![i]) return false;
  return c.when === undefined || truthy(c.when(f));
}

/**
 * Equalities on `tenant` or `metadata.<key>` with a string literal that a `when` requires: at its top
 * level or in a top-level `and`. The route index can use them like declarative conditions.
 */
export function requiredEqualities(when: unknown): { fact: string; value: string }[] {
  if (when === null || typeof when !== 'object' || Array.isArray(when)) return [];
  const [op, args] = Object.entries(when)[0] ?? [];
  if (op === 'and' && Array.isArray(args)) return args.flatMap(requiredEqualities);
  if ((op !== '==' && op !== '===') || !Array.isArray(args) || args.length !== 2) return [];
  const [x, y] = args as unknown[];
  const varOf = (v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as { var?: unknown }).var === 'string'
      ? (v as { var: string }).var
      : undefined;
  const fact = varOf(x) ?? varOf(y);
  const value = typeof y === 'string' ? y : typeof x === 'string' ? x : undefined;
  if (fact === undefined || value === undefined || !(fact === 'tenant' || fact.startsWith('metadata.')))
    return [];
  return [{ fact, value }];
}

/**
 * Compiles a rule's `match` (declarative conditions) and `when` (JSON Logic) into one predicate.
 * Cheap equality checks run first and nothing is allocated while matching.
 */
export function compileCondition(
  match: MatchSpec | undefined,
  when: unknown,
  problems: LogicProblem[],
): CompiledCondition {
  const c: ConditionData = {
    models: match?.model === undefined ? undefined : oneOf(match.model),
    endpoints: match?.endpoint === undefined ? undefined : oneOf(match.endpoint),
    tenants: match?.tenant === undefined ? undefined : oneOf(match.tenant),
    stream: match?.stream,
    hasTools: match?.hasTools,
    tags: match?.tags,
    metaKeys: match?.metadata ? Object.keys(match.metadata) : undefined,
    metaValues: match?.metadata ? Object.values(match.metadata) : undefined,
    when: when !== undefined && when !== true ? compileJsonLogic(when, problems) : undefined,
  };
  const isCatchAll = Object.values(c).every((v) => v === undefined);
  return {
    isCatchAll,
    models: c.models,
    tenants: c.tenants,
    tags: c.tags,
    metadata: match?.metadata,
    whenEqualities: c.when ? requiredEqualities(when) : [],
    test: isCatchAll ? () => true : (f) => matches(c, f),
    whyNot(f) {
      if (c.models && !has(c.models, f.model))
        return `model \`${f.model}\` is not ${c.models.map((m) => `\`${m}\``).join(' or ')}`;
      if (c.endpoints && !has(c.endpoints, f.endpoint))
        return `endpoint \`${f.endpoint}\` is not ${c.endpoints.join(' or ')}`;
      if (c.tenants && !has(c.tenants, f.tenant))
        return `tenant \`${f.tenant}\` is not ${c.tenants.map((t) => `\`${t}\``).join(' or ')}`;
      if (c.stream !== undefined && f.stream !== c.stream) return `stream is not ${c.stream}`;
      if (c.hasTools !== undefined && f.hasTools !== c.hasTools) return `hasTools is not ${c.hasTools}`;
      const missing = c.tags?.filter((t) => !f.tags.includes(t));
      if (missing?.length) return `missing tag(s) ${missing.map((t) => `\`${t}\``).join(', ')}`;
      const wrong = c.metaKeys?.filter((k, i) => f.metadata[k] !== c.metaValues![i]);
      if (wrong?.length)
        return `metadata ${wrong.map((k) => `${k}=\`${c.metaValues![c.metaKeys!.indexOf(k)]}\``).join(', ')} not present`;
      if (c.when && !truthy(c.when(f))) return '`when` is false';
      return undefined;
    },
  };
}

/**
 * Whether every request an earlier rule's `match` admits includes all a later rule's would: then the
 * later rule can never be reached. Only decided for rules without `when` on the earlier side.
 */
export function matchSubsumes(earlier: MatchSpec | undefined, later: MatchSpec | undefined): boolean {
  const e = earlier ?? {};
  const l = later ?? {};
  const within = (ev: string | readonly string[] | undefined, lv: string | readonly string[] | undefined) =>
    ev === undefined || (lv !== undefined && oneOf(lv).every((x) => oneOf(ev).includes(x)));
  if (!within(e.model, l.model) || !within(e.tenant, l.tenant) || !within(e.endpoint, l.endpoint))
    return false;
  if (e.stream !== undefined && e.stream !== l.stream) return false;
  if (e.hasTools !== undefined && e.hasTools !== l.hasTools) return false;
  if (e.tags && !e.tags.every((t) => l.tags?.includes(t))) return false;
  if (e.metadata && !Object.entries(e.metadata).every(([k, v]) => l.metadata?.[k] === v)) return false;
  return true;
}
