import { canonicalJson } from '../hash/canonical-json.ts';
import type { CompiledPolicy } from '../model/compiled-policy.ts';
import type { Decision } from '../model/decision.ts';
import type { Env } from '../model/env.ts';
import type { RequestFacts } from '../model/facts.ts';
import { emptySnapshot } from '../model/snapshot.ts';
import { decide } from '../pipeline/decide.ts';

/** One semantic change between two policies, at a readable path. */
export interface PolicyChange {
  /** Top-level section: `routes`, `models`, `tenants`, `cache`, … */
  section: string;
  /** Readable path, e.g. `models.fast.deployments[small-a].price.inPerMTok`, `routes[code].target`. */
  path: string;
  kind: 'added' | 'removed' | 'changed' | 'moved';
  before?: unknown;
  after?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

/** Arrays of items with an `id` compare by id (so reordering and inserts read as such). */
function idOf(item: unknown): string | undefined {
  return isObj(item) && typeof item.id === 'string' ? item.id : undefined;
}

function walk(section: string, path: string, a: unknown, b: unknown, out: PolicyChange[]): void {
  if (same(a, b)) return;
  if (a === undefined) return void out.push({ section, path, kind: 'added', after: b });
  if (b === undefined) return void out.push({ section, path, kind: 'removed', before: a });
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      walk(section, `${path}.${k}`, a[k], b[k], out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.every(idOf) && b.every(idOf) && a.length + b.length > 0) {
    const ai = a.map(idOf);
    const bi = b.map(idOf);
    for (const [i, item] of a.entries()) {
      const j = bi.indexOf(ai[i]);
      if (j === -1) out.push({ section, path: `${path}[${ai[i]}]`, kind: 'removed', before: item });
      else walk(section, `${path}[${ai[i]}]`, item, b[j], out);
    }
    for (const [j, item] of b.entries())
      if (!ai.includes(bi[j])) out.push({ section, path: `${path}[${bi[j]}]`, kind: 'added', after: item });
    const keptA = ai.filter((id) => bi.includes(id));
    const keptB = bi.filter((id) => ai.includes(id));
    if (!same(keptA, keptB))
      out.push({ section, path: `${path} order`, kind: 'moved', before: keptA, after: keptB });
    return;
  }
  out.push({ section, path, kind: 'changed', before: a, after: b });
}

/**
 * The semantic difference between two compiled policies: what changed in routes, models and prices,
 * tenants and quotas, cache rules, resilience, rollout and gate. Formatting and comments never
 * show up, since both sides are compared in their validated, canonical form.
 */
export function diffPolicies(before: CompiledPolicy, after: CompiledPolicy): PolicyChange[] {
  const out: PolicyChange[] = [];
  const a = before.spec as unknown as Record<string, unknown>;
  const b = after.spec as unknown as Record<string, unknown>;
  for (const section of [
    'name',
    'description',
    'providers',
    'models',
    'tenants',
    'routes',
    'experiments',
    'cache',
    'resilience',
    'rollout',
    'gate',
  ]) {
    walk(section, section, a[section], b[section], out);
  }
  return out;
}

/** How one sample request's decision changes between two policies. */
export interface DecisionImpact {
  facts: RequestFacts;
  before: Decision;
  after: Decision;
  changed: boolean;
  /** Readable lines, e.g. `route auto → code`, `model fast → strong`, `now denied: quota_exceeded`. */
  changes: string[];
}

function describeDecision(d: Decision): Record<string, string> {
  if (d.kind === 'deny') return { outcome: `denied ${d.status} ${d.code}` };
  return {
    outcome: 'served',
    route: d.routeId,
    model: d.target,
    deployment: d.candidates[0]?.id ?? '',
    escalation: d.escalation.map((h) => h.to).join(' → ') || 'none',
    cache: d.cache?.ruleId ?? 'none',
    arm: d.experiment ? `${d.experiment.id}/${d.experiment.arm}` : 'none',
    'max cost': d.candidates.length ? `$${maxCost(d).toFixed(6)}` : '',
  };
}

function maxCost(d: Decision & { kind: 'plan' }): number {
  const usd = d.charges.find((c) => c.unit === 'usd');
  if (usd) return usd.amount;
  return Math.max(...d.candidates.map((c) => c.price.inPerMTok + c.price.outPerMTok)) / 1e6;
}

/**
 * Decides each sample request under both policies (same time, same random draws) and reports the
 * requests whose decision changes and how: what a reviewer needs to judge a policy change.
 */
export function decisionImpact(
  before: CompiledPolicy,
  after: CompiledPolicy,
  samples: readonly RequestFacts[],
  makeEnv: () => Env,
): DecisionImpact[] {
  return samples.map((facts) => {
    const b = decide(before, facts, emptySnapshot, makeEnv());
    const a = decide(after, facts, emptySnapshot, makeEnv());
    const db = describeDecision(b);
    const da = describeDecision(a);
    const changes: string[] = [];
    for (const k of new Set([...Object.keys(db), ...Object.keys(da)])) {
      if (db[k] !== da[k]) changes.push(`${k}: ${db[k] ?? '—'} → ${da[k] ?? '—'}`);
    }
    return { facts, before: b, after: a, changed: changes.length > 0, changes };
  });
}
