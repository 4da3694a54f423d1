import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { versionTestPolicy } from '../policy-runtime/version-test-policy.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';
import { captureCli } from './capture-cli.ts';

let root: string;
let state: string;
const cli = (...argv: string[]) => captureCli(...argv, '--state-dir', state, '--actor', 'ops');

async function publish(price: number): Promise<string> {
  const dir = join(root, `p${price}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'policy.yaml'), versionTestPolicy({ price })[0]!.text);
  return JSON.parse((await cli('policy', 'publish', dir, '--json')).out).version;
}

async function attachVerdict(version: string, pass: boolean): Promise<void> {
  const db = openStateDatabase(state);
  try {
    await new SqlitePolicyVersionStore(db).attachVerdict(
      version,
      {
        pass,
        candidate: `shop@${version}`,
        baseline: 'shop@x',
        thresholds: { minPassRate: 0.95, maxPassRateDrop: 0.02, maxCostRatio: 1.1, maxP95LatencyRatio: 1.25 },
        suites: [],
        summary: pass ? 'passed' : 'failed',
      },
      { actor: 'ci', nowMs: Date.now() },
    );
  } finally {
    db.close();
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sy-rollout-cli-'));
  state = join(root, '.state');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('switchyard rollout', () => {
  it('starts a gated version, shows its status, rolls it back, and lists the audit trail', async () => {
    const v1 = await publish(1);
    const v2 = await publish(2);
    await attachVerdict(v2, true);
    const start = await cli('rollout', 'start', v2, '--reason', 'cheaper model');
    expect(start.code).toBe(0);
    expect(start.out).toMatch(
      new RegExp(`^ro_${v2}_\\w+: running, 5 % \\(candidate ${v2}\\)\\n {2}cheaper model\\n$`),
    );
    const status = await cli('rollout', 'status');
    expect(status.out).toContain(`policy    shop: stable ${v1} → candidate ${v2}`);
    expect(status.out).toContain('step      1/3: 5 % (candidate share now 5 %)');
    expect(status.out).toContain('waiting   hold 600 s more, 20 more candidate request(s)');
    expect((await cli('rollout', 'tick')).code).toBe(0);
    const back = await cli('rollout', 'rollback', '--reason', 'p95 regression seen in the studio');
    expect(back.out).toContain(': rolled_back, 5 %');
    const audit = await cli('rollout', 'audit');
    const lines = audit.out
      .trimEnd()
      .split('\n')
      .map((l) => l.split('\t').slice(1));
    expect(lines).toEqual([
      ['ops', 'version.published', v1, `published shop@${v1}`],
      ['ops', 'stable.set', v1, 'first published version of `shop`'],
      ['ops', 'version.published', v2, `published shop@${v2}`],
      ['ci', 'version.verdict', v2, 'gate passed: passed'],
      ['ops', 'rollout.started', expect.stringMatching(/^ro_/), 'cheaper model'],
      ['ops', 'rollout.rolled_back', expect.stringMatching(/^ro_/), 'p95 regression seen in the studio'],
    ]);
  });

  it('refuses a version whose gate failed unless forced, and a rollback with none active', async () => {
    await publish(1);
    const v2 = await publish(2);
    await attachVerdict(v2, false);
    const refused = await cli('rollout', 'start', v2);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('failed the eval gate; fix it or start with --force');
    const forced = await cli('rollout', 'start', v2, '--force', '--json');
    expect(JSON.parse(forced.out)).toMatchObject({ forced: true, status: 'running' });
    expect((await cli('rollout', 'promote')).code).toBe(0);
    const none = await cli('rollout', 'rollback');
    expect(none.code).toBe(1);
    expect(none.err).toContain('policy `shop` has no active rollout');
    expect((await cli('rollout', 'bogus')).code).toBe(1);
  });
});
