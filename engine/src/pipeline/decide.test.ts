import { describe, expect, it } from 'vitest';
import { seededEnv } from '../model/env.ts';
import type { RequestFacts } from '../model/facts.ts';
import { factsWithDefaults } from '../testing/facts-with-defaults.ts';
import { compilePolicy } from './compile.ts';
import { decide, explain } from './decide.ts';

const text = `apiVersion: switchyard/v1
name: t
providers:
  sim: { type: simulator }
models:
  fast:
    maxOutputTokens: 1000
    deployments:
      - { id: a, provider: sim, model: sim-small, weight: 3, price: { inPerMTok: 1, outPerMTok: 2 } }
      - { id: b, provider: sim, model: sim-small, weight: 1, price: { inPerMTok: 1, outPerMTok: 4 } }
  strong:
    deployments: [{ id: l, provider: sim, model: sim-large, price: { inPerMTok: 3, outPerMTok: 15 } }]
  cheap:
    deployments: [{ id: c, provider: sim, model: sim-small }]
tenants:
  default:
    quotas:
      - { id: usd-month, per: tenant, window: month, usd: 10 }
      - { id: req-min, per: key, window: minute, requests: 5 }
    rateLimits:
      - { id: rps, per: key, rps: 2, burst: 4 }
      - { id: tpm, per: tenant, tpm: 6000 }
experiments:
  - id: ab
    stickyBy: user
    arms: [{ id: control, weight: 1, target: fast }, { id: treat, weight: 1, target: cheap }]
routes:
  - id: exp
    match: { model: ab }
    experiment: ab
  - id: auto
    match: { model: auto }
    target: fast
    escalate: { steps: [{ to: strong, on: [length] }], maxHops: 1 }
`;

const compiled = compilePolicy([{ path: 't.yaml', text }]);
if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
const policy = compiled.policy;
const now = Date.UTC(2026, 2, 31, 23, 59, 30);
const facts = (f: Partial<RequestFacts> = {}) => factsWithDefaults({ keyId: 'k1' }, f);

