import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LedgerRow } from '../stores/ledger-store.ts';
import { MemoryLedgerStore } from '../stores/memory/memory-ledger-store.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';
import { publishPolicyVersion } from './publish-policy-version.ts';
import { RolloutController } from './rollout-controller.ts';
import { versionTestPolicy } from './version-test-policy.ts';

const minute = 60_000;
let db: DatabaseSync;
let store: SqlitePolicyVersionStore;
let ledger: MemoryLedgerStore;
let now: number;
let controller: RolloutController;

async function publish(price: number, verdict?: boolean, rollout?: string): Promise<string> {
  const { version } = await publishPolicyVersion(store, versionTestPolicy({ price, rollout }), {
    actor: 'alice',
    nowMs: now,
  });
  if (verdict !== undefined)
    await store.attachVerdict(
      version.version,
      {
        pass: verdict,
        candidate: version.version,
        baseline: 'b',
        thresholds: { minPassRate: 1, maxPassRateDrop: 0, maxCostRatio: 1, maxP95LatencyRatio: 1 },
        suites: [],
        summary: verdict ? 'passed' : 'failed: regression: pass rate 0.5 < 0.95',
      },
      { actor: 'ci', nowMs: now },
    );
  return version.version;
}

/** Ledger rows as the request path writes them: `policyVersion` is `name@version`. */
async function served(version: string, n: number, over: Partial<LedgerRow> = {}): Promise<void> {
  const rows: LedgerRow[] = Array.from({ length: n }, () => ({
    time: now,
    requestId: `req_${randomUUID()}`,
    tenant: 'default',
    keyId: 'k',
    policyVersion: `shop@${version}`,
    inputTokens: 100,
    outputTokens: 10,
    cachedTokens: 0,
    costUsd: 0.001,
    estimated: false,
    latencyMs: 100,
    status: 200,
    outcome: 'ok',
    retries: 0,
    escalations: 0,
    cacheStatus: 'miss',
    ...over,
  }));
  await ledger.append(rows);
}

beforeEach(() => {
  now = Date.UTC(2026, 0, 1);
  db = openStateDatabase(':memory:');
  store = new SqlitePolicyVersionStore(db);
  ledger = new MemoryLedgerStore();
  controller = new RolloutController({ store, ledger, clock: { now: () => now } });
});
afterEach(() => db.close());

const actions = async () => (await store.audit()).map((e) => e.action);

describe('starting a rollout', () => {
  it('refuses a version without a verdict or with a failing one, and audits the refusal', async () => {
    await publish(1, true);
    const untested = await publish(2);
    const failing = await publish(3, false);
    expect(await controller.start(untested, { actor: 'bob' })).toEqual({
      ok: false,
      reason: expect.stringContaining('has no gate verdict'),
    });
    expect(await controller.start(failing, { actor: 'bob' })).toEqual({
      ok: false,
      reason: `version \`${failing}\` failed the eval gate; fix it or start with --force`,
    });
    const refusals = (await store.audit()).filter((e) => e.action === 'rollout.refused');
    expect(refusals.map((e) => [e.actor, e.subject])).toEqual([
      ['bob', untested],
      ['bob', failing],
    ]);
    expect(await store.activeRollout('shop')).toBeUndefined();
  });

  it('starts a failing version when forced, and says so in the audit log', async () => {
    await publish(1, true);
    const failing = await publish(3, false);
    const started = await controller.start(failing, { actor: 'bob', force: true, reason: 'hotfix' });
    expect(started.ok && started.rollout).toMatchObject({ forced: true, status: 'running', stepIndex: 0 });
    const entry = (await store.audit()).at(-1);
    expect(entry).toMatchObject({ action: 'rollout.started', actor: 'bob', reason: 'hotfix' });
    expect(entry?.details).toMatchObject({ forced: true, verdict: { pass: false } });
  });

  it('refuses a second rollout while one is active, and an unknown version', async () => {
    await publish(1, true);
    const v2 = await publish(2, true);
    const v3 = await publish(3, true);
    expect((await controller.start(v2, { actor: 'a' })).ok).toBe(true);
    const second = await controller.start(v3, { actor: 'a' });
    expect(second.ok ? '' : second.reason).toMatch(/^rollout `ro_\w+` of `shop` is running/);
    expect(await controller.start('abcdef', { actor: 'a' })).toEqual({
      ok: false,
      reason: 'no published policy version `abcdef`',
    });
  });
});

