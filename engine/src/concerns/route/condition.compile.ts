import { compileJsonLogic, type LogicProblem, truthy } from '../../logic/compile-json-logic.ts';
import type { CompiledCondition } from '../../model/compiled-policy.ts';
import type { RequestFacts } from '../../model/facts.ts';
import type { z } from 'zod';
import type { matchSchema } from './route.schema.ts';

type MatchSpec = z.output<typeof matchSchema>;
type Check = { test: (f: RequestFacts) => boolean; why: (f: RequestFacts) => string };

const oneOf = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);

/**
 * Compiles a rule's `match` (declarative conditions) and `when` (JSON Logic) into one predicate.
 * Conditions are checked cheapest first; nothing is allocated on a match.
 */
export function compileCondition(match: MatchSpec | undefined, when: unknown, problems: LogicProblem[]): CompiledCondition {
  const checks: Check[] = [];
  if (match?.model !== undefined) {
    const models = oneOf(match.model);
    checks.push({ test: (f) => models.includes(f.model), why: (f) => `model \`${f.model}\` is not ${models.map((m) => `\`${m}\``).join(' or ')}` });
  }
  if (match?.endpoint !== undefined) {
    const eps = oneOf(match.endpoint);
    checks.push({ test: (f) => eps.includes(f.endpoint), why: (f) => `endpoint \`${f.endpoint}\` is not ${eps.join(' or ')}` });
  }
  if (match?.tenant !== undefined) {
    const tenants = oneOf(match.tenant);
    checks.push({ test: (f) => tenants.includes(f.tenant), why: (f) => `tenant \`${f.tenant}\` is not ${tenants.map((t) => `\`${t}\``).join(' or ')}` });
  }
  if (match?.stream !== undefined) {
    const want = match.stream;
    checks.push({ test: (f) => f.stream === want, why: () => `stream is not ${want}` });
  }
  if (match?.hasTools !== undefined) {
    const want = match.hasTools;
    checks.push({ test: (f) => f.hasTools === want, why: () => `hasTools is not ${want}` });
  }
  if (match?.tags !== undefined) {
    const tags = match.tags;
    checks.push({
      test: (f) => tags.every((t) => f.tags.includes(t)),
      why: (f) => `missing tag(s) ${tags.filter((t) => !f.tags.includes(t)).map((t) => `\`${t}\``).join(', ')}`,
    });
  }
  if (match?.metadata !== undefined) {
    const entries = Object.entries(match.metadata);
    checks.push({
      test: (f) => entries.every(([k, v]) => f.metadata[k] === v),
      why: (f) => `metadata ${entries.filter(([k, v]) => f.metadata[k] !== v).map(([k, v]) => `${k}=\`${v}\``).join(', ')} not present`,
    });
  }
  if (when !== undefined && when !== true) {
    const fn = compileJsonLogic(when, problems);
    checks.push({ test: (f) => truthy(fn(f)), why: () => '`when` is false' });
  }
  const n = checks.length;
  const tests = checks.map((c) => c.test);
  return {
    isCatchAll: n === 0,
    test:
      n === 0
        ? () => true
        : n === 1
          ? tests[0]!
          : (f) => {
              for (let i = 0; i < n; i++) if (!tests[i]!(f)) return false;
              return true;
            },
    whyNot(f) {
      for (const c of checks) if (!c.test(f)) return c.why(f);
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
  if (!within(e.model, l.model) || !within(e.tenant, l.tenant) || !within(e.endpoint, l.endpoint)) return false;
  if (e.stream !== undefined && e.stream !== l.stream) return false;
  if (e.hasTools !== undefined && e.hasTools !== l.hasTools) return false;
  if (e.tags && !e.tags.every((t) => l.tags?.includes(t))) return false;
  if (e.metadata && !Object.entries(e.metadata).every(([k, v]) => l.metadata?.[k] === v)) return false;
  return true;
}