describe('decide', () => {
  it('returns the same decision for the same inputs', () => {
    const a = decide(policy, facts(), {}, seededEnv(now, 42));
    const b = decide(policy, facts(), {}, seededEnv(now, 42));
    expect(a).toEqual(b);
  });

  it('picks deployments in proportion to their weights through env.random', () => {
    const env = seededEnv(now, 7);
    let a = 0;
    for (let i = 0; i < 4000; i++) {
      const d = decide(policy, facts(), {}, env);
      if (d.kind === 'plan' && d.candidates[0]!.id === 'fast/a') a++;
    }
    expect(a / 4000).toBeGreaterThan(0.72);
    expect(a / 4000).toBeLessThan(0.78);
  });

  it('keeps the other deployments as ordered fallbacks', () => {
    const d = decide(policy, facts(), {}, { nowMs: now, random: () => 0.9 });
    expect(d.kind === 'plan' && d.candidates.map((c) => c.id)).toEqual(['fast/b', 'fast/a']);
  });

  it('keeps a caller on one experiment arm and splits callers by weight', () => {
    const arms = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const user = `user-${i}`;
      const first = decide(policy, facts({ model: 'ab', user }), {}, seededEnv(now, i));
      const again = decide(policy, facts({ model: 'ab', user }), {}, seededEnv(now, i + 1));
      if (first.kind !== 'plan' || again.kind !== 'plan') throw new Error('denied');
      expect(again.experiment).toEqual(first.experiment);
      arms.set(first.experiment!.arm, (arms.get(first.experiment!.arm) ?? 0) + 1);
    }
    expect(arms.get('control')! / 2000).toBeGreaterThan(0.45);
    expect(arms.get('control')! / 2000).toBeLessThan(0.55);
  });

  it('reserves the upper bound: input plus max output at the most expensive candidate', () => {
    const d = decide(policy, facts({ inputTokens: 1000, maxTokens: 500 }), {}, seededEnv(now, 1));
    if (d.kind !== 'plan') throw new Error(d.message);
    const usd = d.charges.find((c) => c.quotaId === 'usd-month')!;
    expect(usd.amount).toBeCloseTo((1000 * 1 + 500 * 4) / 1e6, 12);
    expect(d.charges.find((c) => c.quotaId === 'req-min')!.amount).toBe(1);
    expect(d.limits.find((l) => l.limitId === 'tpm')!.cost).toBe(1500);
  });

  it('aligns quota windows to the UTC calendar, months included', () => {
    const d = decide(policy, facts(), {}, seededEnv(now, 1));
    if (d.kind !== 'plan') throw new Error(d.message);
    const month = d.charges.find((c) => c.window === 'month')!;
    expect([month.windowStartMs, month.windowEndMs]).toEqual([Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1)]);
    const minute = d.charges.find((c) => c.window === 'minute')!;
    expect(minute.windowEndMs - now).toBe(30_000);
  });

  it('refuses a request that would pass a quota cap, with the time until the window resets', () => {
    const probe = decide(policy, facts(), {}, seededEnv(now, 1));
    if (probe.kind !== 'plan') throw new Error('denied');
    const key = probe.charges.find((c) => c.quotaId === 'req-min')!.key;
    expect(decide(policy, facts(), { quotaUsed: { [key]: 4 } }, seededEnv(now, 1)).kind).toBe('plan');
    const d = decide(policy, facts(), { quotaUsed: { [key]: 5 } }, seededEnv(now, 1));
    expect(d).toMatchObject({ kind: 'deny', status: 429, code: 'quota_exceeded', retryAfterMs: 30_000 });
  });

  it('refills token buckets to env.nowMs and says how long to wait when short', () => {
    const key = 'rl|default|rps|k1';
    const empty = decide(
      policy,
      facts(),
      { buckets: { [key]: { tokens: 0, atMs: now } } },
      seededEnv(now, 1),
    );
    expect(empty).toMatchObject({ kind: 'deny', code: 'rate_limit_exceeded', retryAfterMs: 500 });
    const refilled = decide(
      policy,
      facts(),
      { buckets: { [key]: { tokens: 0, atMs: now - 600 } } },
      seededEnv(now, 1),
    );
    expect(refilled.kind).toBe('plan');
  });

  it('escalates only to models the tenant may use, each hop with its own candidates', () => {
    const d = decide(policy, facts(), {}, seededEnv(now, 1));
    expect(d.kind === 'plan' && d.escalation.map((h) => [h.to, h.candidates.map((c) => c.id), h.on])).toEqual(
      [['strong', ['strong/l'], ['length']]],
    );
  });

  it('carries its reasons, and explain traces every rule considered', () => {
    const { decision, trace } = explain(policy, facts({ model: 'auto' }), {}, seededEnv(now, 1));
    expect(decision.reasons.map((r) => r.rule)).toEqual([
      'tenant:default',
      'route:auto',
      'deployment:fast/a',
    ]);
    expect(trace.map((t) => `${t.outcome} ${t.rule}`)).toEqual([
      'applied tenant:default',
      'skipped route:exp',
      'matched route:auto',
      'applied deployment:fast/a',
      'applied deployment:strong/l',
      'applied escalate:strong',
    ]);
    expect(trace[1]!.detail).toBe('model `auto` is not `ab`');
  });
});

describe('escalation hops', () => {
  it('carry their own reservations, also when the plan is serialized', () => {
    const d = decide(policy, facts({ inputTokens: 1000, maxTokens: 500 }), {}, seededEnv(now, 1));
    if (d.kind !== 'plan') throw new Error(d.message);
    const hop = d.escalation[0]!;
    expect(hop.charges.map((c) => c.key)).toEqual(d.charges.map((c) => c.key));
    expect(hop.charges.find((c) => c.unit === 'usd')!.amount).toBeCloseTo((1000 * 3 + 500 * 15) / 1e6, 12);
    const json = JSON.parse(JSON.stringify(d)) as { escalation: { to: string; charges: unknown[] }[] };
    expect(json.escalation[0]).toMatchObject({ to: 'strong', charges: expect.any(Array) });
    expect(json.escalation[0]!.charges).toHaveLength(d.charges.length);
  });
});

describe('resilience overrides', () => {
  it('take unset fields from the global settings, not from the schema defaults', () => {
    const withOverride = `${text.replace('tenants:', 'resilience:\n  timeouts: { connectMs: 5000, totalMs: 60000 }\n  overrides:\n    strong: { timeouts: { totalMs: 300000 } }\ntenants:')}`;
    const r = compilePolicy([{ path: 't.yaml', text: withOverride }]);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const d = decide(r.policy, facts({ model: 'strong' }), {}, seededEnv(now, 1));
    expect(d.kind === 'plan' && d.resilience.timeouts).toMatchObject({
      connectMs: 5000,
      totalMs: 300000,
      firstTokenMs: 15000,
    });
  });
});