describe('ticking a rollout', () => {
  it('advances after the hold with enough candidate requests, then promotes, auditing each step', async () => {
    const v1 = await publish(1, true);
    const v2 = await publish(2, true);
    await controller.start(v2, { actor: 'alice' });
    await served(v1, 200);
    await served(v2, 30);
    now += 5 * minute;
    expect((await controller.tick('shop'))?.evaluation.waitingFor).toEqual(['hold 300 s more']);
    now += 5 * minute;
    const advanced = await controller.tick('shop');
    expect(advanced?.rollout).toMatchObject({ stepIndex: 1, status: 'running' });
    // The next step's window starts now: the earlier requests do not count for it.
    now += 10 * minute;
    expect((await controller.tick('shop'))?.evaluation.waitingFor).toEqual(['20 more candidate request(s)']);
    await served(v1, 30);
    await served(v2, 30);
    now += 1;
    expect((await controller.tick('shop'))?.rollout.stepIndex).toBe(2);
    now += 10 * minute;
    await served(v2, 25);
    const done = await controller.tick('shop');
    expect(done?.rollout.status).toBe('promoted');
    expect(await store.stableVersion('shop')).toBe(v2);
    expect(await actions()).toEqual([
      'version.published',
      'stable.set',
      'version.verdict',
      'version.published',
      'version.verdict',
      'rollout.started',
      'rollout.advanced',
      'rollout.advanced',
      'rollout.promoted',
      'stable.set',
    ]);
    expect(await controller.tick('shop')).toBeUndefined();
  });

  it('rolls back automatically when the candidate errors, before the hold is over', async () => {
    const v1 = await publish(1, true);
    const v2 = await publish(2, true);
    await controller.start(v2, { actor: 'alice' });
    await served(v1, 100);
    await served(v2, 10, { outcome: 'error', status: 502 });
    now += minute;
    const report = await controller.tick('shop');
    expect(report?.rollout).toMatchObject({
      status: 'rolled_back',
      reason: 'automatic rollback at 5 %: errorRateDelta 1.000 > 0.01',
    });
    expect(await store.stableVersion('shop')).toBe(v1);
    const last = (await store.audit()).at(-1);
    expect(last).toMatchObject({ action: 'rollout.rolled_back', actor: 'rollout-controller' });
    expect(last?.details).toMatchObject({
      candidateVersion: v2,
      observed: { stable: { requests: 100, errors: 0 }, candidate: { requests: 10, errors: 10 } },
    });
  });
});

describe('operating a rollout by hand', () => {
  it('pauses, resumes, and promotes at once, each with who and why', async () => {
    await publish(1, true);
    const v2 = await publish(2, true);
    await controller.start(v2, { actor: 'alice' });
    expect((await controller.pause('shop', { actor: 'bob', reason: 'watching p95' })).ok).toBe(true);
    expect(await controller.pause('shop', { actor: 'bob' })).toMatchObject({ ok: false });
    now += minute;
    const resumed = await controller.resume('shop', { actor: 'bob' });
    expect(resumed.ok && resumed.rollout.stepStartedAtMs).toBe(now);
    expect((await controller.promote('shop', { actor: 'carol', reason: 'urgent fix' })).ok).toBe(true);
    expect(await store.stableVersion('shop')).toBe(v2);
    const manual = (await store.audit()).filter((e) => e.actor !== 'alice' && e.actor !== 'ci');
    expect(manual.map((e) => [e.action, e.actor, e.reason])).toEqual([
      ['rollout.paused', 'bob', 'watching p95'],
      ['rollout.resumed', 'bob', 'resumed by operator'],
      ['rollout.promoted', 'carol', 'urgent fix'],
      ['stable.set', 'carol', expect.stringMatching(/^promoted by rollout/)],
    ]);
    expect(await controller.rollback('shop', { actor: 'x' })).toEqual({
      ok: false,
      reason: 'policy `shop` has no active rollout',
    });
  });

  it('reports the live analysis of the active rollout', async () => {
    const v1 = await publish(1, true);
    const v2 = await publish(2, true);
    await controller.start(v2, { actor: 'alice' });
    await served(v1, 40);
    await served(v2, 5, { latencyMs: 300 });
    now += minute;
    const report = await controller.report('shop');
    expect(report?.observation.candidate).toMatchObject({ requests: 5, latencyP95Ms: 300 });
    expect(report?.evaluation.waitingFor).toEqual(['hold 540 s more', '15 more candidate request(s)']);
    expect(await controller.activeNames()).toEqual(['shop']);
  });
});

describe('ticking on a timer', () => {
  it('judges the rollout every interval and stops when asked', async () => {
    vi.useFakeTimers();
    try {
      const v1 = await publish(1, true);
      const v2 = await publish(2, true);
      await controller.start(v2, { actor: 'alice' });
      await served(v1, 50);
      await served(v2, 20, { outcome: 'error', status: 502 });
      now += minute;
      const errors: unknown[] = [];
      const stop = controller.tickEvery('shop', 5_000, (err) => errors.push(err));
      await vi.advanceTimersByTimeAsync(4_999);
      expect(await store.activeRollout('shop')).toBeDefined();
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(async () => expect(await store.activeRollout('shop')).toBeUndefined());
      stop();
      expect(errors).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});
