import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { PolicyFile } from '@switchyard/engine';
import {
  type AdapterFactory,
  createProviderAdapter,
  openStateDatabase,
  publishPolicyVersion,
  RolloutController,
  SqliteLedgerStore,
  SqlitePolicyVersionStore,
  UpstreamError,
  VersionRouter,
} from '@switchyard/server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGate } from './run-gate.ts';
import { defaultPolicyVariant } from './testing/default-policy-variants.ts';
import { VersionRoutingHarness } from './testing/version-routing-harness.ts';

/** Each step of the candidate's rollout needs 20 of its requests and a 10-minute hold. */
const rollout = `rollout:
  steps: [5, 50, 100]
  stickyBy: key
  holdMinutes: 10
  minRequests: 20
  abortIf: { errorRateDelta: 0.05, p95LatencyRatio: 50, costRatio: 1.5 }`;

function withRollout(files: PolicyFile[]): PolicyFile[] {
  return files.map((f) => ({ ...f, text: f.text.replace(/\nrollout:\n(?: {2}.*\n)+/, `\n${rollout}\n`) }));
}

const dir = mkdtempSync(join(tmpdir(), 'sy-rollout-e2e-'));
let db: DatabaseSync;
let store: SqlitePolicyVersionStore;
let ledger: SqliteLedgerStore;
let now = Date.UTC(2026, 0, 1, 9);
const clock = { now: () => now };
let router: VersionRouter;
let controller: RolloutController;
let harness: VersionRoutingHarness;
/** Versions whose deployments are down: their gateway's adapters fail every call. */
const outage = new Set<string>();

function faultyAdapters(version: string): AdapterFactory {
  return (spec, _name, options) => {
    const adapter = createProviderAdapter(spec, options);
    const fail = () => {
      if (outage.has(version))
        throw new UpstreamError(
          'simulated outage',
          'status',
          503,
          'upstream_error',
          'upstream_overloaded',
          503,
        );
    };
    return {
      chat: async (request, call) => {
        fail();
        return adapter.chat(request, call);
      },
      chatStream: async (request, call) => {
        fail();
        return adapter.chatStream(request, call);
      },
      embed: async (request, call) => {
        fail();
        return adapter.embed(request, call);
      },
      close: () => adapter.close(),
    };
  };
}

const keys = (from: number, n: number) => Array.from({ length: n }, (_, i) => `key_${from + i}`);

