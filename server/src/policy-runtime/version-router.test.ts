import type { DatabaseSync } from 'node:sqlite';
import { decide, factsWithDefaults, seededEnv } from '@switchyard/engine';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../stores/memory/memory-ledger-store.ts';
import { openStateDatabase } from '../stores/sqlite/open-state-database.ts';
import { SqlitePolicyVersionStore } from '../stores/sqlite/sqlite-policy-version-store.ts';
import { publishPolicyVersion } from './publish-policy-version.ts';
import { RolloutController } from './rollout-controller.ts';
import { VersionRouter } from './version-router.ts';
import { versionTestPolicy } from './version-test-policy.ts';

let db: DatabaseSync;
let store: SqlitePolicyVersionStore;
let now: number;
const clock = { now: () => now };
const logger = pino({ level: 'silent' });
let routers: VersionRouter[];
let controller: RolloutController;

function router(): VersionRouter {
  const r = new VersionRouter({ store, name: 'shop', logger, clock });
  routers.push(r);
  return r;
}

async function publish(price: number, rollout?: string, pass = true) {
  const { version } = await publishPolicyVersion(store, versionTestPolicy({ price, rollout }), {
    actor: 'test',
    nowMs: now,
  });
  await store.attachVerdict(
    version.version,
    {
      pass,
      candidate: version.version,
      baseline: 'b',
      thresholds: { minPassRate: 1, maxPassRateDrop: 0, maxCostRatio: 1, maxP95LatencyRatio: 1 },
      suites: [],
      summary: pass ? 'passed' : 'failed',
    },
    { actor: 'test', nowMs: now },
  );
  return version.version;
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ tenant: 'default', keyId: `key_${i}` }));

beforeEach(() => {
  now = 1_000_000;
  db = openStateDatabase(':memory:');
  store = new SqlitePolicyVersionStore(db);
  routers = [];
  controller = new RolloutController({ store, ledger: new MemoryLedgerStore(), clock });
});
afterEach(async () => {
  for (const r of routers) await r.close();
  db.close();
});

describe('VersionRouter', () => {
  it('serves nothing before a version is published, then the stable version to everyone', async () => {
    const r = router();
    await r.refresh();
    expect(r.pick({ tenant: 'default', keyId: 'k' })).toBeUndefined();
    const v1 = await publish(1);
    await r.refresh();
    const pick = r.pick({ tenant: 'default', keyId: 'k' });
    expect(pick).toMatchObject({ arm: 'stable', rollout: undefined, shadow: undefined });
    expect(pick?.policy.version).toBe(v1);
  });

  it('sends the rollout share of callers to the candidate, each caller always to the same arm, on every replica', async () => {
    const v1 = await publish(1);
    const v2 = await publish(2);
    await controller.start(v2, { actor: 'test' });
    const [a, b] = [router(), router()];
    await a.refresh();
    await b.refresh();
    expect(a.state).toMatchObject({ stableVersion: v1, candidateVersion: v2, percent: 5, shadow: false });
    const callers = keys(4000);
    const armsA = callers.map((c) => a.pick(c)?.arm);
    const armsB = callers.map((c) => b.pick(c)?.arm);
    expect(armsB).toEqual(armsA);
    const share = armsA.filter((x) => x === 'candidate').length / callers.length;
    // 4000 callers at 5 %: the standard deviation of the share is 0.34 points.
    expect(share).toBeGreaterThan(0.04);
    expect(share).toBeLessThan(0.06);
    const candidate = callers.find((c) => a.pick(c)?.arm === 'candidate')!;
    expect(a.pick(candidate)?.policy.version).toBe(v2);
    expect(a.pick(candidate)?.rollout).toMatchObject({ stepIndex: 0, percent: 5 });
    expect(callers.map((c) => a.pick(c)?.arm)).toEqual(armsA);
  });

  it('keeps a caller sticky by user when the rollout says so, falling back to the key', async () => {
    await publish(1);
    const v2 = await publish(2, '{ steps: [50, 100], stickyBy: user }');
    await controller.start(v2, { actor: 'test' });
    const r = router();
    await r.refresh();
    const arms = new Set(keys(50).map((k) => r.pick({ ...k, user: 'same-user' })?.arm));
    expect(arms.size).toBe(1);
    const byKey = new Set(keys(50).map((k) => r.pick(k)?.arm));
    expect(byKey).toEqual(new Set(['stable', 'candidate']));
  });

  it('serves stable in a shadow step, hands out the candidate to decide alongside, and tallies it', async () => {
    await publish(1);
    const v2 = await publish(4, '{ shadow: true, steps: [10, 100] }');
    const started = await controller.start(v2, { actor: 'test' });
    const r = router();
    await r.refresh();
    const pick = r.pick({ tenant: 'default', keyId: 'k' })!;
    expect(pick.arm).toBe('stable');
    expect(pick.shadow?.version).toBe(v2);
    const facts = factsWithDefaults({ model: 'auto' });
    const served = decide(pick.policy, facts, {}, seededEnv(now, 1));
    const shadow = decide(pick.shadow!, facts, {}, seededEnv(now, 1));
    r.observeShadow(pick, served, shadow, { inputTokens: 1_000_000, outputTokens: 0 });
    r.observeShadow(pick, served, shadow, { inputTokens: 1_000_000, outputTokens: 0 });
    await r.refresh();
    const id = started.ok ? started.rollout.id : '';
    expect(await store.shadowStats(id, 0)).toEqual({
      requests: 2,
      rerouted: 0,
      newDenials: 0,
      stableCostUsd: 2,
      predictedCostUsd: 8,
    });
  });

  it('returns all traffic to stable after a rollback and serves the candidate as stable after a promotion', async () => {
    const v1 = await publish(1);
    const v2 = await publish(2, '{ steps: [50, 100] }');
    await controller.start(v2, { actor: 'test' });
    const r = router();
    await r.refresh();
    expect(new Set(keys(100).map((k) => r.pick(k)?.arm))).toEqual(new Set(['stable', 'candidate']));
    await controller.rollback('shop', { actor: 'ops', reason: 'bad answers' });
    await r.refresh();
    expect(new Set(keys(100).map((k) => r.pick(k)?.policy.version))).toEqual(new Set([v1]));
    const v3 = await publish(3, '{ steps: [50, 100] }');
    await controller.start(v3, { actor: 'test' });
    await controller.promote('shop', { actor: 'ops' });
    await r.refresh();
    expect(r.state).toEqual({ stableVersion: v3, percent: 0, shadow: false, stickyBy: 'key' });
    expect(new Set(keys(100).map((k) => r.pick(k)?.policy.version))).toEqual(new Set([v3]));
  });

  it('hands out the chosen version with its provider bindings until released', async () => {
    await publish(1);
    const r = router();
    await r.refresh();
    const lease = r.acquire({ tenant: 'default', keyId: 'k' })!;
    expect(lease.active.providers.has('sim')).toBe(true);
    expect(lease.active.policy).toBe(lease.policy);
    lease.release();
  });
});
