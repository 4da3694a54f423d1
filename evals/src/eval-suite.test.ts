import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy } from '@switchyard/engine';
import type { EvaluateResult } from 'promptfoo';
import { afterAll, describe, expect, it } from 'vitest';
import { costOfResult, loadEvalSuite } from './eval-suite.ts';
import { defaultPolicyVariant } from './testing/default-policy-variants.ts';

const dir = mkdtempSync(join(tmpdir(), 'sy-suites-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function suite(name: string, yaml: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'promptfooconfig.yaml'), yaml);
}

describe('loading an eval suite', () => {
  it('reads the repository regression suite', async () => {
    const s = await loadEvalSuite('regression');
    expect(s.config.tests).toHaveLength(9);
  });

  it('refuses model-graded assertions, since the gate runs offline', async () => {
    suite(
      'graded',
      `providers: [openai:chat:auto]\nprompts: ['{{q}}']\ntests:\n  - vars: { q: hi }\n    assert: [{ type: not-llm-rubric, value: rude }]\n`,
    );
    await expect(loadEvalSuite('graded', dir)).rejects.toThrow(
      'suite `graded` uses the model-graded assertion `not-llm-rubric`; the gate runs offline, use equals, contains, is-json or javascript',
    );
  });

  it('refuses providers it cannot point at the gateway', async () => {
    suite(
      'elsewhere',
      `providers: [anthropic:messages:claude-3-5-sonnet-latest]\nprompts: ['{{q}}']\ntests: []\n`,
    );
    await expect(loadEvalSuite('elsewhere', dir)).rejects.toThrow(
      'suite `elsewhere`: provider `anthropic:messages:claude-3-5-sonnet-latest` cannot be pointed at the gateway; use `openai:chat:<model>`',
    );
  });

  it('names the file it looked for when a suite is missing', async () => {
    await expect(loadEvalSuite('nope', dir)).rejects.toThrow(
      `unknown eval suite \`nope\`: no ${join(dir, 'nope', 'promptfooconfig.yaml')}`,
    );
  });
});

describe('the cost of a test', () => {
  const compiled = compilePolicy(defaultPolicyVariant());
  if (!compiled.ok) throw new Error('default policy does not compile');
  const policy = compiled.policy;
  const result = (headers: Record<string, string>) =>
    ({
      response: { tokenUsage: { prompt: 1_000, completion: 100 }, metadata: { http: { headers } } },
    }) as unknown as EvaluateResult;

  it('prices the usage at the deployment that answered', () => {
    // strong/large: $3 in, $15 out per million tokens.
    expect(costOfResult(result({ 'x-switchyard-model': 'strong/large' }), policy)).toBeCloseTo(0.0045, 10);
  });

  it('adds the escalated attempts at their own prices, and nothing for failed ones', () => {
    const escalated = result({
      'x-switchyard-model': 'strong/large',
      'x-switchyard-attempts': 'fast/small-a;escalated;12ms, fast/small-b;failed;3ms, strong/large;ok;20ms',
    });
    // + fast/small-a: $0.15 in, $0.6 out.
    expect(costOfResult(escalated, policy)).toBeCloseTo(0.0045 + 0.00021, 10);
  });

  it('costs nothing when the gateway answered from its cache', () => {
    expect(
      costOfResult(result({ 'x-switchyard-model': 'strong/large', 'x-switchyard-cache': 'hit' }), policy),
    ).toBe(0);
  });
});
