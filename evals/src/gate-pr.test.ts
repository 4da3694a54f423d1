import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PrGateResult, runPrGate } from './gate-pr.ts';
import { defaultPolicyDir, defaultPolicyVariant } from './testing/default-policy-variants.ts';

const repo = mkdtempSync(join(tmpdir(), 'sy-gate-pr-repo-'));
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd: repo,
    stdio: 'pipe',
  }).toString();

function writePolicy(folder: string, text: string): void {
  mkdirSync(join(repo, folder), { recursive: true });
  writeFileSync(join(repo, folder, 'policy.yaml'), text);
}

let result: PrGateResult;

beforeAll(async () => {
  git('init', '-q', '-b', 'main');
  writePolicy('policies/default', defaultPolicyVariant()[0]!.text);
  cpSync(join(defaultPolicyDir, 'policy.test.yaml'), join(repo, 'policies/default/policy.test.yaml'));
  cpSync(join(defaultPolicyDir, 'bad'), join(repo, 'policies/default/bad'), { recursive: true });
  writePolicy('policies/team', defaultPolicyVariant()[0]!.text.replace('name: default', 'name: team'));
  writePolicy('policies/retired', defaultPolicyVariant()[0]!.text.replace('name: default', 'name: retired'));
  writeFileSync(join(repo, 'README.md'), 'not a policy\n');
  git('add', '.');
  git('commit', '-q', '-m', 'base');
  git('checkout', '-q', '-b', 'feature');
  // A committed price change, an invalid edit, a removed folder and a new (untracked) weak policy.
  writePolicy('policies/default', defaultPolicyVariant('cheaper-strong')[0]!.text);
  git('commit', '-q', '-am', 'cheaper strong tier');
  writePolicy('policies/team', 'apiVersion: switchyard/v1\nname: team\nmodels: {}\nproviders: [\n');
  rmSync(join(repo, 'policies/retired'), { recursive: true });
  writePolicy('policies/weak', defaultPolicyVariant('weak')[0]!.text.replace('name: default', 'name: weak'));
  writeFileSync(join(repo, 'README.md'), 'still not a policy\n');
  result = await runPrGate({ base: 'main', repoDir: repo });
}, 120_000);
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('npm run gate:pr', () => {
  it('finds each policy folder changed since the merge base, including untracked and removed ones', () => {
    expect(result.folders.map((f) => [f.folder, f.change])).toEqual([
      ['policies/default', 'changed'],
      ['policies/retired', 'removed'],
      ['policies/team', 'changed'],
      ['policies/weak', 'added'],
    ]);
    expect(result.mergeBase).toBe(git('rev-parse', 'main').trim());
  });

  it('passes a price change: check, tests, a diff naming the price, and the gate against the base version', () => {
    const f = result.folders.find((x) => x.folder === 'policies/default')!;
    expect(f.check?.ok).toBe(true);
    expect(f.test?.ok).toBe(true);
    expect(f.diff?.report).toContain('~ models.strong.deployments[large].price.inPerMTok: 3 → 2.5');
    expect(f.gate?.verdict?.pass).toBe(true);
    expect(f.gate?.verdict?.baseline).toMatch(/^default@[0-9a-f]{12} \(policies\/default at base\)$/);
    expect(f.pass).toBe(true);
  });

  it('fails a folder that does not compile, with the error located, and does not gate it', () => {
    const f = result.folders.find((x) => x.folder === 'policies/team')!;
    expect(f.check?.ok).toBe(false);
    expect(f.check?.report).toContain('SY_POLICY_YAML_SYNTAX');
    expect(f.gate).toBeUndefined();
    expect(f.pass).toBe(false);
  });

  it('gates a new folder against the default policy at the base and fails a weak one', () => {
    const f = result.folders.find((x) => x.folder === 'policies/weak')!;
    expect(f.diff).toBeUndefined();
    expect(f.gate?.ok).toBe(false);
    expect(f.gate?.verdict?.suites[0]?.changes.some((c) => c.change === 'regressed')).toBe(true);
  });

  it('writes one Markdown report with a summary row per folder, and fails overall', () => {
    expect(result.pass).toBe(false);
    const md = readFileSync(join(repo, '.tmp/gate-pr/report.md'), 'utf8');
    expect(md).toBe(result.markdown);
    expect(md).toContain('## ❌ Switchyard policy gate');
    expect(md).toContain('| `policies/default` | changed | ✅ | ✅ | 📝 | ✅ |');
    expect(md).toContain('| `policies/team` | changed | ❌ | ❌ | — | — |');
    expect(md).toContain('| `policies/weak` | added | ✅ | ✅ | — | ❌ |');
    expect(md).toContain('#### ❌ Eval gate failed');
    expect(JSON.parse(readFileSync(join(repo, '.tmp/gate-pr/report.json'), 'utf8')).pass).toBe(false);
    // The repository itself is untouched: same branch, nothing staged by the gate.
    expect(git('rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('feature');
    expect(git('diff', '--cached', '--name-only').trim()).toBe('');
  });

  it('runs as `npm run gate:pr`: exit 0 and an empty report when no policy folder changed', () => {
    const script = new URL('./gate-pr-main.ts', import.meta.url).pathname;
    // The temporary repository has no node_modules: name tsx's loader by its path.
    const tsx = pathToFileURL(
      createRequire(import.meta.url)
        .resolve('tsx/package.json')
        .replace(/package\.json$/, 'dist/loader.mjs'),
    ).href;
    const out = execFileSync(
      process.execPath,
      ['--import', tsx, script, '--base', 'HEAD', '--policies', 'policies/default', '--out', 'out'],
      { cwd: repo, stdio: 'pipe' },
    ).toString();
    expect(out).toBe('policy gate passed; report: out/report.md\n');
    expect(readFileSync(join(repo, 'out/report.md'), 'utf8')).toContain(
      'No policy folder changed since `HEAD`.',
    );
  });

  it('reports a base that does not exist', async () => {
    await expect(runPrGate({ base: 'no-such-branch', repoDir: repo })).rejects.toThrow(
      /`git rev-parse --verify no-such-branch\^\{commit\}` failed/,
    );
  });
});
