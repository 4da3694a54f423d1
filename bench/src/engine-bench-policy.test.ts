import { compilePolicy, formatDiagnostic } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { benchPolicyShape, buildBenchPolicy } from './engine-bench-policy.ts';

describe('buildBenchPolicy', () => {
  const result = compilePolicy([{ path: 'engine-bench.yaml', text: buildBenchPolicy() }]);

  it('generates a policy that compiles without errors or warnings', () => {
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([]);
    expect(result.warnings.map(formatDiagnostic)).toEqual([]);
  });

  it('has the size the bench reports against: 100 routes, 20 cache rules, 50 tenants', () => {
    if (!result.ok) throw new Error('bench policy does not compile');
    expect(result.policy.routes).toHaveLength(benchPolicyShape.routes);
    expect(result.policy.cacheRules).toHaveLength(benchPolicyShape.cacheRules);
    expect(result.policy.tenants.size).toBe(benchPolicyShape.tenants);
    expect(result.policy.routes.at(-1)?.condition.isCatchAll).toBe(true);
  });

  it('is the same text on every call, so runs compare', () => {
    expect(buildBenchPolicy()).toBe(buildBenchPolicy());
  });
});