describe('route index', () => {
  it('picks the same route as a linear scan in policy order, for random policies and requests', () => {
    const env = seededEnv(0, 3);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(env.random() * xs.length)]!;
    const models = ['auto', 'chat', 'fast'];
    const tags = ['a', 'b', 'c', 'd'];
    const tenants = ['t1', 't2', 't3'];
    for (let p = 0; p < 20; p++) {
      const routes = Array.from({ length: 30 }, (_, i) => {
        const m: string[] = [];
        if (env.random() < 0.7) m.push(`model: ${pick(models)}`);
        if (env.random() < 0.4) m.push(`tags: [${pick(tags)}${env.random() < 0.3 ? `, ${pick(tags)}` : ''}]`);
        if (env.random() < 0.3) m.push(`tenant: [${pick(tenants)}]`);
        if (env.random() < 0.3) m.push(`metadata: { app: ${pick(['x', 'y'])} }`);
        const threshold = Math.floor(env.random() * 2000);
        const whens = [
          `{ ">": [{ var: inputTokens }, ${threshold}] }`,
          `{ "==": [{ var: metadata.app }, ${pick(['x', 'y'])}] }`,
          `{ and: [{ "==": [${pick(tenants)}, { var: tenant }] }, { "<": [{ var: inputTokens }, ${threshold}] }] }`,
          `{ or: [{ "==": [{ var: tenant }, ${pick(tenants)}] }, { "==": [{ var: metadata.app }, x] }] }`,
        ];
        const when = env.random() < 0.4 ? `, when: ${pick(whens)}` : '';
        return `  - { id: r${i}, match: { ${m.join(', ')} }${when}, target: fast }`;
      });
      const policyText = `apiVersion: switchyard/v1\nname: idx\nproviders: { sim: { type: simulator } }\nmodels:\n  fast: { deployments: [{ provider: sim, model: sim-small }] }\n  chat: { deployments: [{ provider: sim, model: sim-small }] }\nroutes:\n${routes.join('\n')}\n`;
      // Random routes may shadow each other; unreachable ones are a compile error, so keep the rest.
      const r = compilePolicy([{ path: 'idx.yaml', text: policyText }]);
      const kept = r.ok
        ? routes
        : routes.filter(
            (_, i) => !r.errors.some((e) => e.code === 'SY_POLICY_UNREACHABLE_ROUTE' && e.line === i + 8),
          );
      const cacheRules = Array.from({ length: 8 }, (_, i) => {
        const m: string[] = [];
        if (env.random() < 0.4) m.push(`tenant: [${pick(tenants)}]`);
        if (env.random() < 0.3) m.push(`tags: [${pick(tags)}]`);
        if (env.random() < 0.3) m.push(`metadata: { app: ${pick(['x', 'y'])} }`);
        const cacheWhen =
          env.random() < 0.4
            ? `, when: { "<": [{ var: inputTokens }, ${Math.floor(env.random() * 2000)}] }`
            : '';
        return `  - { id: c${i}, match: { ${m.join(', ')} }${cacheWhen}, ttl: 1h, scope: key }`;
      });
      const withCache = `${policyText.replace(routes.join('\n'), kept.join('\n'))}cache:\n${cacheRules.join('\n')}\n`;
      const c = compilePolicy([{ path: 'idx.yaml', text: withCache }]);
      if (!c.ok) throw new Error(JSON.stringify(c.errors.slice(0, 3)));
      for (let q = 0; q < 200; q++) {
        const f = facts({
          model: pick([...models, 'other']),
          tenant: pick(tenants),
          tags: tags.filter(() => env.random() < 0.35),
          metadata: env.random() < 0.5 ? { app: pick(['x', 'y']) } : {},
          inputTokens: Math.floor(env.random() * 2000),
        });
        const fast = decide(c.policy, f, {}, seededEnv(0, 1));
        const linear = explain(c.policy, f, {}, seededEnv(0, 1)).decision;
        expect(fast.kind === 'plan' ? fast.routeId : fast.code).toBe(
          linear.kind === 'plan' ? linear.routeId : linear.code,
        );
        if (fast.kind === 'plan' && linear.kind === 'plan')
          expect(fast.cache?.ruleId).toBe(linear.cache?.ruleId);
      }
    }
  });
});
