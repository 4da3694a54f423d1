import { compilePolicy, formatDiagnostic } from '@switchyard/engine';
import { describe, expect, it } from 'vitest';
import { buildOverheadPolicy } from './overhead-bench-policy.ts';

describe('buildOverheadPolicy', () => {
  const result = compilePolicy([
    { path: 'overhead-bench.yaml', text: buildOverheadPolicy('http://127.0.0.1:9100/v1') },
  ]);

  it('compiles without errors or warnings', () => {
    expect(result.ok ? [] : result.errors.map(formatDiagnostic)).toEqual([]);
    expect(result.warnings.map(formatDiagnostic)).toEqual([]);
  });

  it('serves fast and embed from the one upstream, with no quotas, rate limits or cache rules', () => {
    if (!result.ok) throw new Error('overhead bench policy does not compile');
    expect([...result.policy.models.keys()].sort()).toEqual(['embed', 'fast']);
    expect(result.policy.cacheRules).toHaveLength(0);
    const tenant = result.policy.spec.tenants.default;
    expect(tenant?.quotas).toEqual([]);
    expect(tenant?.rateLimits).toEqual([]);
  });
});
