import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { versionTestPolicy } from '../policy-runtime/version-test-policy.ts';
import { captureCli } from './capture-cli.ts';

let root: string;
let state: string;

function policyDir(name: string, price: number): string {
  const dir = join(root, name);
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, 'policy.yaml'), versionTestPolicy({ price })[0]!.text);
  return dir;
}

const cli = (...argv: string[]) => captureCli(...argv, '--state-dir', state);

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sy-versions-cli-'));
  state = join(root, '.state');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('switchyard policy publish / versions / show', () => {
  it('publishes a folder once per meaning, the first version stable, with the git commit and author', async () => {
    const dir = policyDir('shop', 1);
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: root, stdio: 'pipe' }).toString().trim();
    git('init', '-q');
    git('-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'add', '.');
    git('-c', 'user.name=Ada', '-c', 'user.email=ada@example.com', 'commit', '-q', '-m', 'shop policy');
    const head = git('rev-parse', 'HEAD');
    const first = await cli('policy', 'publish', dir, '--message', 'first cut', '--actor', 'ada', '--json');
    expect(first.code).toBe(0);
    const version = JSON.parse(first.out);
    expect(version).toMatchObject({
      name: 'shop',
      gitCommit: head,
      author: 'Ada <ada@example.com>',
      message: 'first cut',
      created: true,
      stable: true,
      files: [{ path: 'policy.yaml' }],
    });
    // Reformatting and comments do not make another version.
    writeFileSync(join(dir, 'policy.yaml'), `# a comment\n${versionTestPolicy({ price: 1 })[0]!.text}\n\n`);
    const again = await cli('policy', 'publish', dir);
    expect(again.out).toContain(`= already published shop@${version.version} (stable)`);
    writeFileSync(join(dir, 'policy.yaml'), versionTestPolicy({ price: 2 })[0]!.text);
    const second = await cli('policy', 'publish', dir, '--message', 'cheaper');
    expect(second.out).toMatch(/✓ published shop@[0-9a-f]{12}\n {2}commit [0-9a-f]{40}-dirty by Ada/);
    expect(second.out).toContain('roll it out: switchyard rollout start');
    const v2 = second.out.match(/shop@([0-9a-f]{12})/)![1]!;
    const verdictFile = join(root, 'verdict.json');
    const verdict = {
      pass: true,
      candidate: `shop@${v2} (shop)`,
      baseline: 'x',
      thresholds: {},
      suites: [],
      summary: 'passed 1 suite(s)',
    };
    writeFileSync(verdictFile, JSON.stringify({ ...verdict, candidate: 'shop@000000000000' }));
    const wrong = await cli('policy', 'publish', dir, '--verdict', verdictFile);
    expect(wrong.err).toContain(`the verdict is for \`shop@000000000000\`, not \`shop@${v2}\``);
    writeFileSync(verdictFile, JSON.stringify(verdict));
    expect((await cli('policy', 'publish', dir, '--verdict', verdictFile)).code).toBe(0);
    const list = await cli('policy', 'versions');
    const lines = list.out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ {2}[0-9a-f]{12}\tshop\t.*\tgate:pass\t[0-9a-f]{12}\tcheaper$/);
    expect(lines[1]).toMatch(new RegExp(`^\\* ${version.version}\\tshop\\t`));
    const shown = await cli('policy', 'show', version.version.slice(0, 6));
    expect(shown.out).toContain(`version  shop@${version.version} (stable)`);
    expect(shown.out).toContain('gate     no verdict yet');
    expect(shown.out).toContain('--- policy.yaml\napiVersion: switchyard/v1');
  });

  it('refuses to publish a policy that does not compile, showing where', async () => {
    const dir = join(root, 'broken');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'policy.yaml'), 'apiVersion: switchyard/v1\nname: [broken\n');
    const r = await cli('policy', 'publish', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain('SY_POLICY_YAML_SYNTAX');
    expect(r.out).toContain('does not compile; nothing published');
    expect((await cli('policy', 'versions')).out).toContain('no published versions');
  });

  it('lets check, explain and diff take a published version instead of a folder', async () => {
    const v1 = JSON.parse((await cli('policy', 'publish', policyDir('a', 1), '--json')).out).version;
    const v2 = JSON.parse((await cli('policy', 'publish', policyDir('b', 3), '--json')).out).version;
    const check = await cli('policy', 'check', v1);
    expect(check.code).toBe(0);
    expect(check.out).toContain(`✓ shop@${v1}`);
    const diff = await cli('policy', 'diff', v1, v2);
    expect(diff.out).toContain(`policy shop@${v1} → shop@${v2}`);
    expect(diff.out).toContain('models.fast.deployments');
    const mixed = await cli('policy', 'diff', v1, join(root, 'b'), '--format', 'json');
    expect(JSON.parse(mixed.out)).toMatchObject({ before: `shop@${v1}`, after: `shop@${v2}` });
    const request = join(root, 'request.json');
    writeFileSync(request, JSON.stringify({ model: 'auto' }));
    const explained = await cli('policy', 'explain', `shop@${v2}`, '--request', request);
    expect(explained.out).toContain(`policy     shop@${v2}`);
    const unknown = await cli('policy', 'check', 'abcdef123456');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no policy folder or published version `abcdef123456`');
    const neither = await cli('policy', 'check', join(root, 'nope'));
    expect(neither.err).toContain('is neither a policy folder, a policy file nor a published version id');
  });
});
