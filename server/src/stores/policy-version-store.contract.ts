import { createHash } from 'node:crypto';
import {
  type GateVerdict,
  type RolloutState,
  rollbackRollout,
  rolloutSchema,
  startRollout,
} from '@switchyard/engine';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewPolicyVersion, PolicyVersionStore } from './policy-version-store.ts';

/** A version whose hash is derived from `seed`, so tests name versions without compiling. */
export function fakeVersion(seed: string, overrides: Partial<NewPolicyVersion> = {}): NewPolicyVersion {
  const hash = createHash('sha256').update(seed).digest('hex');
  return {
    version: hash.slice(0, 12),
    hash,
    name: 'default',
    files: [{ path: 'policy.yaml', text: `# ${seed}\n` }],
    ...overrides,
  };
}

const verdict = (pass: boolean): GateVerdict => ({
  pass,
  candidate: 'c',
  baseline: 'b',
  thresholds: { minPassRate: 0.95, maxPassRateDrop: 0.02, maxCostRatio: 1.1, maxP95LatencyRatio: 1.25 },
  suites: [],
  summary: pass ? 'passed 1 suite(s)' : 'failed: regression',
});

function rollout(id: string, stable: string, candidate: string, nowMs = 1_000): RolloutState {
  const t = startRollout({
    id,
    policyName: 'default',
    stableVersion: stable,
    candidateVersion: candidate,
    verdict: { pass: true },
    spec: rolloutSchema.parse({}),
    nowMs,
  });
  if (!t.ok) throw new Error(t.reason);
  return t.state;
}

const ctx = { actor: 'alice', nowMs: 1_000 };

/**
 * The behaviour every `PolicyVersionStore` implementation must have. Call it from the
 * implementation's test file with a factory that returns a fresh, empty store.
 */
