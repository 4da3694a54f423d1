import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGate } from './run-gate.ts';
import { defaultPolicyVariant } from './testing/default-policy-variants.ts';

const out = mkdtempSync(join(tmpdir(), 'sy-gate-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the eval gate', () => {
  it('fails a candidate that stops escalating hard tasks from the weak tier, naming the tests it broke', async () => {
    const { verdict, markdown } = await runGate({
      baseline: { files: defaultPolicyVariant(), label: 'stable' },
      candidate: { files: defaultPolicyVariant('weak'), label: 'weak' },
      outDir: out,
    });
    expect(verdict.pass).toBe(false);
    const [suite] = verdict.suites;
    expect(suite?.baseline.passRate).toBe(1);
    expect(suite?.candidate.passRate).toBeLessThan(0.5);
    expect(suite?.checks.filter((c) => !c.pass).map((c) => c.name)).toEqual(
      expect.arrayContaining(['minPassRate', 'maxPassRateDrop']),
    );
    const regressed = suite?.changes.filter((c) => c.change === 'regressed').map((c) => c.id) ?? [];
    expect(regressed).toEqual(
      expect.arrayContaining(['arithmetic-4-digit', 'arithmetic-8-digit', 'json-extraction-3-fields']),
    );
    expect(regressed).not.toContain('arithmetic-1-digit');
    // Served by the cheap tier (either of its weighted deployments) instead of escalating.
    expect(suite?.changes.find((c) => c.id === 'arithmetic-8-digit')?.candidate?.servedBy).toMatch(/^fast\//);
    expect(markdown).toContain('❌ Eval gate failed');
    expect(markdown).toContain('| `arithmetic-8-digit` | 🔴 passed → failed |');
    expect(JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8'))).toEqual(verdict);
    expect(readFileSync(join(out, 'verdict.md'), 'utf8')).toBe(markdown);
  });

  it('passes a candidate that only lowers a price, with a lower cost per request', async () => {
    const { verdict } = await runGate({
      baseline: { files: defaultPolicyVariant() },
      candidate: { files: defaultPolicyVariant('cheaper-strong') },
    });
    expect(verdict.pass).toBe(true);
    const [suite] = verdict.suites;
    expect(suite?.changes).toEqual([]);
    expect(suite?.candidate.passRate).toBe(1);
    expect(suite?.candidate.costPerRequestUsd).toBeLessThan(suite?.baseline.costPerRequestUsd ?? 0);
    expect(suite?.candidate.costPerRequestUsd).toBeGreaterThan(0);
    expect(verdict.candidate).toMatch(/^default@[0-9a-f]{12}$/);
  });
});
