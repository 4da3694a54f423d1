import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultPolicyVariant } from '../../../evals/src/testing/default-policy-variants.ts';
import { captureCli } from './capture-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'sy-eval-cli-'));
const state = join(root, '.state');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, change?: 'weak' | 'cheaper-strong'): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'policy.yaml'), defaultPolicyVariant(change)[0]!.text);
  return dir;
}

const cli = (...argv: string[]) => captureCli(...argv, '--state-dir', state);

describe('switchyard eval gate', () => {
  it('fails a weak candidate against the stable version, attaches the verdict, and the rollout is refused', async () => {
    const stable = JSON.parse((await cli('policy', 'publish', folder('stable'), '--json')).out).version;
    const weak = JSON.parse((await cli('policy', 'publish', folder('weak', 'weak'), '--json')).out).version;
    const out = join(root, 'verdict');
    const gate = await cli('eval', 'gate', '--candidate', weak, '--out', out, '--actor', 'ci');
    expect(gate.code).toBe(1);
    expect(gate.out).toContain(`eval gate FAILED: default@${weak} vs default@${stable} (stable)`);
    expect(gate.out).toMatch(/regressed arithmetic-8-digit: Expected output to contain/);
    expect(gate.err).toContain(`verdict attached to default@${weak}`);
    expect(readFileSync(join(out, 'verdict.md'), 'utf8')).toContain('❌ Eval gate failed');
    expect(JSON.parse(readFileSync(join(out, 'verdict.json'), 'utf8')).pass).toBe(false);
    expect((await cli('policy', 'show', weak)).out).toMatch(/gate {5}FAILED: failed: regression: pass rate/);
    const start = await cli('rollout', 'start', weak);
    expect(start.code).toBe(1);
    expect(start.err).toContain(`version \`${weak}\` failed the eval gate; fix it or start with --force`);
  });

  it('passes a price-only change given as a folder, without a store, and prints Markdown', async () => {
    const cwd = process.cwd();
    const bare = join(root, 'bare');
    mkdirSync(bare);
    process.chdir(bare);
    try {
      const gate = await captureCli(
        'eval',
        'gate',
        '--candidate',
        folder('cheaper', 'cheaper-strong'),
        '--baseline',
        folder('base'),
        '--format',
        'markdown',
      );
      expect(gate.code, gate.out).toBe(0);
      expect(gate.out).toMatch(/^## ✅ Eval gate passed: `default@[0-9a-f]{12} \(.*cheaper\)` vs/);
      expect(gate.out).toContain('| regression | 9/9 (100 %) → 9/9 (100 %) |');
      // No state directory appears where none was.
      expect(existsSync(join(bare, '.switchyard'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });
});