export function runPolicyVersionStoreContract(
  name: string,
  createStore: () => PolicyVersionStore | Promise<PolicyVersionStore>,
): void {
  describe(`policy version store contract: ${name}`, () => {
    let store: PolicyVersionStore;
    beforeEach(async () => {
      store = await createStore();
    });
    afterEach(async () => {
      await store.close();
    });

    it('publishes a version once per hash and returns the stored one when published again', async () => {
      const v = fakeVersion('one', { gitCommit: 'abc123', author: 'alice', message: 'first' });
      const first = await store.publish(v, ctx);
      expect(first.created).toBe(true);
      expect(first.version).toEqual({ ...v, createdAt: 1_000, verdict: undefined });
      const again = await store.publish({ ...v, message: 'other words' }, { actor: 'bob', nowMs: 2_000 });
      expect(again).toEqual({ created: false, version: first.version });
      expect(await store.list()).toHaveLength(1);
    });

    it('finds a version by id, unique prefix, full hash or name@version', async () => {
      const v = fakeVersion('find');
      await store.publish(v, ctx);
      expect((await store.get(v.version))?.hash).toBe(v.hash);
      expect((await store.get(v.version.slice(0, 6)))?.hash).toBe(v.hash);
      expect((await store.get(v.hash))?.version).toBe(v.version);
      expect((await store.get(`default@${v.version}`))?.version).toBe(v.version);
      expect(await store.get(`other@${v.version}`)).toBeUndefined();
      expect(await store.get('policies/default')).toBeUndefined();
      expect(await store.get('ffffffffffff')).toBeUndefined();
    });

    it('rejects a version whose id is not its hash prefix', async () => {
      const v = fakeVersion('bad');
      await expect(store.publish({ ...v, version: 'abcdefabcdef' }, ctx)).rejects.toThrow(
        /first 12 digits of the hash/,
      );
    });

    it('lists versions newest first, per policy name', async () => {
      await store.publish(fakeVersion('a'), ctx);
      await store.publish(fakeVersion('b'), { actor: 'alice', nowMs: 2_000 });
      await store.publish(fakeVersion('c', { name: 'other' }), { actor: 'alice', nowMs: 3_000 });
      expect((await store.list()).map((v) => v.version)).toEqual(
        ['c', 'b', 'a'].map((s) => fakeVersion(s).version),
      );
      expect((await store.list({ name: 'default', limit: 1 })).map((v) => v.version)).toEqual([
        fakeVersion('b').version,
      ]);
    });

    it('makes the first version of a name stable, and only the first', async () => {
      const a = fakeVersion('a');
      expect(await store.stableVersion('default')).toBeUndefined();
      await store.publish(a, ctx);
      await store.publish(fakeVersion('b'), ctx);
      expect(await store.stableVersion('default')).toBe(a.version);
      expect((await store.audit()).map((e) => [e.action, e.subject])).toEqual([
        ['version.published', a.version],
        ['stable.set', a.version],
        ['version.published', fakeVersion('b').version],
      ]);
    });

    it('attaches a verdict once and audits it', async () => {
      const v = fakeVersion('v');
      await store.publish(v, ctx);
      expect(await store.attachVerdict(v.version, verdict(false), ctx)).toBe('attached');
      expect(await store.attachVerdict(v.version, verdict(true), ctx)).toBe('already');
      expect(await store.attachVerdict('ffffffffffff', verdict(true), ctx)).toBe('not_found');
      expect((await store.get(v.version))?.verdict?.pass).toBe(false);
      expect((await store.audit({ subjects: [v.version] })).at(-1)).toMatchObject({
        action: 'version.verdict',
        actor: 'alice',
        reason: 'gate failed: failed: regression',
      });
    });

    it('creates one active rollout per policy and updates it by compare-and-set', async () => {
      const state = rollout('ro_1', 'aaaa', 'bbbb');
      const audit = [{ at: 1_000, actor: 'alice', action: 'rollout.started', subject: 'ro_1', reason: 'go' }];
      expect(await store.commitRollout({ state, audit })).toBe(true);
      expect(await store.commitRollout({ state: rollout('ro_2', 'aaaa', 'cccc'), audit })).toBe(false);
      expect(await store.activeRollout('default')).toEqual({ state, revision: 1 });
      const paused = { ...state, status: 'paused' as const, updatedAtMs: 2_000 };
      expect(await store.commitRollout({ state: paused, expectedRevision: 1, audit: [] })).toBe(true);
      // A writer that read revision 1 lost the race.
      expect(await store.commitRollout({ state, expectedRevision: 1, audit: [] })).toBe(false);
      expect(await store.getRollout('ro_1')).toEqual({ state: paused, revision: 2 });
    });

    it('ends a rollout and moves the stable pointer with its audit lines in one commit', async () => {
      const a = fakeVersion('a');
      const b = fakeVersion('b');
      await store.publish(a, ctx);
      await store.publish(b, ctx);
      const state = rollout('ro_1', a.version, b.version);
      await store.commitRollout({ state, audit: [] });
      const promoted = { ...state, status: 'promoted' as const, endedAtMs: 5_000, updatedAtMs: 5_000 };
      const audit = [
        { at: 5_000, actor: 'bob', action: 'rollout.promoted', subject: 'ro_1', reason: 'held' },
        { at: 5_000, actor: 'bob', action: 'stable.set', subject: b.version, reason: 'promoted by ro_1' },
      ];
      expect(
        await store.commitRollout({ state: promoted, expectedRevision: 1, stableVersion: b.version, audit }),
      ).toBe(true);
      expect(await store.stableVersion('default')).toBe(b.version);
      expect(await store.activeRollout('default')).toBeUndefined();
      expect((await store.audit({ subjects: ['ro_1', b.version] })).map((e) => e.action)).toEqual([
        'version.published',
        'rollout.promoted',
        'stable.set',
      ]);
      // A new rollout may start once the previous one is over.
      expect(await store.commitRollout({ state: rollout('ro_2', b.version, a.version), audit: [] })).toBe(
        true,
      );
      expect((await store.listRollouts()).map((r) => r.state.id)).toEqual(['ro_2', 'ro_1']);
    });

    it('keeps a rejected commit out of the audit log', async () => {
      const state = rollout('ro_1', 'aaaa', 'bbbb');
      await store.commitRollout({ state, audit: [] });
      const back = rollbackRollout(state, 'bad', 2_000);
      if (!back.ok) throw new Error(back.reason);
      const audit = [
        { at: 2_000, actor: 'x', action: 'rollout.rolled_back', subject: 'ro_1', reason: 'bad' },
      ];
      expect(await store.commitRollout({ state: back.state, expectedRevision: 7, audit })).toBe(false);
      expect(await store.audit({ subjects: ['ro_1'] })).toEqual([]);
    });

    it('adds shadow tallies per rollout step', async () => {
      expect(await store.shadowStats('ro_1', 0)).toEqual({
        requests: 0,
        rerouted: 0,
        newDenials: 0,
        stableCostUsd: 0,
        predictedCostUsd: 0,
      });
      const delta = { requests: 3, rerouted: 1, newDenials: 0, stableCostUsd: 0.5, predictedCostUsd: 0.25 };
      await store.addShadowStats('ro_1', 0, delta);
      await store.addShadowStats('ro_1', 0, delta);
      await store.addShadowStats('ro_1', 1, delta);
      expect(await store.shadowStats('ro_1', 0)).toEqual({
        requests: 6,
        rerouted: 2,
        newDenials: 0,
        stableCostUsd: 1,
        predictedCostUsd: 0.5,
      });
    });

    it('appends audit entries in order with details, and filters them', async () => {
      const first = await store.appendAudit({
        at: 1,
        actor: 'alice',
        action: 'rollout.refused',
        subject: 'abc',
        reason: 'gate failed',
        details: { version: 'abc' },
      });
      const second = await store.appendAudit({
        at: 2,
        actor: 'bob',
        action: 'x',
        subject: 'def',
        reason: 'y',
      });
      expect(second.seq).toBeGreaterThan(first.seq);
      expect(await store.audit()).toEqual([first, second]);
      expect(await store.audit({ subjects: ['def'] })).toEqual([second]);
      expect(await store.audit({ afterSeq: first.seq })).toEqual([second]);
      expect(await store.audit({ subjects: [] })).toEqual([]);
    });
  });
}
