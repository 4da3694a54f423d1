import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BreakerSettings, BreakerStore } from './breaker-store.ts';

const settings: BreakerSettings = { failureRatio: 0.5, minRequests: 4, windowMs: 10_000, openMs: 5_000 };

/**
 * The behaviour every `BreakerStore` implementation must have. Call it from the implementation's
 * test file with a factory that returns a store; deployment ids are unique per test, so the store
 * may share its backing state between tests.
 */
export function runBreakerStoreContract(
  name: string,
  makeStore: () => BreakerStore | Promise<BreakerStore>,
): void {
  describe(`${name} breaker store contract`, () => {
    let store: BreakerStore;
    let dep: string;
    beforeEach(async () => {
      store = await makeStore();
      dep = `fast/${randomUUID()}`;
    });
    afterEach(async () => {
      await store.close();
    });

    /** Records outcomes one after another at `atMs`, resolving the last state. */
    async function recordAll(outcomes: string, atMs: number, s: BreakerSettings = settings) {
      let state = '';
      for (const o of outcomes) state = await store.record(dep, o === 'f' ? 'failure' : 'success', atMs, s);
      return state;
    }

    it('is closed for a deployment it never saw, and lets calls through', async () => {
      expect(await store.state([dep], 0)).toEqual({ [dep]: 'closed' });
      expect(await store.tryProbe(dep, 0)).toBe(true);
    });

    it('opens once the failure ratio over the window reaches the threshold with enough requests', async () => {
      expect(await recordAll('sfs', 1_000)).toBe('closed');
      expect(await recordAll('f', 1_000)).toBe('open');
      expect(await store.state([dep], 1_000)).toEqual({ [dep]: 'open' });
      expect(await store.tryProbe(dep, 1_000)).toBe(false);
    });

    it('stays closed below the minimum number of requests, even when all failed', async () => {
      expect(await recordAll('fff', 0)).toBe('closed');
    });

    it('stays closed below the failure ratio', async () => {
      expect(await recordAll('sssfsssf', 0)).toBe('closed');
    });

    it('never opens without a failure, even with a failure ratio of zero', async () => {
      expect(await recordAll('ssssss', 0, { ...settings, failureRatio: 0 })).toBe('closed');
    });

    it('forgets outcomes that slid out of the window', async () => {
      await recordAll('ff', 0);
      await recordAll('ss', 10_000);
      expect(await recordAll('s', 10_000)).toBe('closed');
      const other = `fast/${randomUUID()}`;
      await store.record(other, 'failure', 0, settings);
      await store.record(other, 'failure', 0, settings);
      await store.record(other, 'success', 9_000, settings);
      expect(await store.record(other, 'success', 9_000, settings)).toBe('open');
    });

    it('turns half-open after openMs and lets exactly one probe through', async () => {
      await recordAll('ffff', 0);
      expect(await store.state([dep], 4_999)).toEqual({ [dep]: 'open' });
      expect(await store.state([dep], 5_000)).toEqual({ [dep]: 'half_open' });
      const probes = await Promise.all(Array.from({ length: 20 }, () => store.tryProbe(dep, 5_000)));
      expect(probes.filter(Boolean)).toHaveLength(1);
      expect(await store.tryProbe(dep, 9_999)).toBe(false);
    });

    it('lets another probe go when the first never reported within openMs', async () => {
      await recordAll('ffff', 0);
      expect(await store.tryProbe(dep, 5_000)).toBe(true);
      expect(await store.tryProbe(dep, 10_000)).toBe(true);
      expect(await store.tryProbe(dep, 10_001)).toBe(false);
    });

    it('closes with a fresh window when the probe succeeds', async () => {
      await recordAll('ffff', 0);
      await store.tryProbe(dep, 5_000);
      expect(await store.record(dep, 'success', 5_100, settings)).toBe('closed');
      expect(await store.state([dep], 5_100)).toEqual({ [dep]: 'closed' });
      expect(await recordAll('fff', 5_200)).toBe('closed');
      expect(await store.tryProbe(dep, 5_200)).toBe(true);
    });

    it('opens again for openMs when the probe fails', async () => {
      await recordAll('ffff', 0);
      await store.tryProbe(dep, 6_000);
      expect(await store.record(dep, 'failure', 6_500, settings)).toBe('open');
      expect(await store.state([dep], 11_499)).toEqual({ [dep]: 'open' });
      expect(await store.state([dep], 11_500)).toEqual({ [dep]: 'half_open' });
      expect(await store.tryProbe(dep, 11_500)).toBe(true);
    });

    it('ignores outcomes of calls that finish while it is open', async () => {
      await recordAll('ffff', 0);
      expect(await recordAll('ssssss', 1_000)).toBe('open');
      expect(await store.state([dep], 5_000)).toEqual({ [dep]: 'half_open' });
    });

    it('opens once under concurrent failures and reports each deployment separately', async () => {
      const states = await Promise.all(
        Array.from({ length: 40 }, () => store.record(dep, 'failure', 0, settings)),
      );
      expect(states.filter((s) => s === 'closed')).toHaveLength(3);
      expect(await store.state([dep, 'fast/other'], 0)).toEqual({ [dep]: 'open', 'fast/other': 'closed' });
    });

    it('starts a fresh window when the window length changes', async () => {
      await recordAll('fff', 0);
      expect(await recordAll('f', 0, { ...settings, windowMs: 20_000 })).toBe('closed');
    });
  });
}
