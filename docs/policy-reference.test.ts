import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyReferencePath, renderPolicyReference } from './gen/policy-reference.ts';

describe('docs/policy-reference.md', () => {
  it('matches what the policy schema renders, so the reference never drifts from the engine', () => {
    const committed = readFileSync(policyReferencePath, 'utf8');
    const rendered = renderPolicyReference();
    if (committed !== rendered) {
      expect.fail(
        'docs/policy-reference.md is out of date with the policy schema: run `npm run docs:policy` and commit the result',
      );
    }
  });

  it('documents every field by its full path, including nested list and map entries', () => {
    const rendered = renderPolicyReference();
    expect(rendered).toContain(
      '| `models.<name>.deployments[].price.inPerMTok` | number ≥ 0 |  | yes | USD per million input tokens |',
    );
    expect(rendered).toContain('`tenants.<name>.quotas[].window`');
    expect(rendered).toContain('`routes[].escalate.steps[].to`');
  });
});