beforeAll(() => {
  db = openStateDatabase(dir);
  store = new SqlitePolicyVersionStore(db);
  ledger = new SqliteLedgerStore(db);
  router = new VersionRouter({ store, name: 'default', logger: pino({ level: 'silent' }), clock });
  controller = new RolloutController({ store, ledger, clock });
  harness = new VersionRoutingHarness({ router, ledger, now: clock.now, createAdapter: faultyAdapters });
});
afterAll(async () => {
  await harness.close();
  await router.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('eval-gated rollout, end to end', () => {
  const v1Files = withRollout(defaultPolicyVariant());
  const v2Files = withRollout(defaultPolicyVariant('cheaper-strong'));
  const v3Files = withRollout(defaultPolicyVariant('weak'));
  let v1: string;
  let v2: string;

  it('serves the first published version to everyone', async () => {
    ({
      version: { version: v1 },
    } = await publishPolicyVersion(store, v1Files, { actor: 'alice', nowMs: now }));
    await router.refresh();
    const served = await Promise.all(keys(0, 20).map((k) => harness.request(k)));
    expect(new Set(served.map((s) => s.servedPolicy))).toEqual(new Set([`default@${v1}`]));
    expect(served.every((s) => s.status === 200)).toBe(true);
  });

  it('gates the edited policy, starts a 5 % canary, and sends 5 % of callers to it, sticky', async () => {
    ({
      version: { version: v2 },
    } = await publishPolicyVersion(store, v2Files, {
      actor: 'alice',
      nowMs: now,
      message: 'cheaper strong tier',
    }));
    const { verdict } = await runGate({ candidate: { files: v2Files }, baseline: { files: v1Files } });
    expect(verdict.pass).toBe(true);
    await store.attachVerdict(v2, verdict, { actor: 'ci', nowMs: now });
    const started = await controller.start(v2, { actor: 'alice', reason: 'cheaper strong tier' });
    expect(started.ok && started.rollout.plan.steps[0]).toEqual({ percent: 5, shadow: false });
    await router.refresh();
    // 2000 distinct callers at 5 %: the share's standard deviation is 0.49 points; allow ±1.5.
    const callers = keys(1000, 2000);
    const arms = callers.map((k) => router.pick({ tenant: 'default', keyId: k })?.arm);
    const share = arms.filter((a) => a === 'candidate').length / callers.length;
    expect(share).toBeGreaterThanOrEqual(0.035);
    expect(share).toBeLessThanOrEqual(0.065);
    // Sticky: asked again, every caller gets the same version.
    expect(callers.map((k) => router.pick({ tenant: 'default', keyId: k })?.arm)).toEqual(arms);
    // Real requests land on the version the router picked.
    for (const k of callers.slice(0, 200)) {
      const r = await harness.request(k);
      expect(r.servedPolicy).toBe(`default@${r.arm === 'candidate' ? v2 : v1}`);
    }
    now += 2 * 60_000;
    const report = await controller.tick('default');
    expect(report?.rollout).toMatchObject({ status: 'running', stepIndex: 0 });
    expect(report?.evaluation.waitingFor[0]).toBe('hold 480 s more');
  });

  it('rolls back on its own when the candidate deployment fails, and all traffic returns to v1', async () => {
    outage.add(v2);
    const served = [];
    for (const k of keys(1000, 600)) served.push(await harness.request(k));
    const candidate = served.filter((s) => s.arm === 'candidate');
    expect(candidate.length).toBeGreaterThanOrEqual(10);
    expect(candidate.every((s) => s.status >= 500)).toBe(true);
    expect(served.filter((s) => s.arm === 'stable').every((s) => s.status === 200)).toBe(true);
    now += 60_000;
    const report = await controller.tick('default');
    expect(report?.rollout.status).toBe('rolled_back');
    expect(report?.rollout.reason).toMatch(/^automatic rollback at 5 %: errorRateDelta [01]\.\d{3} > 0\.05$/);
    await router.refresh();
    expect(router.state).toEqual({ stableVersion: v1, percent: 0, shadow: false, stickyBy: 'key' });
    const after = keys(1000, 2000).map((k) => router.pick({ tenant: 'default', keyId: k }));
    expect(after.every((p) => p?.arm === 'stable' && p.policy.version === v1)).toBe(true);
    for (const k of keys(1000, 30)) expect((await harness.request(k)).servedPolicy).toBe(`default@${v1}`);
  });

  it('refuses to roll out a version that fails the gate', async () => {
    const { version } = await publishPolicyVersion(store, v3Files, {
      actor: 'bob',
      nowMs: now,
      message: 'no escalation',
    });
    const { verdict } = await runGate({ candidate: { files: v3Files }, baseline: { files: v1Files } });
    expect(verdict.pass).toBe(false);
    await store.attachVerdict(version.version, verdict, { actor: 'ci', nowMs: now });
    const refused = await controller.start(version.version, { actor: 'bob' });
    expect(refused).toEqual({
      ok: false,
      reason: `version \`${version.version}\` failed the eval gate; fix it or start with --force`,
    });
    expect(await store.activeRollout('default')).toBeUndefined();
    await router.refresh();
    expect(router.state.stableVersion).toBe(v1);
  });

  it('leaves every step in the audit log, with who and why', async () => {
    const log = (await store.audit()).map((e) => [e.actor, e.action, e.reason]);
    expect(log).toEqual([
      ['alice', 'version.published', `published default@${v1}`],
      ['alice', 'stable.set', 'first published version of `default`'],
      ['alice', 'version.published', 'cheaper strong tier'],
      ['ci', 'version.verdict', expect.stringMatching(/^gate passed: passed 1 suite\(s\): regression 9\/9$/)],
      ['alice', 'rollout.started', 'cheaper strong tier'],
      ['rollout-controller', 'rollout.rolled_back', expect.stringMatching(/^automatic rollback at 5 %/)],
      ['bob', 'version.published', 'no escalation'],
      ['ci', 'version.verdict', expect.stringMatching(/^gate failed: failed: regression: pass rate/)],
      ['bob', 'rollout.refused', expect.stringContaining('failed the eval gate')],
    ]);
  });
});
