import { describe, expect, it } from 'vitest';
import { seededEnv } from '../../model/env.ts';
import { compilePolicy } from '../../pipeline/compile.ts';
import { decide } from '../../pipeline/decide.ts';
import { factsWithDefaults } from '../../testing/facts-with-defaults.ts';
import { addShadowStats, observeShadow } from './shadow-observation.ts';

const policy = (autoTarget: string, trialModels: string) => {
  const r = compilePolicy([
    {
      path: 'p.yaml',
      text: `apiVersion: switchyard/v1
name: p
providers: { sim: { type: simulator } }
models:
  fast: { deployments: [{ provider: sim, model: sim-small, price: { inPerMTok: 1, outPerMTok: 2 } }] }
  strong: { deployments: [{ provider: sim, model: sim-large, price: { inPerMTok: 10, outPerMTok: 20 } }] }
tenants:
  default: {}
  trial: { allowModels: [${trialModels}] }
routes:
  - { id: auto, match: { model: auto }, target: ${autoTarget} }
`,
    },
  ]);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.policy;
};

describe('a shadow observation', () => {
  const stable = policy('fast', 'fast, strong');
  const env = () => seededEnv(0, 1);
  const usage = { inputTokens: 1000, outputTokens: 500 };

  it('counts a request the candidate routes elsewhere and prices its usage at the candidate', () => {
    const candidate = policy('strong', 'fast, strong');
    const facts = factsWithDefaults({ model: 'auto' });
    const o = observeShadow(decide(stable, facts, {}, env()), decide(candidate, facts, {}, env()), usage);
    expect(o).toEqual({
      requests: 1,
      rerouted: 1,
      newDenials: 0,
      stableCostUsd: 0.002,
      predictedCostUsd: 0.02,
    });
  });

  it('counts a request the candidate would deny', () => {
    const candidate = policy('fast', 'strong');
    const facts = factsWithDefaults({ model: 'auto' }, { tenant: 'trial' });
    const o = observeShadow(decide(stable, facts, {}, env()), decide(candidate, facts, {}, env()), usage);
    expect(o).toMatchObject({ requests: 1, rerouted: 0, newDenials: 1, predictedCostUsd: 0 });
  });

  it('adds tallies field by field', () => {
    const one = { requests: 1, rerouted: 1, newDenials: 0, stableCostUsd: 0.5, predictedCostUsd: 1 };
    expect(addShadowStats(one, one)).toEqual({
      requests: 2,
      rerouted: 2,
      newDenials: 0,
      stableCostUsd: 1,
      predictedCostUsd: 2,
    });
  });
});
